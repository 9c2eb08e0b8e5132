// Batch mode end to end: a TAG card submits its requests as one batch job and the truck stops RECOVERABLE
// with the job's name in the state; later runs poll it; when it is done, answers (returned out of order)
// are merged by key, a failed item is asked online, and the card passes at the batch price.
import { describe, expect, it } from 'vitest';
import { readFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { factory } from '../factory/fixture.js';
import { fakeGemini } from '../fakes/gemini-server.js';
import { GeminiWorker } from '../../src/worker/gemini/worker.js';
import { RateLimiter } from '../../src/worker/gemini/limiter.js';
import { Budget } from '../../src/worker/gemini/budget.js';
import { main } from '../../src/cli/main.js';

const PRICES = { 'gemini-2.5-flash-lite': { in: 0.1, out: 0.4, batch_discount: 0.5 } };

describe('batch mode', () => {
  it.each([
    ['inline requests', 20_000_000],
    ['an uploaded JSONL file (resumable upload, results downloaded)', 1],
  ])('submits (%s), persists the job in state, polls, merges out-of-order results by key, and charges half', async (_mode, inlineMax) => {
    const fake = await fakeGemini({ keys: ['k'] });
    try {
      const f = await factory([
        { id: 'L1_SCAN_000001', prio: 'A', input: ['doc001.md', 'doc002.md'], output: 'ssot/library_index/scan/1.jsonl' },
        { id: 'L2_TAG_000001', prio: 'A', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', deps: ['L1_SCAN_000001'], accept: 'json:ssot/library_index/tags/1.jsonl' },
      ]);
      await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 1024 }\ngemini: { base_url: "${fake.url}", batch_min_requests: 2 }\n`);
      const worker = new GeminiWorker({
        apiKey: 'k', baseUrl: fake.url, models: { LOW: 'gemini-2.5-flash-lite', MID: 'gemini-2.5-flash-lite', HIGH: 'gemini-2.5-flash-lite' }, prices: PRICES, timeoutMs: 5000, maxInputTokens: 4000,
        limiter: new RateLimiter(1000, 1e9), budget: new Budget(await mkdtemp(path.join(tmpdir(), 'g7-b-')), { per_truck_usd: 5, per_night_usd: 10 }, () => '20261121'),
        batchInlineMaxBytes: inlineMax,
      });
      const viaFile = inlineMax === 1;
      const run = async () => main(['--ssot', f.ssot, 'run', '--no-commit'], { out: () => {}, err: () => {} }, worker);
      const state = async () => JSON.parse(await readFile(path.join(f.ssot, 'state/factory_state.json'), 'utf8'));

      expect(await run()).toBe(5);
      const s1 = await state();
      expect(s1).toMatchObject({ state: 'RECOVERABLE', last_stop: { card: 'L2_TAG_000001', triage: 'API', transient: true } });
      expect(s1.batches).toEqual([expect.objectContaining({ name: 'batches/fake1', card: 'L2_TAG_000001' })]);
      expect(fake.requests.filter((r) => r.verb === 'batchGenerateContent')).toHaveLength(1);
      expect(fake.requests.filter((r) => r.verb === 'generateContent')).toHaveLength(0);
      const create = fake.requests.find((r) => r.verb === 'batchGenerateContent')!.body as { batch: { inputConfig: { requests?: { requests: unknown[] }; fileName?: string } } };
      const chunks = (await readFile(path.join(f.ssot, 'library_index/scan/1.jsonl'), 'utf8')).trim().split('\n');
      if (viaFile) {
        expect(create.batch.inputConfig).toEqual({ fileName: 'files/f1' });
        expect(fake.requests.filter((r) => r.path === '/upload/v1beta/files').map((r) => r.status)).toEqual([200, 200]); // start, then upload+finalize
        const uploaded = fake.files.get('f1')!.bytes.toString().trim().split('\n').map((l) => JSON.parse(l));
        expect(uploaded).toHaveLength(chunks.length);
        expect(uploaded[0]).toEqual({ key: expect.stringMatching(/^[0-9a-f]{64}$/), request: { contents: expect.any(Array), systemInstruction: { parts: [{ text: expect.stringContaining('G7 Factory') }] }, generationConfig: expect.objectContaining({ responseMimeType: 'application/json' }) } });
      } else expect(create.batch.inputConfig.requests!.requests).toHaveLength(chunks.length);

      // Still running: the truck waits again, the job stays in state, nothing is paid twice.
      expect(await run()).toBe(5);
      expect((await state()).batches).toEqual([expect.objectContaining({ name: 'batches/fake1' })]);
      expect(fake.requests.filter((r) => r.verb === 'batchGenerateContent')).toHaveLength(1);

      fake.failBatchItem = (i) => i === 0;
      fake.finishBatches();
      expect(await run()).toBe(0);
      expect((await state()).batches).toEqual([]);
      // Only the one failed item was asked online.
      expect(fake.requests.filter((r) => r.verb === 'generateContent')).toHaveLength(1);
      if (viaFile) expect(fake.requests.filter((r) => /^\/v1beta\/files\/f\d+:download$/.test(r.path)).map((r) => r.status)).toEqual([200]);
      // Results came back reversed; each chunk still got the answer to its own text.
      const tags = (await readFile(path.join(f.ssot, 'library_index/tags/1.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      const texts = await Promise.all(tags.map(async (t) => (await readFile(path.join(f.root, 'library', t.path))).subarray(t.offset, t.offset + t.length).toString()));
      tags.forEach((t, i) => expect(t.strike).toBe(/related-party/.test(texts[i]!)));
      // Cost: batch answers at half the online price, from the recorded usage.
      const cache = await import('node:fs/promises').then((fs) => fs.readdir(path.join(f.ssot, 'state/cache'), { recursive: true }));
      const responses = await Promise.all(cache.filter((n) => String(n).endsWith('.json')).map(async (n) => JSON.parse(await readFile(path.join(f.ssot, 'state/cache', String(n)), 'utf8')).response));
      const batch = responses.filter((r) => r.provider === 'gemini-batch');
      expect(batch).toHaveLength(chunks.length - 1);
      for (const r of batch) expect(r.cost_usd).toBeCloseTo(((r.tokens.in * 0.1 + r.tokens.out * 0.4) / 1e6) * 0.5, 12);
    } finally {
      await fake.close();
    }
  });
});
