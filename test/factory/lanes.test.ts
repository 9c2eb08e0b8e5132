// The lane matrix as GitHub runs it: a prepare job, then N lane jobs at once, each a `g7` process on its own
// clone pushing to one real git HTTP remote, then the merge job on yet another clone. What counts is read
// from the files on the remote, not from counters: every card of the truck once, the merged pack verifies,
// and no two lanes ever wrote the same path (so their pushes rebased without conflict).
import { describe, expect, it, afterEach } from 'vitest';
import { readFile, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process, cloneRemote, gitAsync, type CardSpec, type G7Process } from './fixture.js';
import { httpRemote, type HttpRemote } from '../git/http-remote.js';
import { laneShare } from '../../src/factory/lane-share.js';
import { verifyRun } from '../../src/factory/evidence.js';
import { laneLayout, layoutFor } from '../../src/ssot/layout.js';
import { journalText } from '../ssot/journal-lines.js';

const pad = (n: number) => String(n).padStart(6, '0');
const LANES = [1, 2, 3];
const RUN = 'run_0001';

/** 60 cards, lanes interleaved in slot order so every lane has cards in three bundles (three pushes each, then its stop). */
function truck(): CardSpec[] {
  const cards: CardSpec[] = [];
  for (let i = 1; i <= 20; i++) {
    cards.push({ id: `L1_SCAN_${pad(i)}`, prio: 'A', input: [`doc${String(((i - 1) % 4) + 1).padStart(3, '0')}.md`], output: `ssot/library_index/scan/${i}.jsonl`, accept: `lines>=1:ssot/library_index/scan/${i}.jsonl` });
    cards.push({ id: `L2_TEST_${pad(i)}`, prio: 'A', input: `printf two-${i}`, output: `out/two-${i}.txt`, accept: 'exit==0 && stdout~/two-/' });
    // The last card of lane 3 waits for a lane-1 card of the same truck: it cannot run in parallel with it.
    cards.push(i < 20 ? { id: `L3_TEST_${pad(i)}`, prio: 'A', input: `printf three-${i}`, output: `out/three-${i}.txt`, accept: 'exit==0' } : { id: `L3_VERIFY_${pad(1)}`, prio: 'A', input: 'ssot/library_index', output: 'out/seal.json', deps: [`L1_SCAN_${pad(1)}`] });
  }
  return cards;
}

const remotes: HttpRemote[] = [];
afterEach(async () => {
  for (const r of remotes.splice(0)) await r.close();
});

async function exists(p: string): Promise<boolean> {
  return access(p).then(() => true, () => false);
}

const ok = (r: G7Process) => `exit ${r.code}\n${r.out}\n${r.err}`;

async function lanesAtOnce(url: string, env: Partial<Record<number, Record<string, string>>> = {}): Promise<G7Process[]> {
  const clones = await Promise.all(LANES.map(() => cloneRemote(url)));
  return Promise.all(LANES.map((lane, i) => g7Process(clones[i]!, ['lanes', 'run', '--run', RUN, '--lane', String(lane), '--push'], env[lane] ?? {})));
}

/** Per lane, the paths its commits on the remote touched. */
async function pathsByLane(bare: string): Promise<Map<string, Set<string>>> {
  const text = await gitAsync(bare, 'log', '--format=@@%(trailers:key=G7-Lane,valueonly,separator=)', '--name-only', 'main');
  const out = new Map<string, Set<string>>();
  for (const block of text.split('@@').slice(1)) {
    const [lane, ...files] = block.split('\n').map((l) => l.trim()).filter(Boolean);
    if (!lane || !/^\d$/.test(lane)) continue;
    const set = out.get(lane) ?? new Set<string>();
    for (const f of files) set.add(f);
    out.set(lane, set);
  }
  return out;
}

async function report(root: string, run: string) {
  return JSON.parse(await readFile(path.join(root, 'ssot/runs', run, 'verify_report.json'), 'utf8')) as { state: string; counts: Record<string, number>; cards: { id: string; status: string; lane: number; detail: string }[] };
}

async function journal(root: string) {
  return (await journalText(path.join(root, 'ssot'))).trim().split('\n').map((l) => JSON.parse(l) as { event: string; run: string; card?: string; status?: string; lanes?: number[] });
}

describe('the lane matrix', () => {
  it('three lanes at once on separate clones, one HTTP remote, then the merge: all evidence there, the pack verifies, every card once, no path written by two lanes', { timeout: 240_000 }, async () => {
    const f = await factory(truck());
    const prepared = await f.g7('lanes', 'prepare');
    expect(prepared.code, prepared.err).toBe(0);
    expect(prepared.out).toMatch(/run_0001: round 1 truck A of 20261121 departs as lanes 1 \(20 card\(s\)\), 2 \(20 card\(s\)\), 3 \(20 card\(s\)\)/);
    // The first push of every lane is held until all three have arrived: they surely race.
    const remote = await httpRemote(f.root, { holdPushes: LANES.length });
    remotes.push(remote);

    const runs = await lanesAtOnce(remote.url);
    for (const r of runs) expect(r.code, ok(r)).toBe(0);
    expect(remote.pushes).toBeGreaterThanOrEqual(LANES.length * 4);

    const merger = await cloneRemote(remote.url);
    const merge = await g7Process(merger, ['lanes', 'merge', '--push']);
    expect(merge.code, ok(merge)).toBe(0);
    expect(merge.out).toMatch(/lane 3: READY, 20 of 20 card\(s\) with a result/);

    // Everything from a fresh clone of the remote.
    const fresh = await cloneRemote(remote.url);
    const verify = await g7Process(fresh, ['verify', RUN]);
    expect(verify.code, ok(verify)).toBe(0);
    expect(verify.out).toMatch(/^ok +run_0001: verifies \(/);

    // Each lane's own part verifies against the manifest the lane sealed, too.
    for (const lane of LANES) {
      const v = await verifyRun(laneLayout(layoutFor(path.join(fresh, 'ssot')), RUN, lane), RUN, (p) => p);
      expect(v.problems, `lane ${lane}`).toEqual([]);
      expect(v.complete).toBe(true);
    }
    const packet = (await readFile(path.join(fresh, 'ssot/packets/20261121/round_01/packet_A.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l).card.id as string);
    expect(packet).toHaveLength(60);
    const r = await report(fresh, RUN);
    expect(r.state).toBe('READY');
    const ids = r.cards.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual([...packet].sort());
    expect(r.counts).toEqual({ passed: 59, failed: 0, skipped: 1, pending: 0 });
    expect(r.cards.find((c) => c.id === 'L3_VERIFY_000001')).toMatchObject({ status: 'SKIP' });
    for (const c of r.cards.filter((x) => x.status === 'PASS')) {
      expect(c.detail).toMatch(new RegExp(`^lanes/${c.lane}/cards/\\d{3}_${c.id}$`));
      expect(await exists(path.join(fresh, 'ssot/runs', RUN, c.detail, 'summary.json')), c.detail).toBe(true);
    }
    // The factory's journal holds each card's result once, folded from the lane parts.
    const results = (await journal(fresh)).filter((e) => e.event === 'card_result' && e.run === RUN);
    expect(results.map((e) => e.card).sort()).toEqual([...packet].sort());
    const state = JSON.parse(await readFile(path.join(fresh, 'ssot/state/factory_state.json'), 'utf8'));
    expect(state).toMatchObject({ state: 'READY', run_id: RUN });

    // No path was written by two lanes.
    const byLane = await pathsByLane(remote.bare);
    expect([...byLane.keys()].sort()).toEqual(['1', '2', '3']);
    const seen = new Map<string, string>();
    for (const [lane, files] of byLane)
      for (const file of files) {
        // A lane writes its part of the run and its own cards' outputs, nothing else.
        const own = file.startsWith(`ssot/runs/${RUN}/lanes/${lane}/`) || file.startsWith(`ssot/state/lanes/${RUN}/${lane}/`) || (lane === '1' ? /^ssot\/library_index\/scan\//.test(file) : file.startsWith(`out/${lane === '2' ? 'two' : 'three'}-`));
        expect(own, `lane ${lane} wrote ${file}`).toBe(true);
        expect(seen.get(file), `${file}: lanes ${seen.get(file)} and ${lane}`).toBeUndefined();
        seen.set(file, lane);
      }

    // Each lane's log says its share of the model limits (factory.yaml's defaults: rpm 60, tpm 1,000,000).
    const lane2Log = await readFile(path.join(fresh, 'ssot/runs', RUN, 'lanes/2/stdout.txt'), 'utf8');
    expect(lane2Log).toMatch(/lane 2 \(20 card\(s\)\) .* 1\/3: rpm 20, tpm 333333/);
    // A lane's stop is its part's, never "the truck finished": that is the merge's to say.
    const stops = (await journalText(path.join(fresh, 'ssot'))).split('\n').filter(Boolean)
      .map((l) => JSON.parse(l) as { event: string; lanes?: number[]; detail?: string }).filter((e) => e.event === 'run_stop');
    expect(stops.find((e) => e.lanes?.length === 1 && e.lanes[0] === 2)?.detail).toMatch(/^lane 2 of round 1 truck A of \d{8} done: \d+ passed$/);
    expect(stops.filter((e) => e.detail?.includes('finished'))).toHaveLength(1);

    // g7 log shows the run as the merge left it, with every lane's commits counted.
    const log = await g7Process(fresh, ['log']);
    expect(log.out).toMatch(/^run_0001 +20261121 round 1 truck A +READY +59 passed +0 failed +1[4-9] commit\(s\)/m);

    // The card that waited on another lane is not lost: the next run takes it.
    const next = await g7Process(fresh, ['run', '--push']);
    expect(next.code, ok(next)).toBe(0);
    expect(next.out).toMatch(/L3_VERIFY_000001 PASS/);
  });

  it('a lane that dies leaves its cards to the next run: the merge seals what it pushed, the next run does the rest, each card passes once', { timeout: 240_000 }, async () => {
    const f = await factory(truck());
    expect((await f.g7('lanes', 'prepare')).code).toBe(0);
    const remote = await httpRemote(f.root);
    remotes.push(remote);
    // Lane 3 is killed at its ninth card: its first bundle (6 cards) is pushed, the rest never is.
    const runs = await lanesAtOnce(remote.url, { 3: { G7_FAULT: 'card.start@9' } });
    expect(runs[0]!.code, ok(runs[0]!)).toBe(0);
    expect(runs[2]!.signal).toBe('SIGKILL');

    const merger = await cloneRemote(remote.url);
    const merge = await g7Process(merger, ['lanes', 'merge', '--push']);
    expect(merge.code, ok(merge)).toBe(5); // RECOVERABLE: the next run takes the rest
    expect(merge.out).toMatch(/lane 3: did not finish .*, 6 of 20 card\(s\) with a result; 14 go to the next run/);
    const sealed = await cloneRemote(remote.url);
    expect((await g7Process(sealed, ['verify', RUN])).code).toBe(0);
    const r1 = await report(sealed, RUN);
    expect(r1.counts).toMatchObject({ passed: 46, pending: 14 });

    // The next scheduled job (a plain run) continues the truck.
    const next = await g7Process(sealed, ['run', '--push']);
    expect(next.code, ok(next)).toBe(0);
    const last = await cloneRemote(remote.url);
    const r2 = await report(last, 'run_0002');
    expect(r2.state).toBe('READY');
    const passed = [...r1.cards, ...r2.cards].filter((c) => c.status === 'PASS').map((c) => c.id);
    expect(new Set(passed).size).toBe(passed.length);
    expect(passed).toHaveLength(60);
    for (const run of [RUN, 'run_0002']) expect((await g7Process(last, ['verify', run])).code).toBe(0);
  });

  it('a lane job that runs again (GitHub: re-run failed jobs) continues its part from what it pushed, and the merge finds every card once', { timeout: 240_000 }, async () => {
    const f = await factory(truck());
    expect((await f.g7('lanes', 'prepare')).code).toBe(0);
    const remote = await httpRemote(f.root);
    remotes.push(remote);
    const runs = await lanesAtOnce(remote.url, { 3: { G7_FAULT: 'card.start@9' } });
    expect(runs[2]!.signal).toBe('SIGKILL');
    const again = await g7Process(await cloneRemote(remote.url), ['lanes', 'run', '--run', RUN, '--lane', '3', '--push']);
    expect(again.code, ok(again)).toBe(0);
    expect(again.out).toMatch(/lane 3 \(20 card\(s\)\) of round 1 truck A continues/);
    expect(again.out).not.toMatch(/L3_TEST_000001 PASS/); // pushed before the kill: not run again
    const merge = await g7Process(await cloneRemote(remote.url), ['lanes', 'merge', '--push']);
    expect(merge.code, ok(merge)).toBe(0);
    const last = await cloneRemote(remote.url);
    expect((await g7Process(last, ['verify', RUN])).code).toBe(0);
    const r = await report(last, RUN);
    expect(r.counts).toEqual({ passed: 59, failed: 0, skipped: 1, pending: 0 });
    const results = (await journal(last)).filter((e) => e.event === 'card_result' && e.run === RUN).map((e) => e.card);
    expect(new Set(results).size).toBe(results.length);
    expect(results).toHaveLength(60);
  });

  it('a merge that runs again (a re-run of the workflow) adds nothing twice', { timeout: 120_000 }, async () => {
    const f = await factory(truck().filter((c) => c.id.startsWith('L2_') || c.id.startsWith('L1_')).slice(0, 8));
    expect((await f.g7('lanes', 'prepare')).code).toBe(0);
    for (const lane of [1, 2]) expect((await f.g7('lanes', 'run', '--run', RUN, '--lane', String(lane))).code).toBe(0);
    expect((await f.g7('lanes', 'merge')).code).toBe(0);
    const before = await journalText(f.ssot);
    const again = await f.g7('lanes', 'merge', RUN);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/run_0001 has been merged already/);
    const lane = await f.g7('lanes', 'run', '--run', RUN, '--lane', '1');
    expect(lane.out).toMatch(/has been merged already/);
    expect(await journalText(f.ssot)).toBe(before);
  });

  it("a corrupt line in a lane's journal part stops the merge with its file and line, and nothing is merged", { timeout: 120_000 }, async () => {
    const f = await factory(truck().filter((c) => c.id.startsWith('L2_')).slice(0, 4));
    expect((await f.g7('lanes', 'prepare')).code).toBe(0);
    expect((await f.g7('lanes', 'run', '--run', RUN, '--lane', '2')).code).toBe(0);
    const part = path.join(f.ssot, 'state/lanes', RUN, '2/journal.jsonl');
    const lines = (await readFile(part, 'utf8')).split('\n');
    const at = lines.findIndex((l) => l.includes('"card_result"'));
    lines[at] = '{"event": "card_result", "card": ';
    await writeFile(part, lines.join('\n'));
    const before = await journalText(f.ssot);
    const merge = await f.g7('lanes', 'merge', RUN);
    expect(merge.code).toBe(3);
    expect(merge.err).toContain(`ssot/state/lanes/${RUN}/2/journal.jsonl:${at + 1}: this line is not valid JSON`);
    expect(await journalText(f.ssot)).toBe(before);
  });

  it('a lane run whose merge job never ran is merged by the next g7 run before anything departs', { timeout: 120_000 }, async () => {
    const f = await factory(truck().filter((c) => c.id.startsWith('L2_')).slice(0, 4));
    expect((await f.g7('lanes', 'prepare')).code).toBe(0);
    expect((await f.g7('lanes', 'run', '--run', RUN, '--lane', '2')).code).toBe(0);
    expect((await f.g7('status')).out).toMatch(/next: lanes 2 of run_0001 run as jobs of a matrix; `g7 lanes merge` seals the run/);
    const next = await f.g7('run');
    expect(next.code, next.err).toBe(0);
    expect(next.err).toMatch(/run_0001 is a lane run that was not merged \(its merge job did not run\): merging it first/);
    expect(next.out).toMatch(/nothing to run/);
    expect((await f.g7('verify', RUN)).code).toBe(0);
    expect((await report(f.root, RUN)).counts).toMatchObject({ passed: 4, pending: 0 });
  });

  it('a lane that stops FAIL_STOP stops the run for a person, the other lanes finish; after g7 resume the next run does the failed card', { timeout: 120_000 }, async () => {
    const f = await factory([
      { id: 'L1_TEST_000001', prio: 'A', input: 'test -f fixed.txt', output: 'out/1.txt', accept: 'exit==0' },
      { id: 'L1_TEST_000002', prio: 'A', input: 'printf one', output: 'out/2.txt', accept: 'exit==0' },
      { id: 'L2_TEST_000001', prio: 'A', input: 'printf two', output: 'out/3.txt', accept: 'exit==0' },
    ]);
    expect((await f.g7('lanes', 'prepare')).code).toBe(0);
    expect((await f.g7('lanes', 'run', '--run', RUN, '--lane', '1')).code).toBe(4);
    expect((await f.g7('lanes', 'run', '--run', RUN, '--lane', '2')).code).toBe(0);
    const merge = await f.g7('lanes', 'merge');
    expect(merge.code).toBe(4);
    const state = JSON.parse(await readFile(path.join(f.ssot, 'state/factory_state.json'), 'utf8'));
    expect(state).toMatchObject({ state: 'FAIL_STOP', run_id: RUN, last_stop: { card: 'L1_TEST_000001', triage: 'TEST' } });
    expect(state.last_stop.files).toEqual(expect.arrayContaining([`ssot/runs/${RUN}/lanes/1/verify_report.json`, expect.stringMatching(/^ssot\/rework\/20261121_L1_TEST_000001_run_0001\.json$/)]));
    expect((await report(f.root, RUN)).counts).toEqual({ passed: 1, failed: 1, skipped: 0, pending: 1 });
    expect((await f.g7('verify', RUN)).code).toBe(0);

    await f.write('fixed.txt', 'fixed\n');
    expect((await f.g7('resume')).code).toBe(0);
    const next = await f.g7('run');
    expect(next.code, next.err).toBe(0);
    const r2 = await report(f.root, 'run_0002');
    expect(r2.cards.map((c) => `${c.id} ${c.status}`).sort()).toEqual(['L1_TEST_000001 PASS', 'L1_TEST_000002 PASS']);
  });

  it('TAG cards of two lanes find strike candidates: each lane keeps them in its records, the merge puts each chunk once on the strike list', { timeout: 120_000 }, async () => {
    const scanTag = (lane: number, n: number): CardSpec[] => [
      { id: `L${lane}_SCAN_${pad(n)}`, prio: 'A', input: [`doc00${n}.md`], output: `ssot/library_index/scan/${n}.jsonl`, accept: `lines>=1:ssot/library_index/scan/${n}.jsonl` },
      { id: `L${lane}_TAG_${pad(n)}`, prio: 'A', input: `ssot/library_index/scan/${n}.jsonl`, output: `ssot/library_index/tags/${n}.jsonl`, accept: `json:ssot/library_index/tags/${n}.jsonl`, deps: [`L${lane}_SCAN_${pad(n)}`] },
    ];
    const f = await factory([...scanTag(2, 1), ...scanTag(4, 2)]);
    expect((await f.g7('lanes', 'prepare')).code).toBe(0);
    for (const lane of ['2', '4']) expect((await f.g7('lanes', 'run', '--run', RUN, '--lane', lane)).code).toBe(0);
    const parts = await Promise.all(['2', '4'].map((l) => readFile(path.join(f.ssot, 'state/lanes', RUN, l, 'strike_list.jsonl'), 'utf8')));
    for (const p of parts) expect(p.trim().split('\n').length).toBeGreaterThan(0);
    expect(await exists(path.join(f.ssot, 'library_index/strike_list.jsonl'))).toBe(false);
    const merge = await f.g7('lanes', 'merge');
    expect(merge.code, merge.err).toBe(0);
    const list = (await readFile(path.join(f.ssot, 'library_index/strike_list.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { key: string; card: string });
    expect(list.length).toBe(parts.join('').trim().split('\n').length);
    expect(new Set(list.map((l) => l.key)).size).toBe(list.length);
    expect(new Set(list.map((l) => l.card))).toEqual(new Set(['L2_TAG_000001', 'L4_TAG_000002']));
    // Merging again adds no line.
    expect((await f.g7('lanes', 'merge', RUN)).code).toBe(0);
    expect((await readFile(path.join(f.ssot, 'library_index/strike_list.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(list.length);
    expect((await f.g7('verify', RUN)).code).toBe(0);
  });

  it('lanes prepared as a subset leave the truck open: the next run does the other lanes', { timeout: 120_000 }, async () => {
    const f = await factory(truck().filter((c) => !c.id.startsWith('L3_')).slice(0, 6));
    const prepared = await f.g7('lanes', 'prepare', '--lanes', '2');
    expect(prepared.out).toMatch(/departs as lanes 2 \(3 card\(s\)\)/);
    expect((await f.g7('lanes', 'run', '--run', RUN, '--lane', '2')).code).toBe(0);
    const merge = await f.g7('lanes', 'merge');
    expect(merge.out).toMatch(/lanes 1 were not in this run: the next run takes them/);
    const next = await f.g7('run');
    expect(next.code, next.err).toBe(0);
    expect(next.out).toMatch(/run_0002: round 1 truck A of 20261121 departs/);
    expect((await report(f.root, 'run_0002')).cards.map((c) => c.id).sort()).toEqual(['L1_SCAN_000001', 'L1_SCAN_000002', 'L1_SCAN_000003']);
  });

  it('a lane plan a person broke is refused with its file, line and field, and nothing runs', async () => {
    const f = await factory(truck().filter((c) => c.id.startsWith('L2_')).slice(0, 2));
    expect((await f.g7('lanes', 'prepare')).code).toBe(0);
    const file = path.join(f.ssot, 'runs', RUN, 'lanes.json');
    await f.write(`ssot/runs/${RUN}/lanes.json`, (await readFile(file, 'utf8')).replace('"lane": 2', '"lane": 9'));
    const r = await f.g7('lanes', 'run', '--run', RUN, '--lane', '2');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/ssot\/runs\/run_0001\/lanes\.json:\d+:\d+: lanes\[0\]\.lane: .*8/);
    expect(await exists(path.join(f.ssot, 'runs', RUN, 'lanes'))).toBe(false);
  });

  it('says what is wrong with a lane command line, and writes nothing', async () => {
    const f = await factory(truck().slice(0, 3));
    for (const [args, msg] of [
      [['lanes', 'run', '--run', 'run_1', '--lane', '2'], /--run takes a run id such as run_0003, got "run_1"/],
      [['lanes', 'run', '--run', RUN, '--lane', '9'], /--lanes takes lane numbers 1-8/],
      [['lanes', 'run', '--run', RUN, '--lane', '1,2'], /--lane takes one lane, got "1,2"/],
      [['lanes', 'prepare', '--truck', 'C'], /argument 'C' is invalid/],
      [['lanes', 'merge', 'run_0001'], /run_0001 is not a lane run: ssot\/runs\/run_0001\/lanes\.json does not exist/],
    ] as const) {
      const r = await f.g7(...args);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(2);
      expect(r.err).toMatch(msg);
    }
    const lane = await f.g7('lanes', 'run', '--run', RUN, '--lane', '1');
    expect(lane.code).toBe(6);
    expect(lane.err).toMatch(/run_0001 has no lane plan \(ssot\/runs\/run_0001\/lanes\.json\): the prepare job \(g7 lanes prepare\) makes it/);
    expect(await exists(path.join(f.ssot, 'runs'))).toBe(false);
  });

  it("each lane takes its share of the model limits and budgets", () => {
    const config = { limits: { rpm: 1000, tpm: 1_000_000, timeout_s: 120, max_input_tokens: 1, max_retry_delay_s: 90 }, budget: { per_truck_usd: 2, per_night_usd: 10 } };
    expect(laneShare(config, 3, 4)).toEqual({ rpm: 333, tpm: 333333, per_truck_usd: 2 / 3, per_night_usd: 2 });
    expect(laneShare(config, 1, 0)).toEqual({ rpm: 1000, tpm: 1_000_000, per_truck_usd: 2, per_night_usd: 10 });
    expect(laneShare({ ...config, limits: { ...config.limits, rpm: 2 } }, 8, 12)).toMatchObject({ rpm: 1, per_night_usd: 0 });
  });
});
