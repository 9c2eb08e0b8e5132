// Batch mode end to end, through `g7 run` and the real SDK: a TAG card submits its requests as one batch
// job and the truck stops RECOVERABLE with the job's name in the state; later runs poll it; when it is done,
// answers are paired with their requests (by key, or by position when the service leaves the keys out), a
// failed item is asked online, and the card passes at the batch price. A job is never submitted twice, never
// dropped on a failed poll, and every answer it returned is counted in the spend.
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { factory, type Factory } from '../factory/fixture.js';
import { fakeGemini, type FakeGemini, type Recorded } from '../fakes/gemini-server.js';
import { main } from '../../src/cli/main.js';
import { geminiOn, usageCost, PRICES } from './support.js';
import type { GeminiOptions } from '../../src/worker/gemini/worker.js';
import { Budget } from '../../src/worker/gemini/budget.js';

const SCAN = 'L1_SCAN_000001';
const TAG = 'L2_TAG_000001';

let fake: FakeGemini;
let f: Factory;
beforeEach(async () => {
  fake = await fakeGemini({ keys: ['k'] });
  f = await factory([
    { id: SCAN, prio: 'A', input: ['doc001.md', 'doc002.md'], output: 'ssot/library_index/scan/1.jsonl' },
    { id: TAG, prio: 'A', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', deps: [SCAN], accept: 'json:ssot/library_index/tags/1.jsonl' },
  ]);
  await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 1024 }\nmodels: { LOW: gemini-2.5-flash-lite }\nprices_per_mtok: ${JSON.stringify(PRICES)}\ngemini: { base_url: "${fake.url}", batch_min_requests: 2 }\n`);
});
afterEach(async () => fake.close());

async function run(over: Partial<GeminiOptions> = {}) {
  const worker = await geminiOn(fake, { budget: new Budget(path.join(f.ssot, 'state'), { per_truck_usd: 5, per_night_usd: 10 }, () => '20261121'), thinkingBudget: { LOW: 0, MID: 512, HIGH: 1024 }, ...over });
  const err: string[] = [];
  const code = await main(['--ssot', f.ssot, 'run', '--no-commit'], { out: () => {}, err: (s) => err.push(s) }, worker);
  return { code, err: err.join('\n') };
}
const state = async () => JSON.parse(await readFile(path.join(f.ssot, 'state/factory_state.json'), 'utf8'));
const on = (route: string) => fake.requests.filter((r) => r.route === route);
const chunks = async () => (await readFile(path.join(f.ssot, 'library_index/scan/1.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; offset: number; length: number });
const tags = async () => (await readFile(path.join(f.ssot, 'library_index/tags/1.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; offset: number; length: number; sha256: string; why: string; strike: boolean });
const night = async () => JSON.parse(await readFile(path.join(f.ssot, 'state', (await readdir(path.join(f.ssot, 'state'))).find((n) => n.startsWith('spend_'))!), 'utf8'));
async function cached(): Promise<{ request: { card: string }; response: { provider: string; tokens: { in: number; out: number }; cost_usd: number } }[]> {
  const dir = path.join(f.ssot, 'store/cache');
  const names = (await readdir(dir, { recursive: true })).map(String).filter((n) => /^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}\.json$/.test(n));
  return Promise.all(names.map(async (n) => JSON.parse(await readFile(path.join(dir, n), 'utf8'))));
}
/** A line only doc002.md's first chunk holds (the fixture's file 2, line 0), now that prompts name no file. */
const DOC002_OPENING = 'a related-party loan of KRW 20 billion.';
/** Each chunk's answer names the text it was asked about: a pairing mistake shows. */
async function expectOwnAnswers() {
  for (const t of await tags()) expect(t.why).toMatch(new RegExp(` in chunk ${t.sha256.slice(0, 12)}$`));
}
/** What the job's answers cost at the batch price, from the usage the fake reported. */
function batchAnswers(): { in: number; out: number; usd: number }[] {
  return on('batches.get')
    .map((r) => r.response as { metadata: { output?: { inlinedResponses?: { inlinedResponses: { response?: { usageMetadata: Record<string, number> } }[] } } } })
    .flatMap((o) => o.metadata.output?.inlinedResponses?.inlinedResponses ?? [])
    .filter((x) => x.response)
    .map((x) => usageCost('gemini-2.5-flash-lite', x.response!.usageMetadata, true));
}
const sum = (xs: { in: number; out: number; usd: number }[]) => xs.reduce((a, b) => ({ in: a.in + b.in, out: a.out + b.out, usd: a.usd + b.usd }), { in: 0, out: 0, usd: 0 });

describe('batch mode', () => {
  it.each([
    ['inline requests', 20_000_000],
    ['an uploaded JSONL file (resumable upload, results downloaded)', 1],
  ])('submits (%s), keeps the job in state, polls, merges reversed answers by key, and charges the batch price', async (_mode, batchInlineMaxBytes) => {
    const viaFile = batchInlineMaxBytes === 1;
    expect((await run({ batchInlineMaxBytes })).code).toBe(5);
    const s1 = await state();
    expect(s1).toMatchObject({ state: 'RECOVERABLE', last_stop: { card: TAG, triage: 'API', transient: true } });
    expect(s1.batches).toEqual([expect.objectContaining({ name: 'batches/fake1', card: TAG })]);
    expect(on('batchGenerateContent')).toHaveLength(1);
    expect(on('generateContent')).toHaveLength(0);
    const create = on('batchGenerateContent')[0]!.body as { batch: { displayName: string; inputConfig: { requests?: { requests: unknown[] }; fileName?: string } } };
    expect(create.batch.displayName).toMatch(/^g7 L2_TAG_000001 [0-9a-f]{16}$/);
    const n = (await chunks()).length;
    if (viaFile) {
      expect(create.batch.inputConfig).toEqual({ fileName: 'files/f1' });
      expect(on('upload').map((r) => r.status)).toEqual([200, 200]); // start, then upload+finalize
      const uploaded = fake.files.get('f1')!.bytes.toString().trim().split('\n').map((l) => JSON.parse(l));
      expect(uploaded).toHaveLength(n);
      expect(uploaded[0]).toEqual({ key: expect.stringMatching(/^[0-9a-f]{64}$/), request: { contents: expect.any(Array), systemInstruction: { parts: [{ text: expect.stringContaining('G7 Factory') }] }, generationConfig: expect.objectContaining({ responseMimeType: 'application/json', thinkingConfig: { thinkingBudget: 0 } }) } });
    } else expect(create.batch.inputConfig.requests!.requests).toHaveLength(n);

    // Still running: the truck waits again, the job stays in state, nothing is paid twice.
    expect((await run({ batchInlineMaxBytes })).code).toBe(5);
    expect((await state()).batches).toEqual([expect.objectContaining({ name: 'batches/fake1' })]);
    expect(on('batchGenerateContent')).toHaveLength(1);

    fake.failBatchItem = (i) => i === 0;
    fake.finishBatches();
    expect((await run({ batchInlineMaxBytes })).code).toBe(0);
    expect((await state()).batches).toEqual([]);
    expect(on('generateContent')).toHaveLength(1); // only the failed item, online
    if (viaFile) expect(on('download').map((r) => r.status)).toEqual([200]);
    await expectOwnAnswers();
    // Each batch answer at (1 - 0.37) of its online price, from the usage the service reported.
    const batch = (await cached()).filter((c) => c.response.provider === 'gemini-batch');
    expect(batch).toHaveLength(n - 1);
    const online = (await cached()).filter((c) => c.response.provider === 'gemini');
    for (const c of online) expect(c.response.cost_usd).toBeCloseTo(usageCost('gemini-2.5-flash-lite', { promptTokenCount: c.response.tokens.in, candidatesTokenCount: c.response.tokens.out }).usd, 15);
    for (const c of batch) expect(c.response.cost_usd).toBeCloseTo(usageCost('gemini-2.5-flash-lite', { promptTokenCount: c.response.tokens.in, candidatesTokenCount: c.response.tokens.out }, true).usd, 15);
  });

  it('a poll that keeps failing leaves the job in the state (RECOVERABLE, no retry_after); the next run collects it, and nothing is submitted twice', async () => {
    expect((await run()).code).toBe(5);
    fake.finishBatches();
    fake.scriptRoute('batches.get', ...Array.from({ length: 5 }, () => ({ error: 'unavailable' as const })));
    const r = await run();
    expect(r.code).toBe(5);
    expect(on('batches.get').map((q) => q.status)).toEqual([503, 503, 503, 503, 503]);
    const s = await state();
    expect(s.batches).toEqual([expect.objectContaining({ name: 'batches/fake1', card: TAG })]);
    expect(s.retry_after ?? null).toBeNull();
    expect((await run()).code).toBe(0);
    expect(on('batchGenerateContent')).toHaveLength(1);
    expect(on('generateContent')).toHaveLength(0);
    await expectOwnAnswers();
  });

  it('retries a failed poll and a failed download within the run', async () => {
    expect((await run({ batchInlineMaxBytes: 1 })).code).toBe(5);
    fake.finishBatches();
    fake.scriptRoute('batches.get', { error: 'internal' });
    fake.scriptRoute('download', { error: 'html-502' }, { error: 'unavailable' });
    expect((await run({ batchInlineMaxBytes: 1 })).code).toBe(0);
    expect(on('download').map((q) => q.status)).toEqual([502, 503, 200]);
    await expectOwnAnswers();
  });

  it('gives the results download a timeout sized to the file, not the per-call one', async () => {
    expect((await run({ batchInlineMaxBytes: 1 })).code).toBe(5);
    fake.finishBatches();
    // Every download takes 3 s; a call may take 2 s; the file's size at 100 bytes/s allows much more.
    fake.scriptRoute('download', ...Array.from({ length: 5 }, () => ({ latencyMs: 3000 })));
    expect((await run({ batchInlineMaxBytes: 1, timeoutMs: 2000, downloadBytesPerSecond: 100 })).code).toBe(0);
    expect(on('download').map((q) => q.status)).toEqual([200]);
  }, 90_000);

  it('pairs answers that come back without their keys by position, when the counts match', async () => {
    expect((await run()).code).toBe(5);
    fake.finishBatches({ keys: false, order: 'in-order' });
    expect((await run()).code).toBe(0);
    expect(on('generateContent')).toHaveLength(0);
    await expectOwnAnswers();
  });

  it('stops RECOVERABLE with the reason when keyless answers do not match the requests in number; their cost is counted once', async () => {
    expect((await run()).code).toBe(5);
    fake.finishBatches({ keys: false, order: 'in-order', omit: [1] });
    const r1 = await run();
    expect(r1.code).toBe(5);
    const s = await state();
    expect(s.batches).toEqual([expect.objectContaining({ name: 'batches/fake1' })]);
    const stderr = JSON.parse(await readFile(path.join(f.ssot, 'runs', s.run_id, 'cards', '002_L2_TAG_000001', 'attempt-1.json'), 'utf8')).files['stderr.txt'].text;
    expect(stderr).toMatch(/answers without keys came back for \d+ requests, so they cannot be paired by position/);
    expect(on('generateContent')).toHaveLength(0);
    expect((await run()).code).toBe(5); // polled again: still unpairable, still not counted twice
    const paid = sum(batchAnswers().slice(0, batchAnswers().length / 2));
    expect(await night()).toEqual({ calls: (await chunks()).length - 1, tokens_in: paid.in, tokens_out: paid.out, usd: expect.closeTo(paid.usd, 15) });
  });

  it('counts the cost of a batch answer that fails its checks (and is asked again online) in the card and the night', async () => {
    fake.answer = (body) => (JSON.stringify(body).includes(DOC002_OPENING) ? { tags: 'not a list' } : { tags: [], strike: false, why: 'x' });
    expect((await run()).code).toBe(5);
    fake.finishBatches();
    fake.answer = () => ({ tags: [], strike: false, why: 'x' });
    expect((await run()).code).toBe(0);
    const batch = sum(batchAnswers());
    const online = sum(on('generateContent').map((r: Recorded) => usageCost('gemini-2.5-flash-lite', (r.response as { usageMetadata: Record<string, number> }).usageMetadata)));
    expect(on('generateContent')).toHaveLength(1);
    const nightSpend = await night();
    expect(nightSpend.calls).toBe((await chunks()).length + 1);
    expect(nightSpend.usd).toBeCloseTo(batch.usd + online.usd, 15);
    const report = JSON.parse(await readFile(path.join(f.ssot, 'runs', (await state()).run_id, 'verify_report.json'), 'utf8'));
    const card = report.cards.find((c: { id: string }) => c.id === TAG);
    expect(card.cost_usd).toBeCloseTo(batch.usd + online.usd, 6);
    expect(card.tokens).toEqual({ in: batch.in + online.in, out: batch.out + online.out });
  });

  it.each(['FAILED', 'CANCELLED'] as const)('a job that ended %s stops the truck for a person (FAIL_STOP, rework pack) without asking online', async (end) => {
    expect((await run()).code).toBe(5);
    fake.finishBatches({ state: end });
    const r = await run();
    expect(r.code).toBe(4);
    const s = await state();
    expect(s).toMatchObject({ state: 'FAIL_STOP', last_stop: { card: TAG, triage: 'API', transient: false } });
    expect(s.last_stop.reason).toMatch(new RegExp(`batch batches/fake1 ended JOB_STATE_${end}|ended ${end}`));
    expect(s.last_stop.files).toContainEqual(expect.stringMatching(/^ssot\/rework\//));
    expect(on('generateContent')).toHaveLength(0);
    expect(on('batches.get')).toHaveLength(1); // the rework attempt knows the job's end without asking again
  });

  it('a job that expired unanswered is submitted again', async () => {
    expect((await run()).code).toBe(5);
    fake.finishBatches({ state: 'EXPIRED' });
    expect((await run()).code).toBe(5);
    expect(on('batchGenerateContent')).toHaveLength(2);
    expect((await state()).batches).toEqual([expect.objectContaining({ name: 'batches/fake2' })]);
    fake.finishBatches();
    expect((await run()).code).toBe(0);
    await expectOwnAnswers();
  });
});
