// A job's time budget (`g7 run --max-minutes N`, the action's `max-minutes`): an App installation token lives an
// hour and a job has its timeout, so no bundle starts that would not end in time. The truck stops cleanly at
// a bundle boundary, RECOVERABLE with retry_after now, and the next job resumes it at once. No timing is
// asserted: the cards sleep, so a bundle takes at least 2 s, longer than a budget of 1.2 s and far shorter
// than one of 600 minutes.
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process, type CardSpec } from './fixture.js';
import { DAY } from './fixture.js';

const pad = (n: number) => String(n).padStart(6, '0');
const json = async (p: string) => JSON.parse(await readFile(p, 'utf8'));

/** 21 cards: bundle 1 holds 20 of them (each sleeps 0.1 s), bundle 2 the last one. */
const CARDS: CardSpec[] = Array.from({ length: 21 }, (_, i) => ({ id: `L1_TEST_${pad(i + 1)}`, prio: 'A', input: `sleep 0.1; printf ${i + 1}`, output: `out/${i + 1}.txt`, accept: 'exit==0' }));

describe('a job\'s time budget', () => {
  it('stops after the bundle whose length says the next would not fit, RECOVERABLE with retry_after now; the next job resumes at the next bundle and runs every card once', { timeout: 120_000 }, async () => {
    const f = await factory(CARDS);
    const first = await g7Process(f.root, ['run', '--max-minutes', '0.02']);
    expect(first.code, first.err).toBe(5);
    expect(first.err).toMatch(/RECOVERABLE: stopped after bundle 1: the job's time budget \(max-minutes 0\.02\) has 0\.0 min left and a bundle has taken up to \d+\.\d min; the next job resumes at bundle 2 \(L1_TEST_000021\)/);
    expect(first.out).toMatch(/bundle 1\/6 done/);
    expect(first.out).not.toMatch(/L1_TEST_000021 PASS/);
    const state = await json(path.join(f.ssot, 'state/factory_state.json'));
    expect(state).toMatchObject({ state: 'RECOVERABLE', stalled: 0, last_stop: { card: 'L1_TEST_000021', transient: true, triage: null } });
    // retry_after is the stop itself: the next job does not wait.
    expect(Date.parse(state.last_stop.retry_after)).toBeLessThanOrEqual(Date.parse(state.last_stop.at));
    expect(f.git('log', '-1', '--format=%s')).toMatch(/^g7: run_0001 round 1 truck A stop: RECOVERABLE, 20 passed, 0 failed/);

    const next = await g7Process(f.root, ['run']);
    expect(next.code, next.err).toBe(0);
    expect(next.out).toMatch(/run_0002: round 1 truck A of \d+ departs/);
    expect(next.out).toMatch(/L1_TEST_000021 PASS/);
    expect((await json(path.join(f.ssot, 'state/factory_state.json'))).state).toBe('READY');
    expect((await readdir(path.join(f.ssot, 'runs'))).sort()).toEqual(['run_0001', 'run_0002']);
    // Every card has exactly one result across the two runs, and both runs verify.
    const results = (await readFile(path.join(f.ssot, 'state/journal', `${DAY}.jsonl`), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.event === 'card_result');
    expect(results.map((e) => e.card).sort()).toEqual(CARDS.map((c) => c.id).sort());
    for (const id of ['run_0001', 'run_0002']) expect((await g7Process(f.root, ['verify', id])).code).toBe(0);
  });

  it('a budget the bundles fit in changes nothing; a budget that is not a number of minutes is refused before anything runs', { timeout: 60_000 }, async () => {
    const f = await factory(CARDS);
    const bad = await g7Process(f.root, ['run', '--max-minutes', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--max-minutes takes a number of minutes above 0 \(e\.g\. 50\), got "soon"/);
    const r = await g7Process(f.root, ['run', '--max-minutes', '600']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/round 1 truck A of \d+ finished: 21 passed/);
  });
});
