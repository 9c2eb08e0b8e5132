// Batches that fit the Batch API's quota, through `g7 run` and the real SDK against a fake that enforces
// the per-model enqueued-token limit and the cap on jobs at once with the service's bare 429: a TAG volume
// over the limit goes as several jobs, none refused, all collected, each request sent once; at most the
// configured number of jobs is in flight; and a 429 on create (the project's queue is fuller than the
// factory knows) waits for running jobs instead of failing the card.
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { factory, type Factory } from '../factory/fixture.js';
import { fakeGemini, type FakeGemini } from '../fakes/gemini-server.js';
import { main } from '../../src/cli/main.js';
import { geminiOn, PRICES, TAG } from './support.js';
import { TokenCalibration } from '../../src/worker/tokens.js';
import type { TagTask } from '../../src/worker/worker.js';
import { Budget } from '../../src/worker/gemini/budget.js';

const MODEL = 'gemini-2.5-flash-lite';
let fake: FakeGemini;
let f: Factory;

/** Six library files; `cards` TAG cards over one scan of them all, or with `own`, each over a scan of two files of its own. */
async function setup(gemini: string, cards = 1, own = false) {
  const docs = ['doc001.md', 'doc002.md', 'doc003.md', 'doc004.md', 'doc005.md', 'doc006.md'];
  const scans = own ? Array.from({ length: cards }, (_, i) => docs.slice(2 * i, 2 * i + 2)) : [docs];
  f = await factory([
    ...scans.map((input, i) => ({ id: `L1_SCAN_00000${i + 1}`, prio: 'A' as const, input, output: `ssot/library_index/scan/${i + 1}.jsonl` })),
    ...Array.from({ length: cards }, (_, i) => ({ id: `L2_TAG_00000${i + 1}`, prio: 'A' as const, input: `ssot/library_index/scan/${own ? i + 1 : 1}.jsonl`, output: `ssot/library_index/tags/${i + 1}.jsonl`, deps: [`L1_SCAN_00000${own ? i + 1 : 1}`] })),
  ], { libraryFiles: 6 });
  await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 1024 }\nmodels: { LOW: ${MODEL} }\nprices_per_mtok: ${JSON.stringify(PRICES)}\ngemini: { base_url: "${fake.url}", batch_min_requests: 2${gemini} }\n`);
}
beforeEach(async () => {
  fake = await fakeGemini({ keys: ['k'] });
  tokens = undefined;
});

/** The estimator calibrated as a night leaves it: from the service's own count of a few of these prompts (countTokens, free). */
async function calibrate() {
  tokens = await TokenCalibration.load(undefined);
  const worker = await geminiOn(fake, { tokens });
  const text = await readFile(path.join(f.root, 'library/doc001.md'), 'utf8');
  for (const at of [0, 700]) {
    const built = worker.request({ ...TAG, task: { ...(TAG.task as TagTask), chunk: { path: 'doc001.md', offset: at, length: 1024, sha256: '', text: text.slice(at, at + 1024) }, taxonomy: { tags: [{ name: 'risk', keywords: ['going-concern', 'related-party'], strike: true }, { name: 'money', regex: ['KRW \\d+'] }] } } });
    tokens.observe(MODEL, built.profile, await worker.countTokens(built));
  }
}
afterEach(async () => fake.close());

let tokens: TokenCalibration | undefined;
async function run() {
  const worker = await geminiOn(fake, { budget: new Budget(path.join(f.ssot, 'state'), { per_truck_usd: 5, per_night_usd: 10 }, () => '20261121'), thinkingBudget: { LOW: 0, MID: 512, HIGH: 1024 }, ...(tokens ? { tokens } : {}) });
  const err: string[] = [];
  const code = await main(['--ssot', f.ssot, 'run', '--no-commit'], { out: () => {}, err: (s) => err.push(s) }, worker);
  return { code, err: err.join('\n') };
}
/** Runs, finishing the jobs in flight between runs, until the truck is done; returns the runs it took. */
async function runToEnd(): Promise<number> {
  for (let runs = 1; runs <= 30; runs++) {
    const r = await run();
    if (r.code === 0) return runs;
    expect(r.code, r.err).toBe(5); // RECOVERABLE: waiting for jobs, never a failure
    fake.finishBatches();
  }
  throw new Error('the truck never finished');
}
const creates = () => fake.requests.filter((r) => r.route === 'batchGenerateContent');
const sent = () => creates().filter((r) => r.status === 200).flatMap((r) => ((r.body as { batch: { inputConfig: { requests: { requests: { metadata: { key: string } }[] } } } }).batch.inputConfig.requests.requests).map((x) => x.metadata.key));
const chunks = async () => (await readFile(path.join(f.ssot, 'library_index/scan/1.jsonl'), 'utf8')).trim().split('\n').length;
const ledger = async () => Promise.all((await readdir(path.join(f.ssot, 'state/batches'))).map(async (n) => JSON.parse(await readFile(path.join(f.ssot, 'state/batches', n), 'utf8')) as { status: string; tokens: number; part?: number; parts?: number }));
const tagLines = async (n = 1) => (await readFile(path.join(f.ssot, `library_index/tags/${n}.jsonl`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { sha256: string; why: string });

describe('batches that fit the quota', () => {
  it('a TAG volume over the enqueued-token limit: several jobs, none refused, all collected, each request sent once', async () => {
    fake.batchEnqueuedTokens[MODEL] = 2400;
    await setup(`, tier: 1, batch_enqueued_tokens: { ${MODEL}: 2400 }`);
    await calibrate();
    const runs = await runToEnd();
    const parts = await ledger();
    console.log(`${await chunks()} chunks in ${parts.length} jobs (${parts.map((p) => p.tokens).join(', ')} tokens estimated; the fake's peak ${fake.peak.tokens[MODEL]} of 2400) over ${runs} runs`);
    expect(parts.length).toBeGreaterThanOrEqual(3);
    expect(parts.every((p) => p.status === 'MERGED' && p.parts === parts.length)).toBe(true);
    expect(creates().every((r) => r.status === 200)).toBe(true); // none refused
    expect(fake.peak.tokens[MODEL]).toBeLessThanOrEqual(2400);
    // paid / unique = 1.00: every distinct request in exactly one job, nothing asked online.
    const keys = sent();
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(new Set((await tagLines()).map((t) => t.sha256)).size);
    expect(fake.requests.filter((r) => r.route === 'generateContent')).toHaveLength(0);
    for (const t of await tagLines()) expect(t.why).toMatch(new RegExp(` in chunk ${t.sha256.slice(0, 12)}$`));
  });

  it('keeps at most gemini.max_batch_jobs in flight', async () => {
    await setup(`, max_batch_jobs: 2`, 3, true);
    await runToEnd();
    expect((await ledger()).map((p) => p.status)).toEqual(['MERGED', 'MERGED', 'MERGED']);
    expect(fake.peak.jobs).toBe(2);
    expect(creates().every((r) => r.status === 200)).toBe(true);
  });

  it('a 429 on batches.create waits for running jobs: the card stays RECOVERABLE, the job is created once room frees', async () => {
    fake.maxBatchJobs = 1; // the project's queue is smaller than the factory was told
    await setup('', 2, true);
    expect((await run()).code).toBe(5);
    expect(creates().map((r) => r.status)).toEqual([200, 429]);
    expect((creates()[1]!.response as { error: { status: string; details: { '@type': string }[] } }).error).toMatchObject({ status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.Help' }] });
    const s = JSON.parse(await readFile(path.join(f.ssot, 'state/factory_state.json'), 'utf8'));
    expect(s.state).toBe('RECOVERABLE');
    expect(s.batches.map((b: { card: string }) => b.card).sort()).toEqual(['L2_TAG_000001', 'L2_TAG_000002']);
    fake.finishBatches();
    await runToEnd();
    expect(creates().filter((r) => r.status === 429)).toHaveLength(1);
    const keys = sent();
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe((await tagLines(1)).length + (await tagLines(2)).length);
  });

  it('a card whose texts are in another card\'s job in flight waits for its answers and sends none of them again', async () => {
    await setup('', 2);
    expect((await run()).code).toBe(5);
    expect(creates()).toHaveLength(1);
    fake.finishBatches();
    await runToEnd();
    const keys = sent();
    expect(keys).toHaveLength(await chunks());
    expect(fake.requests.filter((r) => r.route === 'generateContent')).toHaveLength(0);
    expect(await tagLines(2)).toEqual(await tagLines(1));
  });

  it('a part the service counts over the limit while nothing of ours runs is cut in two until it fits; nothing is lost or sent twice', async () => {
    fake.batchEnqueuedTokens[MODEL] = 1500; // what the service counts is more than the factory estimated
    await setup(`, batch_enqueued_tokens: { ${MODEL}: 3000 }`);
    await runToEnd();
    const parts = await ledger();
    expect(parts.filter((p) => p.status === 'SPLIT').length).toBeGreaterThan(0);
    expect(parts.filter((p) => p.status !== 'SPLIT' && p.status !== 'MERGED')).toEqual([]);
    const keys = sent();
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.length).toBe(new Set((await tagLines()).map((t) => t.sha256)).size);
    expect(fake.requests.filter((r) => r.route === 'generateContent')).toHaveLength(0);
  });
});
