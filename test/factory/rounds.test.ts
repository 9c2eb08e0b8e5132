// A day runs as many rounds of two trucks as its backlog needs, one truck per `g7 run`, with no `g7 pack`:
// the next round is packed from what is left once both trucks of a round are finished, a recompiled backlog
// is repacked into the trucks that have not departed, and a strike list that grew during the night is
// compiled into STRIKE cards for a later round of the same night.
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { geminiAt, DAY, g7Process, planRepo, type Factory } from './fixture.js';
import { fakeGemini } from '../fakes/gemini-server.js';

const json = async (p: string) => JSON.parse(await readFile(p, 'utf8'));
const lines = async (p: string) => (await readFile(p, 'utf8')).split('\n').filter((l) => l.trim());

/** Every packet of the day: round, truck, card ids. */
async function packets(f: Factory): Promise<{ round: number; truck: string; ids: string[] }[]> {
  const dir = path.join(f.ssot, 'packets', DAY);
  const out = [];
  for (const r of (await readdir(dir)).sort())
    for (const t of ['A', 'B'])
      try {
        out.push({ round: Number(r.slice(6)), truck: t, ids: (await lines(path.join(dir, r, `packet_${t}.jsonl`))).map((l) => JSON.parse(l).card.id) });
      } catch {
        /* no packet for this truck */
      }
  return out;
}

/** `g7 run` until it says there is nothing to run; every run must end READY. */
async function runDay(f: Factory, env: Record<string, string> = {}, max = 12): Promise<string[]> {
  const said: string[] = [];
  for (let i = 0; i < max; i++) {
    const r = await g7Process(f.root, ['run'], env);
    expect(r.code, r.err + r.out).toBe(0);
    said.push(r.out);
    if (/nothing to run/.test(r.out)) return said;
  }
  throw new Error(`still running after ${max} runs`);
}

async function reports(f: Factory) {
  const runs = (await readdir(path.join(f.ssot, 'runs'))).sort();
  return Promise.all(runs.map((r) => json(path.join(f.ssot, 'runs', r, 'verify_report.json'))));
}

const PLAN_602 = `date: 2026-11-21
goal: scan 300 files, tag each, check the index, seal the tags
entries:
  - { name: scan, lane: 1, prio: A, type: SCAN, each: { glob: "*.md" }, output: "ssot/library_index/scan/{n}.jsonl", accept: "lines>=1:{output}" }
  - { name: tag, lane: 2, prio: B, type: TAG, after: { entry: scan, mode: each }, input: "ssot/library_index/scan/{n}.jsonl", output: "ssot/library_index/tags/{n}.jsonl", accept: "json:{output}" }
  - { name: selftest, lane: 5, prio: C, type: TEST, after: scan, input: "ls ssot/library_index/scan | wc -l", output: ssot/out/selftest.txt, accept: "exit==0 && stdout~/300/" }
  - { name: verify, lane: 4, prio: D, type: VERIFY, after: tag, input: ssot/library_index, output: ssot/library_index/verify.json }
`;

describe('rounds', () => {
  it('runs a 602-card day in six trucks over successive g7 run calls, with no g7 pack: every card once, no packet over 120', { timeout: 300_000 }, async () => {
    const f = await planRepo(PLAN_602, { libraryFiles: 300 });
    const c = await g7Process(f.root, ['plan', 'compile', `ssot/plans/dayplan_${DAY}.yaml`]);
    expect(c.out).toMatch(/total\s+602 cards/);
    f.git('add', '-A');
    f.git('commit', '-q', '-m', 'compiled');

    const first = await g7Process(f.root, ['run']);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toMatch(/round 1 of 20261121 packed: truck A 120 card\(s\), truck B 120/);
    const st = await g7Process(f.root, ['status']);
    expect(st.out).toMatch(/day 20261121: round 1; 482 card\(s\) left \(120 in this round, 362 after it\) ≈ 3 round\(s\) of 120\+120/);

    const said = await runDay(f);
    expect(said.at(-1)).toMatch(/nothing to run: 20261121 is done after 3 round\(s\)/);
    const rs = await reports(f);
    expect(rs.map((r) => `${r.round}${r.truck}:${r.state}`)).toEqual(['1A:READY', '1B:READY', '2A:READY', '2B:READY', '3A:READY', '3B:READY']);
    const ran = rs.flatMap((r) => r.cards.map((x: { id: string; status: string }) => `${x.id}:${x.status}`));
    const backlog = (await lines(path.join(f.ssot, `backlog/backlog_${DAY}.jsonl`))).map((l) => `${JSON.parse(l).id}:PASS`);
    expect(ran.sort()).toEqual(backlog.sort());
    const ps = await packets(f);
    expect(ps.map((p) => `${p.round}${p.truck}:${p.ids.length}`)).toEqual(['1A:120', '1B:120', '2A:120', '2B:120', '3A:120', '3B:2']);
    expect(new Set(ps.flatMap((p) => p.ids)).size).toBe(602);
    const log = JSON.parse((await g7Process(f.root, ['--json', 'log'])).out);
    expect(log.map((r: { round: number; truck: string }) => `${r.round}${r.truck}`)).toEqual(['1A', '1B', '2A', '2B', '3A', '3B']);
    expect(f.git('log', '-1', '--format=%(trailers:key=G7-Round,valueonly)').trim()).toBe('3');
  });

  it('runs the cards a recompile adds on the next g7 run: repacked into the truck that has not departed, then a new round', async () => {
    const plan = (n: number) => `date: 2026-11-21\ngoal: g\nentries:\n  - { name: t, lane: 1, prio: A, type: TEST, each: { count: ${n} }, input: "printf {n}", output: "out/{n}.txt", accept: "exit==0" }\n`;
    const f = await planRepo(plan(130));
    expect((await g7Process(f.root, ['plan', 'compile', `ssot/plans/dayplan_${DAY}.yaml`])).code).toBe(0);
    expect((await g7Process(f.root, ['run'])).code).toBe(0); // truck A: 120 cards; truck B holds 10
    await f.write(`ssot/plans/dayplan_${DAY}.yaml`, plan(140));
    expect((await g7Process(f.root, ['plan', 'compile', `ssot/plans/dayplan_${DAY}.yaml`, '--replace'])).code).toBe(0);
    const st = await g7Process(f.root, ['status']);
    expect(st.out).toMatch(/the backlog changed since this round was packed: the next `g7 run` repacks/);
    const b = await g7Process(f.root, ['run']);
    expect(b.code, b.err).toBe(0);
    expect(b.out).toMatch(/round 1 of 20261121 repacked around the truck that departed \(the backlog changed\): truck A 120 card\(s\), truck B 20/);
    expect(b.out).toMatch(/round 1 truck B of 20261121 finished: 20 passed/);

    await f.write(`ssot/plans/dayplan_${DAY}.yaml`, plan(145));
    expect((await g7Process(f.root, ['plan', 'compile', `ssot/plans/dayplan_${DAY}.yaml`, '--replace'])).code).toBe(0);
    const next = await g7Process(f.root, ['run']);
    expect(next.code, next.err).toBe(0);
    expect(next.out).toMatch(/round 2 of 20261121 packed: truck A 5 card\(s\), truck B 0/);
    const rs = await reports(f);
    expect(rs.map((r) => r.cards.length)).toEqual([120, 20, 5]);
    expect((await g7Process(f.root, ['run'])).out).toMatch(/nothing to run/);
  });

  it('feeds the strike list into the same night: STRIKE cards in a later round, from what its own TAG cards marked', { timeout: 120_000 }, async () => {
    const fake = await fakeGemini({ keys: ['night-key'] });
    try {
      const plan = `date: 2026-11-21
goal: scan, tag, strike what the tags marked
entries:
  - { name: scan, lane: 1, prio: A, type: SCAN, each: { glob: "*.md", per_card: 2 }, output: "ssot/library_index/scan/{n}.jsonl", accept: "lines>=1:{output}" }
  - { name: tag, lane: 2, prio: B, type: TAG, after: { entry: scan, mode: each }, input: "ssot/library_index/scan/{n}.jsonl", output: "ssot/library_index/tags/{n}.jsonl", accept: "json:{output}" }
  - { name: strike, lane: 3, prio: C, type: STRIKE, each: { lines: ssot/library_index/strike_list.jsonl, per_card: 4 }, output: "ssot/library_index/strikes/{n}.jsonl", cost_hint: HIGH }
`;
      const f = await planRepo(plan, { libraryFiles: 10, factoryYaml: `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\n${geminiAt(fake.url)}` });
      const c = await g7Process(f.root, ['plan', 'compile', `ssot/plans/dayplan_${DAY}.yaml`]);
      expect(c.out).toMatch(/strike\s+0 cards/);
      expect(c.out).toMatch(/strike_list\.jsonl does not exist yet, so it generates no cards yet/);
      f.git('add', '-A');
      f.git('commit', '-q', '-m', 'compiled');

      const said = await runDay(f, { GEMINI_API_KEY: 'night-key' });
      const strikeList = await lines(path.join(f.ssot, 'library_index/strike_list.jsonl'));
      expect(strikeList).toHaveLength(10); // one chunk per file, each mentions a related party
      expect(said.join('\n')).toMatch(/ssot\/library_index\/strike_list\.jsonl grew from 0 to 10 lines: compiled ssot\/plans\/dayplan_20261121\.yaml again \(3 added, 10 done, 0 removed, 0 changed\); the previous backlog is kept as ssot\/backlog\/backlog_20261121\.jsonl\.[0-9a-f]{8}\.bak/);
      const rs = await reports(f);
      const strikeRuns = rs.filter((r) => r.cards.some((x: { type: string }) => x.type === 'STRIKE'));
      expect(strikeRuns.map((r) => r.round)).toEqual([2]);
      expect(rs[0].round).toBe(1);
      expect(strikeRuns[0].cards.map((x: { id: string; status: string }) => `${x.id}:${x.status}`)).toEqual(['L3_STRIKE_000001:PASS', 'L3_STRIKE_000002:PASS', 'L3_STRIKE_000003:PASS']);
      // Each STRIKE card worked on lines its own night's TAG cards put on the strike list.
      const findings = await lines(path.join(f.ssot, 'library_index/strikes/3.jsonl'));
      expect(findings.length).toBe(2);
      const struck = fake.requests.filter((q) => q.model === 'gemini-2.5-pro' && q.verb === 'generateContent');
      expect(struck).toHaveLength(10);
    } finally {
      await fake.close();
    }
  });
});
