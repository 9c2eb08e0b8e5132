// One answer per distinct chunk: the same text anywhere in the library (disclosures repeat boilerplate) is
// asked once, through a real `g7 run` and the real SDK, counted from the fake's request log; every place it
// appears gets its own output line and strike entry with the one answer, which names no place; a card that
// re-packs chunks already answered pays nothing and counts nothing; a changed taxonomy asks again; and an
// answer the offline rules gave never stands in for the model's once a key is set (the worker is in the key).
import { describe, expect, it, afterEach } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { factory } from '../factory/fixture.js';
import { fakeGemini, type FakeGemini } from '../fakes/gemini-server.js';
import { main } from '../../src/cli/main.js';
import { Budget } from '../../src/worker/gemini/budget.js';
import { cacheKey, cachedWorker } from '../../src/worker/cached.js';
import { offlineWorker } from '../../src/worker/offline.js';
import type { WorkerRequest, Taxonomy } from '../../src/worker/worker.js';
import { geminiOn, billedBy, PRICES, TAG } from './support.js';

/** A disclosure paragraph of over 1,024 bytes: its first 15 lines are a chunk at scan.chunk_bytes 1024, the same in every file. */
const BOILERPLATE = Array.from({ length: 16 }, (_, k) => `Note ${String(k).padStart(2, '0')}: transactions with a related-party are disclosed as required.\n`).join('');
const FILES = 6;

let fake: FakeGemini;
afterEach(async () => fake?.close());

const generated = () => fake.requests.filter((r) => r.route === 'generateContent' && r.status === 200);

describe('one answer per distinct chunk', () => {
  it('a boilerplate chunk in 6 files is paid once; each place keeps its own line; a card that re-packs the chunks pays nothing', async () => {
    expect(Buffer.byteLength(BOILERPLATE)).toBeGreaterThanOrEqual(1024);
    fake = await fakeGemini({ keys: ['k'] });
    const files: Record<string, string> = {};
    for (let i = 1; i <= FILES; i++) files[`library/filing${i}.md`] = `${BOILERPLATE}Filing ${i}: revenue of KRW ${i * 7} billion, nothing else of note.\n`;
    const f = await factory([
      { id: 'L1_SCAN_000001', prio: 'A', input: Object.keys(files).map((p) => p.slice('library/'.length)), output: 'ssot/library_index/scan/1.jsonl' },
      { id: 'L2_TAG_000001', prio: 'A', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', deps: ['L1_SCAN_000001'] },
      // The same chunks again, as a re-pack into another card would ask for them.
      { id: 'L2_TAG_000002', prio: 'B', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/2.jsonl', deps: ['L2_TAG_000001'] },
    ], { libraryFiles: 0, files });
    await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 1024 }\nmodels: { LOW: gemini-2.5-flash-lite }\nprices_per_mtok: ${JSON.stringify(PRICES)}\ngemini: { base_url: "${fake.url}", batch_min_requests: 1000 }\n`);
    const worker = await geminiOn(fake, { budget: new Budget(path.join(f.ssot, 'state'), { per_truck_usd: 5, per_night_usd: 10 }, () => '20261121'), thinkingBudget: { LOW: 0, MID: 512, HIGH: 1024 } });
    expect(await main(['--ssot', f.ssot, 'run', '--no-commit'], { out: () => {}, err: () => {} }, worker)).toBe(0);

    const lines = async (n: number) => (await readFile(path.join(f.ssot, `library_index/tags/${n}.jsonl`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; offset: number; sha256: string; tags: string[]; strike: boolean; why: string });
    const tags = await lines(1);
    expect(tags).toHaveLength(2 * FILES);
    const distinct = new Set(tags.map((t) => t.sha256)).size;
    expect(distinct).toBe(FILES + 1);
    // Paid once per distinct text, across both cards.
    expect(generated()).toHaveLength(distinct);
    // Every place has its line, with the one answer; the answer names the text, never a place.
    const boiler = tags.filter((t) => t.offset === 0);
    expect(boiler.map((t) => t.path).sort()).toEqual(Object.keys(files).map((p) => p.slice('library/'.length)).sort());
    expect(new Set(boiler.map((t) => t.sha256)).size).toBe(1);
    for (const t of boiler) expect(t).toMatchObject({ tags: ['risk'], strike: true, why: `mentions a related party in chunk ${t.sha256.slice(0, 12)}` });
    for (const t of tags) expect(t.why).not.toMatch(/filing\d\.md|bytes/);
    // Each place is a strike candidate of its own (STRIKE reads the text at that place).
    const strikes = (await readFile(path.join(f.ssot, 'library_index/strike_list.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string; offset: number });
    expect(strikes.filter((s) => s.offset === 0).map((s) => s.path).sort()).toEqual(boiler.map((t) => t.path).sort());
    expect(await lines(2)).toEqual(tags);

    // The money: the first card counts each answer once; the re-pack counts nothing; together, what was paid.
    const paid = generated().map((r) => billedBy(r));
    const usd = paid.reduce((a, b) => a + b.usd, 0);
    const report = JSON.parse(await readFile(path.join(f.ssot, 'runs/run_0001/verify_report.json'), 'utf8'));
    const card = (id: string) => report.cards.find((c: { id: string }) => c.id === id);
    expect(card('L2_TAG_000001').cost_usd).toBeCloseTo(usd, 6);
    expect(card('L2_TAG_000001').tokens).toEqual({ in: paid.reduce((a, b) => a + b.in, 0), out: paid.reduce((a, b) => a + b.out, 0) });
    expect(card('L2_TAG_000002').cost_usd).toBe(0);
    expect(report.cost_usd).toBeCloseTo(usd, 5);
  });

  it('a changed taxonomy asks again; the same taxonomy in another card or file does not', async () => {
    fake = await fakeGemini({ keys: ['k'] });
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-distinct-'));
    const w = cachedWorker(await geminiOn(fake), { dir: path.join(dir, 'store/cache') }, () => '2026-11-21T00:00:00Z');
    const meta = { question: 'q', inputKind: 'md', chunkLen: 40 };
    const at = (card: string, p: string, offset: number, taxonomy: Taxonomy): WorkerRequest => {
      if (TAG.task.kind !== 'TAG') throw new Error('TAG fixture');
      return { ...TAG, card, task: { ...TAG.task, chunk: { ...TAG.task.chunk, path: p, offset }, taxonomy } };
    };
    const taxonomy = TAG.task.kind === 'TAG' ? TAG.task.taxonomy : { tags: [] };
    expect(await w.call(at('L2_TAG_000001', 'a.md', 0, taxonomy), meta)).toMatchObject({ cached: false });
    expect(await w.call(at('L2_TAG_000007', 'b/c.md', 4096, taxonomy), meta)).toMatchObject({ cached: true, reused: true });
    expect(generated()).toHaveLength(1);
    const changed = { tags: [...taxonomy.tags, { name: 'loan', keywords: ['loan'] }] };
    expect(await w.call(at('L2_TAG_000001', 'a.md', 0, changed), meta)).toMatchObject({ cached: false });
    expect(generated()).toHaveLength(2);
    // Two occurrences asked at the same moment: sent once.
    const fresh = { tags: [{ name: 'board', keywords: ['board'] }] };
    const both = await Promise.all([w.call(at('L2_TAG_000001', 'a.md', 0, fresh), meta), w.call(at('L2_TAG_000001', 'z.md', 0, fresh), meta)]);
    expect(both.map((b) => b.cached).sort()).toEqual([false, true]);
    expect(generated()).toHaveLength(3);
  });

  it('a key set after an offline run asks the model for every chunk the offline rules tagged', async () => {
    fake = await fakeGemini({ keys: ['k'] });
    const dir = { dir: path.join(await mkdtemp(path.join(tmpdir(), 'g7-distinct-')), 'store/cache') };
    const meta = { question: 'q', inputKind: 'md', chunkLen: 40 };
    const offline = cachedWorker(offlineWorker, dir, () => '2026-11-21T00:00:00Z');
    const reqs = ['a.md', 'b.md'].map((p, i): WorkerRequest => (TAG.task.kind === 'TAG' ? { ...TAG, task: { ...TAG.task, chunk: { ...TAG.task.chunk, path: p, text: `${TAG.task.chunk.text} ${i}` } } } : TAG));
    for (const r of reqs) expect((await offline.call(r, meta)).response.provider).toBe('offline');
    const online = cachedWorker(await geminiOn(fake), dir, () => '2026-11-21T00:00:01Z');
    for (const r of reqs) expect(await online.call(r, meta)).toMatchObject({ cached: false, response: { provider: 'gemini' } });
    expect(generated()).toHaveLength(2);
    // Not only because the prompt versions differ today: the worker alone tells the keys apart.
    expect(cacheKey(reqs[0]!, { worker: 'offline:rules', prompt: '1' })).not.toBe(cacheKey(reqs[0]!, { worker: 'gemini:gemini-2.5-flash-lite', prompt: '1' }));
    // And the offline rules, asked again, still find their own answers.
    for (const r of reqs) expect(await offline.call(r, meta)).toMatchObject({ cached: true, response: { provider: 'offline' } });
  });
});
