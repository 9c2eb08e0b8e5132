// One log per run, across every process that worked on it: stdout.txt and stderr.txt grow across resumes
// (a marker line per process), and hold the departure, every card, every attempt and every warning.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process, runDir, type CardSpec } from './fixture.js';

const tests = (n: number): CardSpec[] => Array.from({ length: n }, (_, i) => ({ id: `L1_TEST_${String(i + 1).padStart(6, '0')}`, prio: 'A', input: `printf ${i + 1}`, output: `out/${i + 1}.txt`, accept: 'exit==0' }));

describe('the run log', () => {
  it('after two SIGKILLs and a resume holds a marker per process, the departure, a line for every card, every attempt and warning', async () => {
    // Card 25 fails its first attempt (its rework passes): its "attempt 1 failed" line must reach the log.
    const flaky: CardSpec = { id: 'L2_TEST_000001', prio: 'B', input: 'test -f out/flag || { touch out/flag; echo first try fails >&2; exit 1; }', output: 'out/flaky.txt', accept: 'exit==0' };
    const f = await factory([...tests(30), flaky]);
    // Killed once between a card's journal line and its log line, once in the middle of a card.
    const killed = [await g7Process(f.root, ['run'], { G7_FAULT: 'card.journaled@9' }), await g7Process(f.root, ['run'], { G7_FAULT: 'card.executed@7' })];
    expect(killed.map((k) => k.signal)).toEqual(['SIGKILL', 'SIGKILL']);
    const last = await g7Process(f.root, ['run']);
    expect(last.code, last.err).toBe(0);

    const stdout = await readFile(path.join(runDir(f, 'run_0001'), 'stdout.txt'), 'utf8');
    const stderr = await readFile(path.join(runDir(f, 'run_0001'), 'stderr.txt'), 'utf8');
    const markers = stdout.split('\n').filter((l) => l.startsWith('--- g7 '));
    expect(markers.map((m) => m.replace(/: pid \d+ on .*/, ''))).toEqual(['--- g7 departs', '--- g7 resumes the run after an interruption', '--- g7 resumes the run after an interruption']);
    expect(stdout).toMatch(/run_0001: round 1 truck A of 20261121 departs/);
    for (const c of [...tests(30), flaky]) expect(stdout, c.id).toMatch(new RegExp(`\\] ${c.id} (PASS|SKIP)`));
    expect(stdout).toMatch(/\[9\/31\] L1_TEST_000009 PASS \(recorded before the interruption\)/);
    expect(stdout).toMatch(/L2_TEST_000001 attempt 1 failed: TEST: exit==0: exit 1/);
    expect(stdout).toMatch(/run_0001: READY — round 1 truck A of 20261121 finished: 31 passed/);
    // What the terminal showed as warnings is in stderr.txt, under the marker of the process that printed it.
    expect(stderr.split('\n').filter((l) => l.startsWith('--- g7 '))).toHaveLength(3);
    expect(stderr).toMatch(/took over the lock of pid \d+, which is gone/);
    expect(last.err.split('\n').filter((l) => l.startsWith('warning: ')).every((w) => stderr.includes(w.slice('warning: '.length)))).toBe(true);
    // Every card has exactly one result line per result, and the pack still verifies.
    expect((await g7Process(f.root, ['verify', 'run_0001'])).code).toBe(0);
  });
});
