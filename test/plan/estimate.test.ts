// g7 plan estimate through the real binary: a plan over an English and Korean library is priced, then its
// night is run against the Gemini fake (which counts tokens by its own rule and reports them in
// usageMetadata), and the forecast is held against what the verify reports say was paid. A budget that does
// not fit exits 9 with the line of what to change; a plan with errors exits 3 naming file, line and field.
import { describe, expect, it } from 'vitest';
import { readFile, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { planRepo, g7Process, g7IntoHead, geminiAt, type Factory } from '../factory/fixture.js';
import { fakeGemini } from '../fakes/gemini-server.js';

const KO = ['이사회는 특수관계인에 대한 자금 대여를 승인하였다.', '당기 순이익은 전년 대비 감소하였으며 영업활동 현금흐름은 개선되었다.', '감사인은 계속기업 존속 능력에 중대한 의문을 제기하였다.', '최대주주 변경에 관한 공시이며 지분율은 변동되었다.'];
const EN = ['The board approved a related-party loan of KRW 12,000 million.', 'Revenue 3,211 (prior year 2,980); operating cash flow improved.', 'Ordinary business: no change to the articles of incorporation.'];

/** A disclosure: Korean-heavy for odd `i`, English for even, a few KB each (several 1 KB chunks). */
function disclosure(i: number): string {
  const lines: string[] = [];
  for (let k = 0; k < 30 + (i % 5) * 12; k++) lines.push(i % 2 ? `${KO[(k + i) % KO.length]} (${i}.${k})` : `${EN[(k + i) % EN.length]} [${i}.${k}]`);
  return lines.join('\n') + '\n';
}

const PLAN = `date: 2026-11-21
goal: tag a mixed library
entries:
  - { name: scan, lane: 1, prio: A, type: SCAN, each: { glob: "**/*.md", per_card: 2 }, output: "ssot/library_index/scan/{n}.jsonl" }
  - { name: tag, lane: 2, prio: B, type: TAG, after: { entry: scan, mode: each }, input: "ssot/library_index/scan/{n}.jsonl", output: "ssot/library_index/tags/{n}.jsonl" }
  - { name: seal, lane: 3, prio: D, type: VERIFY, after: tag, input: ssot/library_index, output: ssot/library_index/verify.json }
`;

async function mixedLibrary(factoryYaml: string): Promise<Factory> {
  const f = await planRepo(PLAN, { libraryFiles: 0, factoryYaml });
  for (let i = 1; i <= 8; i++) await f.write(`library/${i % 2 ? 'ko' : 'en'}/공시${String(i).padStart(3, '0')}.md`, disclosure(i));
  f.git('add', '-A');
  f.git('commit', '-qm', 'a mixed library and its plan');
  return f;
}

const yaml = (url: string, extra = '') => `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 1024 }\n${geminiAt(url)}${extra}`;

interface Estimate {
  fits: boolean;
  cards: number;
  total: { requests: number; cached: number; repeats: number; tokens_in: number; tokens_out: number; usd: number; usd_gemini: number };
  models: { model: string; tokens_in_source: string; tokens_out_source: string }[];
  chunks: { requests: number; distinct: number | null; source: string };
  trucks: { count: number };
  nights: { count: number };
  advice: string[];
}

async function paid(f: Factory): Promise<{ in: number; out: number; usd: number; runs: number }> {
  const runs = (await readdir(path.join(f.ssot, 'runs'))).filter((r) => /^run_\d{4}$/.test(r));
  let t = { in: 0, out: 0, usd: 0 };
  for (const r of runs) {
    const rep = JSON.parse(await readFile(path.join(f.ssot, 'runs', r, 'verify_report.json'), 'utf8')) as { tokens: { in: number; out: number }; cost_usd: number };
    t = { in: t.in + rep.tokens.in, out: t.out + rep.tokens.out, usd: t.usd + rep.cost_usd };
  }
  return { ...t, runs: runs.length };
}

const off = (forecast: number, truth: number) => Math.abs(forecast - truth) / truth;

describe('g7 plan estimate', () => {
  it('forecasts the night within 10% of what it then paid: tokens and dollars, English and Korean', { timeout: 120_000 }, async () => {
    const fake = await fakeGemini({ keys: ['k-est'] });
    try {
      const f = await mixedLibrary(yaml(fake.url));
      const env = { GEMINI_API_KEY: 'k-est' };
      const plan = 'ssot/plans/dayplan_20261121.yaml';

      // Without a key: offline costs $0, and what Gemini would cost is shown, uncalibrated.
      const offline = await g7Process(f.root, ['--json', 'plan', 'estimate', plan]);
      expect(offline.code, offline.err).toBe(0);
      const o = JSON.parse(offline.out) as Estimate;
      expect(o.total.usd).toBe(0);
      expect(o.total.usd_gemini).toBeGreaterThan(0);
      expect(o.models[0]!.tokens_in_source).toMatch(/^uncalibrated/);

      const est = await g7Process(f.root, ['--json', 'plan', 'estimate', plan], env);
      expect(est.code, est.err).toBe(0);
      const e = JSON.parse(est.out) as Estimate;
      // Nothing paid yet: a free countTokens sample calibrates the model; nothing is written.
      expect(e.models[0]!.tokens_in_source).toMatch(/calibrated from \d+ countTokens sample/);
      expect(fake.requests.filter((r) => r.route === 'countTokens').length).toBeGreaterThan(0);
      expect(fake.requests.filter((r) => r.route === 'generateContent')).toHaveLength(0);
      expect(f.git('status', '--porcelain')).toBe('');
      expect(e.cards).toBe(9);
      expect(e.chunks.source).toMatch(/cut as SCAN will cut them/);
      expect(e.trucks.count).toBe(1);
      expect(e.nights.count).toBe(1);

      // Kept as the day's forecast, for the morning report.
      const rec = await g7Process(f.root, ['--json', 'plan', 'estimate', '--record', plan], env);
      expect(rec.err).toMatch(/forecast recorded: ssot\/state\/forecast_20261121\.json/);
      expect((await g7Process(f.root, ['plan', 'compile', plan])).code).toBe(0);
      f.git('add', '-A');
      f.git('commit', '-qm', 'compiled');
      // g7 status prices the day in one line, with what the night has learned and no network call of its own.
      const counted = fake.requests.length;
      const st = await g7Process(f.root, ['status'], env);
      expect(st.code, st.err).toBe(0);
      expect(st.out).toMatch(new RegExp(`^estimate: \\$0\\.\\d{4} for ${e.total.requests} model request\\(s\\) of the 9 card\\(s\\) left \\([\\d,]+ tokens in, [\\d,]+ out\\), 1 truck\\(s\\), 1 night\\(s\\); fits \\(g7 plan estimate ssot/plans/dayplan_20261121\\.yaml\\)$`, 'm'));
      expect(fake.requests.length).toBe(counted);
      const run = await g7Process(f.root, ['run'], env);
      expect(run.code, run.err).toBe(0);
      const calls = fake.requests.filter((r) => r.route === 'generateContent' && r.status === 200);
      expect(calls).toHaveLength(e.total.requests);
      expect(e.chunks.requests).toBe(e.total.requests);

      const truth = await paid(f);
      const line = `forecast in ${e.total.tokens_in} / out ${e.total.tokens_out} / $${e.total.usd.toFixed(6)}; paid in ${truth.in} / out ${truth.out} / $${truth.usd.toFixed(6)}; uncalibrated in ${o.total.tokens_in} (${((o.total.tokens_in / truth.in - 1) * 100).toFixed(1)}%)`;
      console.log(line);
      expect(off(e.total.tokens_in, truth.in), line).toBeLessThan(0.1);
      expect(off(e.total.tokens_in + e.total.tokens_out, truth.in + truth.out), line).toBeLessThan(0.1);
      expect(off(e.total.usd, truth.usd), line).toBeLessThan(0.1);
      // The morning report holds the recorded forecast against what the night paid.
      const morning = await g7Process(f.root, ['--json', 'morning'], env);
      expect(morning.code, morning.err).toBe(0);
      const m = JSON.parse(morning.out) as { forecasts: { day: string; forecast: { in: number; out: number; usd: number }; paid: { in: number; out: number; usd: number } }[] };
      const recorded = JSON.parse(rec.out) as Estimate;
      expect(m.forecasts).toEqual([{ day: '20261121', plan: 'ssot/plans/dayplan_20261121.yaml', recorded_at: expect.any(String), forecast: { in: recorded.total.tokens_in, out: recorded.total.tokens_out, usd: recorded.total.usd }, paid: { in: truth.in, out: truth.out, usd: expect.closeTo(truth.usd, 9) } }]);
      expect((await g7Process(f.root, ['morning'], env)).out).toMatch(/^- forecast for 20261121 \(ssot\/plans\/dayplan_20261121\.yaml, recorded .+\): \d+ in, \d+ out, \$[\d.]+; paid \d+ \([+-][\d.]+%\) in, \d+ \([+-][\d.]+%\) out, \$[\d.]+ \([+-][\d.]+%\)$/m);

      // The night done: nothing is left to issue, so nothing is left to pay.
      const after = JSON.parse((await g7Process(f.root, ['--json', 'plan', 'estimate', plan], env)).out) as Estimate;
      expect(after.cards).toBe(0);
      expect((await g7Process(f.root, ['status'], env)).out).not.toMatch(/^estimate:/m);
      expect(after.total.usd).toBe(0);

      // The same work planned for the next day: the chunks come from the scan index, the input tokens from
      // what was paid, the output tokens from the paid answers' average; and every answer is in the cache.
      const next = 'ssot/plans/dayplan_20261122.yaml';
      await f.write(next, PLAN.replace('2026-11-21', '2026-11-22'));
      const again = JSON.parse((await g7Process(f.root, ['--json', 'plan', 'estimate', next], env)).out) as Estimate;
      expect(again.chunks.source).toBe('the scan index');
      expect(again.models[0]!.tokens_in_source).toBe(`calibrated from ${calls.length} paid prompt(s) (state/tokens.json)`);
      expect(again.models[0]!.tokens_out_source).toMatch(new RegExp(`^TAG: observed: \\d+ a request, the average of ${calls.length} paid answer\\(s\\)$`));
      expect(again.total).toMatchObject({ requests: calls.length, cached: calls.length, tokens_in: 0, usd: 0 });
      // Without the cache it would all be asked again: now within 1% of what was paid, output included.
      await rm(path.join(f.ssot, 'store/cache'), { recursive: true });
      const fresh = JSON.parse((await g7Process(f.root, ['--json', 'plan', 'estimate', next], env)).out) as Estimate;
      console.log(`next day, calibrated from the night: in ${fresh.total.tokens_in} / out ${fresh.total.tokens_out} / $${fresh.total.usd.toFixed(6)}`);
      expect(fresh.total.cached).toBe(0);
      expect(off(fresh.total.tokens_in, truth.in)).toBeLessThan(0.01);
      expect(off(fresh.total.tokens_out, truth.out)).toBeLessThan(0.01);
      expect(off(fresh.total.usd, truth.usd)).toBeLessThan(0.01);
    } finally {
      await fake.close();
    }
  });

  it('counts distinct chunks: a boilerplate chunk in every file is forecast, and paid, once', { timeout: 60_000 }, async () => {
    const fake = await fakeGemini({ keys: ['k-est'] });
    try {
      const boiler = Array.from({ length: 16 }, (_, k) => `Note ${k}: transactions with related parties are disclosed as the rules require.`).join('\n') + '\n';
      const f = await planRepo(PLAN, { libraryFiles: 0, factoryYaml: yaml(fake.url) });
      for (let i = 1; i <= 8; i++) await f.write(`library/filing${i}.md`, `${boiler}${disclosure(i)}`);
      f.git('add', '-A');
      f.git('commit', '-qm', 'a library that repeats a disclosure paragraph');
      const env = { GEMINI_API_KEY: 'k-est' };
      const est = await g7Process(f.root, ['--json', 'plan', 'estimate', 'ssot/plans/dayplan_20261121.yaml'], env);
      expect(est.code, est.err).toBe(0);
      const e = JSON.parse(est.out) as Estimate;
      expect(e.chunks.distinct).toBe(e.chunks.requests - 7); // the paragraph's chunk: asked in one file of eight
      expect(e.total.repeats).toBe(7);
      expect((await g7Process(f.root, ['plan', 'compile', 'ssot/plans/dayplan_20261121.yaml'])).code).toBe(0);
      f.git('add', '-A');
      f.git('commit', '-qm', 'compiled');
      const run = await g7Process(f.root, ['run'], env);
      expect(run.code, run.err).toBe(0);
      expect(fake.requests.filter((r) => r.route === 'generateContent' && r.status === 200)).toHaveLength(e.chunks.distinct!);
      const truth = await paid(f);
      expect(off(e.total.usd, truth.usd)).toBeLessThan(0.1);
    } finally {
      await fake.close();
    }
  });

  it('a budget that does not fit exits 9 with what to change; piped into head it does not crash', async () => {
    const fake = await fakeGemini({ keys: ['k-est'] });
    try {
      const f = await mixedLibrary(yaml(fake.url, 'budget: { per_truck_usd: 0.0002, per_night_usd: 0.0005 }\nlimits: { rpm: 60, tpm: 100 }\nnight: { start: "00:00", end: "01:00", tz: Asia/Seoul }\n'));
      const r = await g7Process(f.root, ['plan', 'estimate', 'ssot/plans/dayplan_20261121.yaml'], { GEMINI_API_KEY: 'k-est' });
      expect(r.code, r.err).toBe(9);
      expect(r.out).toMatch(/^fits: no$/m);
      expect(r.out).toMatch(/→ the plan costs \$0\.\d{4} \(with \$0\.\d{4} that one call reserves before it is sent, its output ceiling\), over budget\.per_night_usd \$0\.0005: raise budget\.per_night_usd to \$0\.01, or split the plan over \d+ days/);
      expect(r.out).toMatch(/→ truck 1 of 1 costs \$0\.\d{4} \(with \$0\.\d{4} that one call reserves before it is sent, its output ceiling\), over budget\.per_truck_usd \$0\.0002: raise budget\.per_truck_usd to \$0\.01/);
      expect(r.out).toMatch(/→ the online calls need \d+\.\d h at limits\.rpm 60 \/ limits\.tpm 100, the night 00:00–01:00 Asia\/Seoul has 1\.0 h: raise limits\.tpm to \d+ \(if the key's quota allows\), widen the night, or split the plan over \d+ days/);

      const head = await g7IntoHead(f.root, ['plan', 'estimate', 'ssot/plans/dayplan_20261121.yaml']);
      expect(head.first).toMatch(/^estimate for ssot\/plans\/dayplan_20261121\.yaml \(day 20261121\): 9 card\(s\) to issue$/);
      expect(head.err).not.toMatch(/EPIPE|at .*\.mjs/);
      expect(head.code).toBe(9);

      // TAG cards with at least gemini.batch_min_requests requests go as batch jobs, at the batch price.
      await f.write('ssot/factory.yaml', yaml(fake.url).replace(`gemini: { base_url: "${fake.url}" }`, `gemini: { base_url: "${fake.url}", batch_min_requests: 5 }`));
      const b = JSON.parse((await g7Process(f.root, ['--json', 'plan', 'estimate', 'ssot/plans/dayplan_20261121.yaml'], { GEMINI_API_KEY: 'k-est' })).out) as Estimate & { entries: { type: string; mode: string; usd: number; usd_batch: number; usd_online: number }[]; time: { batch_requests: number; online_requests: number; batch_jobs: number; batch_cycles: number } };
      const tag = b.entries.find((x) => x.type === 'TAG')!;
      expect(tag.mode).toBe('batch');
      expect(tag.usd).toBeCloseTo(tag.usd_online / 2, 12);
      expect(b.time).toMatchObject({ batch_requests: b.total.requests, online_requests: 0, batch_jobs: 4, batch_cycles: 1 }); // a job a card (4 TAG cards), all in the queue at once
      // A queue too small for a card's requests: each card's are cut in jobs, one cycle per job's worth of tokens.
      const small = Math.ceil(b.total.tokens_in / 8);
      await f.write('ssot/factory.yaml', yaml(fake.url).replace(`gemini: { base_url: "${fake.url}" }`, `gemini: { base_url: "${fake.url}", batch_min_requests: 5, batch_enqueued_tokens: { gemini-2.5-flash-lite: ${small} } }`));
      const cut = JSON.parse((await g7Process(f.root, ['--json', 'plan', 'estimate', 'ssot/plans/dayplan_20261121.yaml'], { GEMINI_API_KEY: 'k-est' })).out) as { time: { batch_jobs: number; batch_cycles: number } };
      expect(cut.time.batch_jobs).toBeGreaterThanOrEqual(8);
      expect(cut.time.batch_cycles).toBe(Math.ceil(b.total.tokens_in / Math.floor(small * 0.9)));

    } finally {
      await fake.close();
    }
  });

  it('a plan with errors exits 3 as plan check does, naming file, line and field', async () => {
    const f = await mixedLibrary(yaml('http://127.0.0.1:9'));
    await f.write('ssot/plans/bad.yaml', PLAN.replace('after: { entry: scan, mode: each }', 'after: { entry: scna, mode: each }'));
    const r = await g7Process(f.root, ['plan', 'estimate', 'ssot/plans/bad.yaml']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/ssot\/plans\/bad\.yaml:5:\d+: entries\[1\]\.after: "after" names entry "scna", which this plan does not have \[plan\.unknown-entry\]/);
  });
});
