// The call site every worker request goes through: a response cache keyed by the hash of the whole
// request (so a resumed truck never pays twice for a response already received), then the audit line.
// Order matters: the cache is written before the audit line, so a crash between them can lose an audit
// line but can never cause a second paid call for a recorded response.
import path from 'node:path';
import { readFile, access } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { writeJsonAtomic } from '../ssot/atomic.js';
import type { AuditLog } from '../coreloop/audit.js';
import { WorkerError, type Worker, type WorkerRequest, type WorkerResponse } from './worker.js';
import { G7Error } from '../contracts/errors.js';
import { faultPoint } from '../host/faults.js';

export function requestHash(req: WorkerRequest): string {
  return createHash('sha256').update(JSON.stringify(req)).digest('hex');
}

export interface CallOutcome {
  response: WorkerResponse;
  hash: string;
  cached: boolean;
}

export interface CachedWorker {
  call(req: WorkerRequest, meta: { category: string; question: string }): Promise<CallOutcome>;
  /** Calls made (not served from the cache) in this process. */
  readonly paidCalls: number;
  /** True when the worker has a batch mode. */
  readonly canBatch: boolean;
  /** How many of these requests have no recorded answer yet. */
  uncached(reqs: WorkerRequest[]): Promise<number>;
  /** Submits the uncached requests as one batch job; returns its name. */
  batchSubmit(reqs: WorkerRequest[], displayName: string): Promise<string>;
  /** Polls a job; when done, records every answer in the cache (so the card then finds them all there). */
  batchCollect(name: string, reqs: WorkerRequest[], meta: (req: WorkerRequest) => { category: string; question: string }): Promise<{ done: boolean; state: string; answered: number; failed: number }>;
}

export function cachedWorker(inner: Worker, cacheDir: string, audit: AuditLog, now: () => string): CachedWorker {
  let paid = 0;
  const fileOf = (hash: string) => path.join(cacheDir, hash.slice(0, 2), `${hash}.json`);
  const isCached = (hash: string) => access(fileOf(hash)).then(() => true, () => false);
  type Meta = { category: string; question: string };
  /** One audit line per worker call, answered or failed. */
  const auditCall = (req: WorkerRequest, hash: string, meta: Meta, outcome: { response: WorkerResponse } | { error: string; durationMs: number; provider: string }) => {
    const r = 'response' in outcome ? outcome.response : undefined;
    const size = r ? Buffer.byteLength(JSON.stringify(r.json)) : 0;
    return audit.write({
      ts: now(), requestId: hash.slice(0, 16), question: meta.question, questionHash: hash, category: meta.category,
      provider: r?.provider ?? ('provider' in outcome ? outcome.provider : inner.provider), model: r?.model ?? '', toolName: req.task.kind,
      args: JSON.stringify({ card: req.card, kind: req.task.kind, rework: req.previous_failure !== undefined }),
      ok: r !== undefined, error: 'error' in outcome ? outcome.error : null, durationMs: r ? r.duration_ms : 'durationMs' in outcome ? outcome.durationMs : 0,
      resultSizeBytes: size, tokens: r?.tokens ?? { in: 0, out: 0 }, chunkLen: size, skillUsed: req.skill ? 'skill' : null,
      extremeFlags: r ? [...(r.retries?.length ? [`retries:${r.retries.length}`] : []), ...(r.finish_reason !== 'STOP' ? [`finish:${r.finish_reason}`] : [])] : [],
      overrides: (r?.retries ?? []).map((x) => ({ tool: req.task.kind, override_keys: ['retry'], trigger: `HTTP ${x.status ?? 'timeout'}, waited ${x.waited_ms} ms`, succeeded: true })),
    });
  };
  /** A paid answer is recorded in the cache first, then audited: a crash between loses an audit line, never money. */
  const record = async (req: WorkerRequest, hash: string, response: WorkerResponse, meta: Meta) => {
    faultPoint('worker.called');
    await writeJsonAtomic(fileOf(hash), { request_hash: hash, recorded_at: now(), response });
    faultPoint('worker.cached');
    await auditCall(req, hash, meta, { response });
  };
  return {
    get paidCalls() {
      return paid;
    },
    canBatch: inner.batch !== undefined,
    async uncached(reqs) {
      let n = 0;
      for (const r of reqs) if (!(await isCached(requestHash(r)))) n++;
      return n;
    },
    async batchSubmit(reqs, displayName) {
      const todo: { key: string; req: WorkerRequest }[] = [];
      for (const req of reqs) {
        const key = requestHash(req);
        if (!(await isCached(key)) && !todo.some((t) => t.key === key)) todo.push({ key, req });
      }
      paid += todo.length;
      return inner.batch!.submit(todo, displayName);
    },
    async batchCollect(name, reqs, meta) {
      const all = reqs.map((req) => ({ key: requestHash(req), req }));
      const r = await inner.batch!.poll(name, all);
      let answered = 0;
      let failed = 0;
      for (const { key, req } of all) {
        const got = r.results.get(key);
        if (!got) continue;
        if (got instanceof Error) {
          failed++;
          continue;
        }
        if (!(await isCached(key))) await record(req, key, got, meta(req));
        answered++;
      }
      return { done: r.done, state: r.state, answered, failed };
    },
    async call(req, meta) {
      const hash = requestHash(req);
      try {
        const hit = JSON.parse(await readFile(fileOf(hash), 'utf8')) as { response: WorkerResponse };
        return { response: hit.response, hash, cached: true };
      } catch {
        /* not cached */
      }
      const started = performance.now();
      let response: WorkerResponse;
      try {
        paid++;
        response = await inner.call(req);
      } catch (err) {
        const e = err instanceof G7Error ? err : new WorkerError(`worker failed: ${(err as Error).message}`, { transient: true });
        await auditCall(req, hash, meta, { error: e.summary ?? e.message, durationMs: performance.now() - started, provider: inner.provider });
        throw e;
      }
      await record(req, hash, response, meta);
      return { response, hash, cached: false };
    },
  };
}
