// `g7 coreloop backfill`: audit records rebuilt from run evidence that has none (runs from before Observe
// wrote them, or with G7_AUDIT_DISABLE=1), so that the loop can learn from history. Every attempt of every
// card names its worker calls by request hash (result.json); the response cache holds each request and its
// answer; accept.json and triage.json say how the attempt went. The records come out exactly as the run loop
// would have written them (the same builder). A call already in the log (by request id) is not added twice;
// a call whose request the cache does not hold cannot be rebuilt and is counted. Dry run unless --confirm.
import path from 'node:path';
import { readFile, readdir } from 'node:fs/promises';
import type { WorkCard } from '../contracts/types.gen.js';
import { G7Error } from '../contracts/errors.js';
import type { Layout } from '../ssot/layout.js';
import { listRuns, readAttempts } from '../factory/evidence.js';
import { callRecords, type NotedCall } from '../factory/observe.js';
import { callMeta } from '../executors/answers.js';
import { cacheEntryFile, type CacheEntry } from '../worker/cached.js';
import { rebuildRequest } from '../executors/rebuild.js';
import type { WorkerRequest, WorkerResponse } from '../worker/worker.js';
import { auditLog, type AuditCall } from './audit.js';
import { bulletIds } from './skill/bullets.js';
import { forEachRecord, requestHashOf } from './records.js';
import { auditFiles, auditPlace } from '../ssot/audit-store.js';

export interface BackfillResult {
  runs: number;
  attempts: number;
  /** Worker calls named by the evidence. */
  calls: number;
  /** Records rebuilt (written with --confirm). */
  rebuilt: number;
  /** Calls whose record is already in the log. */
  present: number;
  /** Calls the cache holds no request for (recorded before requests were kept, or the cache was cleared). */
  unrecorded: number;
  written: number;
  failed: string | undefined;
}

const json = async <T>(file: string): Promise<T | undefined> => {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
};

/** The requests the log has a record of (by digest: a record's id is its own, the request's digest is shared). */
async function presentRequests(layout: Layout, display: (p: string) => string): Promise<Set<string>> {
  const all = { since: '0000-01-01T00:00:00Z', until: '9999-12-31T23:59:59Z' };
  const hashes = new Set<string>();
  await forEachRecord(await auditFiles(auditPlace(layout), all), all, (r) => hashes.add(requestHashOf(r)), display);
  return hashes;
}

export async function backfill(o: { layout: Layout; libraryRoot: string; skills: Record<string, string>; confirm: boolean; display: (p: string) => string }): Promise<BackfillResult> {
  const out: BackfillResult = { runs: 0, attempts: 0, calls: 0, rebuilt: 0, present: 0, unrecorded: 0, written: 0, failed: undefined };
  const present = await presentRequests(o.layout, o.display);
  const has = (hash: string) => present.has(hash) || present.has(hash.slice(0, 16));
  const legacyDir = path.join(o.layout.stateDir, 'cache');
  const at = { repoRoot: o.layout.repoRoot, libraryRoot: o.libraryRoot, cacheDir: o.layout.cacheDir };
  /** The call's request and answer: from the store (the request rebuilt from its files), or the cache before it (which kept requests whole). */
  const recorded = async (hash: string): Promise<{ request: WorkerRequest; response: WorkerResponse; recorded_at: string } | undefined> => {
    const entry = await json<CacheEntry>(cacheEntryFile(o.layout.cacheDir, hash));
    if (entry) {
      const request = await rebuildRequest(entry, at);
      return 'why' in request ? undefined : { request, response: entry.response, recorded_at: entry.recorded_at };
    }
    const old = await json<{ request?: WorkerRequest; response: WorkerResponse; recorded_at: string }>(path.join(legacyDir, hash.slice(0, 2), `${hash}.json`));
    return old?.request ? { request: old.request, response: old.response, recorded_at: old.recorded_at } : undefined;
  };
  const calls: AuditCall[] = [];
  for (const run of await listRuns(o.layout)) {
    out.runs++;
    const cardsDir = path.join(o.layout.runsDir, run, 'cards');
    for (const name of (await readdir(cardsDir).catch(() => [] as string[])).sort()) {
      const dir = path.join(cardsDir, name);
      const card = await json<WorkCard>(path.join(dir, 'card.json'));
      if (!card) continue;
      for (const result of await readAttempts(dir)) {
        if (!result.worker_calls?.length) continue;
        out.attempts++;
        const accept = { accept: result.accept, fired: result.fired };
        const triage = result.triage;
        const noted: NotedCall[] = [];
        let skillText = '';
        for (const call of result.worker_calls) {
          out.calls++;
          if (has(call.hash)) {
            out.present++;
            continue;
          }
          const entry = await recorded(call.hash);
          if (!entry) {
            out.unrecorded++;
            continue;
          }
          skillText ||= entry.request.skill ?? '';
          noted.push({ req: entry.request, meta: callMeta(entry.request.task), startedAt: entry.recorded_at, durationMs: call.cached ? 0 : entry.response.duration_ms, outcome: { response: entry.response, hash: call.hash, cached: call.cached } });
        }
        if (noted.length === 0) continue;
        // The executor threw exactly when no accept rule was evaluated.
        const error = !result.pass && accept.accept.length === 0 ? new G7Error(triage?.class ?? 'SCHEMA', [{ file: card.id, rule: 'backfill', message: triage?.reason ?? 'the card failed' }], { summary: triage?.reason }) : undefined;
        const rebuilt = callRecords(card, { target: o.skills[card.type] ?? null, bullets: bulletIds(skillText) }, noted, { attempt: result.attempt, error, accept: accept.accept, failfast: { fired: accept.fired } });
        for (const r of rebuilt) present.add(r.requestHash);
        calls.push(...rebuilt);
      }
    }
  }
  out.rebuilt = calls.length;
  if (o.confirm) {
    const w = await auditLog(auditPlace(o.layout).storeDir, true).write(calls);
    out.written = w.written;
    out.failed = w.failed;
  }
  return out;
}
