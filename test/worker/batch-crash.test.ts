// A batch job is never paid for twice, even when g7 is killed right after creating it: before its name
// reached the ledger (the next run finds it on the service by its display name), or after, before the state
// recorded it (the next run finds it in the ledger). Real g7 processes, killed with SIGKILL at named points.
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, type Factory } from '../factory/fixture.js';
import { fakeGemini, type FakeGemini } from '../fakes/gemini-server.js';
import { REPO, childEnv } from '../helpers.js';
import { PRICES } from './support.js';

let fake: FakeGemini;
let f: Factory;
beforeEach(async () => {
  fake = await fakeGemini({ keys: ['k-batch-crash'] });
  f = await factory([
    { id: 'L1_SCAN_000001', prio: 'A', input: ['doc001.md', 'doc002.md'], output: 'ssot/library_index/scan/1.jsonl' },
    { id: 'L2_TAG_000001', prio: 'A', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', deps: ['L1_SCAN_000001'], accept: 'json:ssot/library_index/tags/1.jsonl' },
  ]);
  await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 1024 }\nprices_per_mtok: ${JSON.stringify(PRICES)}\ngemini: { base_url: "${fake.url}", batch_min_requests: 2 }\n`);
});
afterEach(async () => fake.close());

function g7(fault?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; err: string }> {
  return new Promise((resolve) => {
    const env = childEnv({ GEMINI_API_KEY: 'k-batch-crash', ...(fault ? { G7_FAULT: fault } : {}) });
    const p = spawn(process.execPath, [path.join(REPO, 'bin/g7.mjs'), '--ssot', f.ssot, 'run', '--no-commit'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b) => (err += b));
    p.on('close', (code, signal) => resolve({ code, signal, err }));
  });
}
const on = (route: string) => fake.requests.filter((r) => r.route === route);
const state = async () => JSON.parse(await readFile(path.join(f.ssot, 'state/factory_state.json'), 'utf8'));

describe('batch jobs across crashes', () => {
  it.each([
    ['created, its name not yet recorded anywhere', 'batch.created@1', 1],
    ['recorded in the ledger, not yet in the state', 'card.executed@2', 0],
  ])('killed with the job %s: the next run takes it up instead of submitting again', async (_when, fault, lists) => {
    const killed = await g7(fault);
    expect(killed.signal, killed.err).toBe('SIGKILL');
    expect(on('batchGenerateContent')).toHaveLength(1);
    const again = await g7();
    expect(again.code, again.err).toBe(5);
    expect(on('batchGenerateContent')).toHaveLength(1);
    expect(on('batches.list')).toHaveLength(lists);
    expect((await state()).batches).toEqual([expect.objectContaining({ name: 'batches/fake1', card: 'L2_TAG_000001' })]);
    fake.finishBatches();
    const done = await g7();
    expect(done.code, done.err).toBe(0);
    expect(on('batchGenerateContent')).toHaveLength(1);
    expect(on('generateContent')).toHaveLength(0);
  });

  it.each([
    ['its first job created, not yet recorded', 0],
    ['its second job created (a run later, once the first was done), not yet recorded', 1],
  ])('a submission cut into parts, killed with %s: the next run creates only the parts not yet created', async (_when, runsFirst) => {
    // A limit that makes the card's requests two or more jobs (the fake itself would take them all at once).
    await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 1024 }\nprices_per_mtok: ${JSON.stringify(PRICES)}\ngemini: { base_url: "${fake.url}", batch_min_requests: 2, batch_enqueued_tokens: { gemini-2.5-flash-lite: 1500 } }\n`);
    for (let i = 0; i < runsFirst; i++) {
      expect((await g7()).code).toBe(5);
      fake.finishBatches();
    }
    const killed = await g7('batch.created@1');
    expect(killed.signal, killed.err).toBe('SIGKILL');
    expect(on('batchGenerateContent')).toHaveLength(runsFirst + 1);
    for (let i = 0; i < 10; i++) {
      const r = await g7();
      if (r.code === 0) break;
      expect(r.code, r.err).toBe(5);
      fake.finishBatches();
    }
    const created = on('batchGenerateContent').filter((r) => r.status === 200);
    const names = created.map((r) => (r.body as { batch: { displayName: string } }).batch.displayName);
    expect(new Set(names).size).toBe(names.length); // no part created twice
    expect(names.length).toBeGreaterThanOrEqual(2);
    const keys = created.flatMap((r) => (r.body as { batch: { inputConfig: { requests: { requests: { metadata: { key: string } }[] } } } }).batch.inputConfig.requests.requests.map((x) => x.metadata.key));
    expect(new Set(keys).size).toBe(keys.length);
    expect(on('generateContent')).toHaveLength(0);
  });
});
