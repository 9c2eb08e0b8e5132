// The g7 binary as a new user meets it: piped into head, run in the wrong folder, given a broken work pack.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, childEnv } from '../helpers.js';
import { factory, g7Process, g7IntoHead } from '../factory/fixture.js';

const tests = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `L1_TEST_${String(i + 1).padStart(6, '0')}`, prio: 'A' as const, input: `printf ${i + 1}`, output: `out/${i + 1}.txt`, accept: 'exit==0' }));

describe('g7 as a new user meets it', () => {
  it('g7 run | head -1 finishes the truck: a closed stdout never kills it', async () => {
    const f = await factory(tests(40));
    const r = await g7IntoHead(f.root, ['run']);
    expect(r.first).toMatch(/^run_0001: round 1 truck A of 20261121 departs$/);
    expect(r.err).not.toMatch(/EPIPE|at .*\.mjs/);
    expect(r.code).toBe(0);
    const report = JSON.parse(await readFile(path.join(f.ssot, 'runs/run_0001/verify_report.json'), 'utf8'));
    expect(report).toMatchObject({ state: 'READY', counts: { passed: 40 } });
    expect(JSON.parse(await readFile(path.join(f.ssot, 'state/factory_state.json'), 'utf8')).state).toBe('READY');
    // The log has what the closed pipe never showed.
    expect(await readFile(path.join(f.ssot, 'runs/run_0001/stdout.txt'), 'utf8')).toMatch(/\[40\/40\] L1_TEST_000040 PASS/);
    expect((await g7IntoHead(f.root, ['log'])).code).toBe(0);
  });

  it('says there is no SSOT in a folder without one, and writes nothing there', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-empty-'));
    for (const cmd of [['status'], ['run'], ['pack'], ['resume'], ['log'], ['verify']]) {
      const r = await g7Process(dir, cmd);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.err).toBe('g7: no SSOT at ssot: run g7 from the repository that holds it, pass --ssot DIR, or create one with g7 init\n');
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a work pack with an unknown field and a missing one at compile, pack and run, naming file and field', async () => {
    const bad = JSON.stringify({ id: 'p1', goal: 'g', files: { create: ['out/p.txt'], modify: [] }, forbidden: [], success: ['s'], colour: 'blue' }, null, 2);
    const good = JSON.stringify({ id: 'p1', goal: 'g', files: { create: ['out/p.txt'], modify: [] }, forbidden: [], success: ['s'], evidence: ['e'] }, null, 2);
    const f = await factory([{ id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'out/p.txt', pack: 'p1' }], { files: { 'ssot/backlog/packs/p1.json': good } });
    const packFile = path.join(f.ssot, 'backlog/packs/p1.json');
    await writeFile(packFile, bad);
    const problems = /ssot\/backlog\/packs\/p1\.json:1:1: evidence: missing required field "evidence" \[schema\.required\][\s\S]*ssot\/backlog\/packs\/p1\.json:14:3: colour: unknown field "colour" \[schema\.unknown-field\]/;

    await f.write('ssot/plans/dayplan_20261121.yaml', 'date: 2026-11-21\ngoal: g\nentries:\n  - { name: t, lane: 1, prio: A, type: TEST, pack: p1, input: printf ok, output: out/p.txt }\n');
    const compiled = await g7Process(f.root, ['plan', 'compile', 'ssot/plans/dayplan_20261121.yaml', '--dry-run']);
    expect(compiled.code).toBe(3);
    expect(compiled.err).toMatch(/dayplan_20261121\.yaml:4:\d+: entries\[0\]\.pack: work pack "p1" is invalid/);
    expect(compiled.err).toMatch(problems);

    const packed = await g7Process(f.root, ['pack']);
    expect(packed.code).toBe(3);
    expect(packed.err).toMatch(/a work pack of a card in round 1 is invalid; nothing was packed/);
    expect(packed.err).toMatch(problems);

    // Packed while the pack was good, broken before the run: the card fails SCHEMA, twice, and stops the truck.
    const ran = await g7Process(f.root, ['run']);
    expect(ran.code).toBe(4);
    expect(ran.err).toMatch(/FAIL_STOP: L1_TEST_000001 failed twice: SCHEMA: work pack "p1" is invalid/);
  });

  it('npm run g7 runs g7 in the folder it was typed in, not in the package root (npm keeps that folder in INIT_CWD)', async () => {
    // The package root holds the product's own ssot/: g7 run there would read (and commit into) it.
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-npm-'));
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['--prefix', REPO, 'run', '--silent', 'g7', '--', 'status'], { cwd: dir, env: childEnv(), encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('g7: no SSOT at ssot:');
    expect(await readdir(dir)).toEqual([]);
  });

  it('g7 run --push with no such remote says to add one or drop --push, and runs nothing', async () => {
    const f = await factory(tests(2));
    const r = await g7Process(f.root, ['run', '--push']);
    expect(r.code).toBe(2);
    expect(r.err).toBe('g7: --push, but this repository has no git remote "origin"\n  → add it (git remote add origin URL) or run without --push\n');
    expect(r.err).not.toMatch(/protection/);
    await expect(readdir(path.join(f.ssot, 'runs'))).rejects.toThrow();
  });
});
