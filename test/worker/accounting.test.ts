// Exact accounting through a real `g7 run`: tokens and cost per call, card, truck and night equal what the
// service reported (usageMetadata: prompt with its cached part, answer, thinking) priced by the table, with
// figures distinctive enough that a wrong rate, a dropped thinking count or an estimate shows.
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { factory } from '../factory/fixture.js';
import { fakeGemini, type Recorded } from '../fakes/gemini-server.js';
import { main } from '../../src/cli/main.js';
import { Budget } from '../../src/worker/gemini/budget.js';
import { geminiOn, billedBy, PRICES } from './support.js';

/** A TAG prompt names no card (one answer serves every occurrence of a chunk): the one TAG card here is told by its schema. */
const cardOf = (r: Recorded) => /Card: (L\d_[A-Z]+_\d{6})/.exec(JSON.stringify(r.body))?.[1] ?? (JSON.stringify(r.body).includes('"tags"') ? 'L2_TAG_000001' : '?');
type Bill = { in: number; out: number; usd: number };
const total = (bills: Bill[]) => bills.reduce((a, b) => ({ in: a.in + b.in, out: a.out + b.out, usd: a.usd + b.usd }), { in: 0, out: 0, usd: 0 });

describe('money', () => {
  it('counts tokens and cost per call, card, truck and night exactly as the service reported them', async () => {
    const fake = await fakeGemini({ keys: ['k'] });
    try {
      // TAG prompts share a long prefix the service serves from its cache; the pro model thinks.
      fake.cachedTokens = (body) => (JSON.stringify(body).includes('Chunk (') ? 113 : 0);
      const f = await factory([
        { id: 'L1_SCAN_000001', prio: 'A', input: ['doc001.md', 'doc002.md'], output: 'ssot/library_index/scan/1.jsonl' },
        { id: 'L2_TAG_000001', prio: 'A', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', deps: ['L1_SCAN_000001'], cost_hint: 'MID' },
        { id: 'L3_STRIKE_000001', prio: 'B', input: 'ssot/library_index/strike_list.jsonl#L1-L3', output: 'ssot/out/s.jsonl', deps: ['L2_TAG_000001'], cost_hint: 'HIGH' },
      ]);
      await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\nscan: { chunk_bytes: 1024 }\nprices_per_mtok: ${JSON.stringify(PRICES)}\n`);
      const budget = new Budget(path.join(f.ssot, 'state'), { per_truck_usd: 5, per_night_usd: 10 }, () => '20261121');
      const worker = await geminiOn(fake, { budget, thinkingBudget: { LOW: 0, MID: 512, HIGH: 1024 } });
      expect(await main(['--ssot', f.ssot, 'run', '--no-commit'], { out: () => {}, err: () => {} }, worker)).toBe(0);

      const calls = fake.requests.filter((r) => r.route === 'generateContent');
      expect(new Set(calls.map(cardOf))).toEqual(new Set(['L2_TAG_000001', 'L3_STRIKE_000001']));
      const bills = calls.map((r) => billedBy(r));
      // The figures are distinctive: thinking and the cache both moved them.
      expect(calls.some((r) => (r.response as { usageMetadata: { thoughtsTokenCount?: number } }).usageMetadata.thoughtsTokenCount)).toBe(true);
      expect(calls.some((r) => (r.response as { usageMetadata: { cachedContentTokenCount?: number } }).usageMetadata.cachedContentTokenCount)).toBe(true);

      // Per call: every recorded answer carries exactly what its call cost.
      const cacheDir = path.join(f.ssot, 'store/cache');
      const entries = await Promise.all((await readdir(cacheDir, { recursive: true })).map(String).filter((n) => /[0-9a-f]{64}\.json$/.test(n)).map(async (n) => JSON.parse(await readFile(path.join(cacheDir, n), 'utf8'))));
      const sortBills = (xs: Bill[]) => [...xs].sort((a, b) => a.in - b.in || a.out - b.out);
      const recorded = sortBills(entries.map((e) => ({ in: e.response.tokens.in, out: e.response.tokens.out, usd: e.response.cost_usd })));
      const expected = sortBills(bills);
      expect(recorded.map(({ in: i, out }) => ({ in: i, out }))).toEqual(expected.map(({ in: i, out }) => ({ in: i, out })));
      recorded.forEach((r, i) => expect(r.usd).toBeCloseTo(expected[i]!.usd, 15));

      // Per card and per truck, in the evidence.
      const report = JSON.parse(await readFile(path.join(f.ssot, 'runs/run_0001/verify_report.json'), 'utf8'));
      for (const id of ['L2_TAG_000001', 'L3_STRIKE_000001']) {
        const want = total(calls.filter((r) => cardOf(r) === id).map((r) => billedBy(r)));
        const card = report.cards.find((c: { id: string }) => c.id === id);
        expect(card.tokens).toEqual({ in: want.in, out: want.out });
        expect(card.cost_usd).toBeCloseTo(want.usd, 6);
      }
      const all = total(bills);
      expect(report.tokens).toEqual({ in: all.in, out: all.out });
      expect(report.cost_usd).toBeCloseTo(all.usd, 5); // the sum of cards rounded to micro-dollars

      // Per night: the spend file the budget is checked against.
      const night = JSON.parse(await readFile(path.join(f.ssot, 'state/spend_20261121.json'), 'utf8'));
      expect(night).toEqual({ calls: calls.length, tokens_in: all.in, tokens_out: all.out, usd: expect.closeTo(all.usd, 15) });
    } finally {
      await fake.close();
    }
  });
});
