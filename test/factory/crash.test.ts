// Crash anywhere, lose nothing: a 120-card truck is killed with SIGKILL at 30+ chosen points (inside a
// card, while writing evidence, while appending the journal, mid-line, while committing) and resumed each
// time. Then: every card exactly once in the report, every manifest verifies, no torn line anywhere, and no
// recorded worker response was ever paid for twice.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, runDir, type CardSpec } from './fixture.js';
import { REPO, childEnv } from '../helpers.js';
import { verifyRun, listRuns } from '../../src/factory/evidence.js';
import { isMarkedReplay } from '../../src/coreloop/records.js';

const pad = (n: number) => String(n).padStart(6, '0');
function truckOf120(): CardSpec[] {
  const scan = Array.from({ length: 40 }, (_, i) => ({ id: `L1_SCAN_${pad(i + 1)}`, prio: 'A' as const, input: [`doc${String(i + 1).padStart(3, '0')}.md`], output: `ssot/library_index/scan/${i + 1}.jsonl`, accept: `lines>=1:ssot/library_index/scan/${i + 1}.jsonl` }));
  const tag = (n: number, prio: 'A' | 'C', lane: number) => ({ id: `L${lane}_TAG_${pad(n)}`, prio, input: `ssot/library_index/scan/${n}.jsonl`, output: `ssot/library_index/tags/${n}.jsonl`, accept: `json:ssot/library_index/tags/${n}.jsonl`, deps: [`L1_SCAN_${pad(n)}`] });
  const tagsA = Array.from({ length: 20 }, (_, i) => tag(i + 1, 'A', 2));
  const tests = Array.from({ length: 36 }, (_, i) => ({ id: `L3_TEST_${pad(i + 1)}`, prio: 'B' as const, input: `printf ok-${i + 1}`, output: `ssot/out/test-${i + 1}.txt`, accept: 'exit==0 && stdout~/ok-/' }));
  const tagsC = Array.from({ length: 18 }, (_, i) => tag(i + 21, 'C', 4));
  const verify = Array.from({ length: 6 }, (_, i) => ({ id: `L5_VERIFY_${pad(i + 1)}`, prio: 'D' as const, input: 'ssot/library_index', output: `ssot/out/seal-${i + 1}.json`, deps: [`L2_TAG_${pad(i + 1)}`, `L4_TAG_${pad(i + 21)}`] }));
  return [...scan, ...tagsA, ...tests, ...tagsC, ...verify];
}

// point@n: die the n-th time this process passes the point. Per bundle: five kills inside cards (each costs
// about one card of progress), then one while the bundle is checkpointed. Every process also carries
// checkpoint.evidence@1, so a point its bundle never reaches (a worker point in a TEST bundle) cannot let
// it run the rest of the truck.
const CARD_POINTS = [
  ['card.start@2', 'journal.torn@2', 'card.executed@2', 'card.evidence@2', 'journal.append@2'],
  ['worker.called@2', 'atomic.rename@3', 'journal.torn@3', 'card.start@3', 'worker.cached@2'],
];
const CHECKPOINT_POINTS = ['checkpoint.evidence@1', 'checkpoint.state@1', 'git.staged@1', 'git.committing@1', 'checkpoint.state@1', 'git.committing@1'];
const SCHEDULE = CHECKPOINT_POINTS.flatMap((cp, b) => [...CARD_POINTS[b % 2]!, cp]);

function g7(ssot: string, fault?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> {
  return new Promise((resolve) => {
    const env = childEnv(fault ? { G7_FAULT: fault } : {});
    const p = spawn(process.execPath, [path.join(REPO, 'bin/g7.mjs'), '--ssot', ssot, 'run'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b) => (err += b));
    p.on('close', (code, signal) => resolve({ code, signal, err }));
  });
}

async function jsonlFiles(dir: string, out: string[] = []): Promise<string[]> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await jsonlFiles(p, out);
    else if (e.name.endsWith('.jsonl')) out.push(p);
  }
  return out;
}

describe('crash-resume', () => {
  it('loses nothing when g7 run is killed at 30+ points of a 120-card truck', { timeout: 600_000 }, async () => {
    const f = await factory(truckOf120(), { libraryFiles: 40 });
    const packet = (await readFile(path.join(f.ssot, 'packets/20261121/round_01/packet_A.jsonl'), 'utf8')).trim().split('\n');
    expect(packet).toHaveLength(120);

    const kills: string[] = [];
    for (const fault of SCHEDULE) {
      const r = await g7(f.ssot, `${fault},checkpoint.evidence@1`);
      if (r.signal === 'SIGKILL') kills.push(fault);
      else {
        expect(r.code, r.err).toBe(0);
        break; // the truck finished before this point was reached
      }
    }
    expect(kills.length, `kills: ${kills.join(' ')}`).toBeGreaterThanOrEqual(30);
    const last = await g7(f.ssot);
    expect(last.code, last.err).toBe(0);

    // Every card exactly once, all passed, in the one run that the crashes kept resuming.
    const runs = await listRuns(f.layout);
    const report = JSON.parse(await readFile(path.join(runDir(f, runs.at(-1)!), 'verify_report.json'), 'utf8'));
    const all = [] as { id: string; status: string }[];
    for (const run of runs) all.push(...JSON.parse(await readFile(path.join(runDir(f, run), 'verify_report.json'), 'utf8')).cards);
    const ids = all.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(packet.map((l) => JSON.parse(l).card.id).sort());
    expect(all.every((c) => c.status === 'PASS')).toBe(true);
    expect(report.state).toBe('READY');

    // Every manifest verifies.
    for (const run of runs) {
      const v = await verifyRun(f.layout, run, (p) => p);
      expect(v.problems, run).toEqual([]);
      expect(v.complete).toBe(true);
    }

    // No torn line anywhere: every JSONL line parses and every file ends with a newline.
    for (const file of await jsonlFiles(f.ssot)) {
      const text = await readFile(file, 'utf8');
      if (text === '') continue;
      expect(text.endsWith('\n'), file).toBe(true);
      for (const line of text.trim().split('\n')) expect(() => JSON.parse(line), `${file}: ${line.slice(0, 80)}`).not.toThrow();
    }

    // Worker calls: each recorded response was paid for once. A card's audit lines are written when its
    // attempt ends; a card killed before that runs again on resume, its calls answered from the cache, and
    // those lines say `cached`. So an answered request has exactly one paid line, and every cached answer
    // has a line (the truck finished, so every card finished an attempt that used it).
    const cacheDir = path.join(f.ssot, 'store', 'cache');
    const cached = new Set<string>();
    for (const n of (await readdir(cacheDir, { recursive: true })).map(String)) if (/^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}\.json$/.test(n)) cached.add(path.basename(n, '.json').slice(0, 16));
    const auditDir = path.join(f.ssot, 'store', 'audit', 'ai-ask');
    const auditFiles = (await readdir(auditDir, { recursive: true })).map(String).filter((n) => n.endsWith('.jsonl'));
    const paid = new Map<string, number>();
    const audited = new Set<string>();
    for (const a of auditFiles)
      for (const line of (await readFile(path.join(auditDir, a), 'utf8')).trim().split('\n')) {
        const rec = JSON.parse(line);
        const ask = rec.tool_calls.find((t: { name: string }) => t.name === 'ask');
        if (!ask.ok) continue;
        // Each record has an id of its own; the request it answered is its request_hash (the cache's key).
        const req = String(rec.request_hash).replace(/^sha256:/, '').slice(0, 16);
        audited.add(req);
        // The record says it is a replay where its ask step does, so coreloop's readers skip it as a case.
        expect(isMarkedReplay(rec), line.slice(0, 80)).toBe(JSON.parse(ask.args).cached === true);
        if (!JSON.parse(ask.args).cached) paid.set(req, (paid.get(req) ?? 0) + 1);
      }
    expect([...paid.values()].every((n) => n === 1)).toBe(true);
    for (const h of audited) expect(cached.has(h)).toBe(true);
    const unaudited = [...cached].filter((h) => !audited.has(h)).length;
    expect(unaudited).toBe(0);

    // The strike list has no line twice, and git holds everything.
    const strikes = (await readFile(path.join(f.ssot, 'library_index/strike_list.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).key);
    expect(new Set(strikes).size).toBe(strikes.length);
    expect(f.git('status', '--porcelain', '--', 'ssot')).toBe('');
    console.log(`crash test: ${kills.length} kills, ${runs.length} run(s), ${cached.size} worker responses cached, ${paid.size} paid audit lines, ${unaudited} without one`);
  });
});
