// The g7 binary as a user runs it: the built bundle, a real process, real exit codes.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { REPO, tempRepo, childEnv } from '../helpers.js';

function g7(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/g7.mjs'), ...args], { cwd, encoding: 'utf8', env: childEnv() });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('g7 binary', () => {
  it('compiles and packs the example SSOT from its repository root', async () => {
    const repo = await tempRepo({ example: true });
    const c = g7(repo.root, 'plan', 'compile', 'ssot/plans/dayplan_20261121.yaml');
    expect(c.err).toBe('');
    expect(c.code).toBe(0);
    expect(c.out).toMatch(/compiled ssot\/plans\/dayplan_20261121\.yaml → ssot\/backlog\/backlog_20261121\.jsonl \(new\)/);
    const p = g7(repo.root, 'pack');
    expect(p.code).toBe(0);
    expect(p.out).toMatch(/packet_A:\s+24\/120\s+quota A 11\/60\s+B 11\/36\s+C 1\/18\s+D 1\/6/);
    const lines = (await readFile(path.join(repo.ssot, 'packets/20261121/round_01/packet_A.jsonl'), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(24);
  });

  it('prints machine-readable output with --json', async () => {
    const repo = await tempRepo({ example: true });
    const r = g7(repo.root, '--json', 'plan', 'check', 'ssot/plans/dayplan_20261121.yaml', 'ssot/backlog/packs/개집001.json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, files: [{ kind: 'dayplan', ok: true }, { kind: 'pack', ok: true }] });
  });

  it('exits 2 on a usage error and 3 on invalid input, without a stack trace', async () => {
    const repo = await tempRepo({ example: true });
    expect(g7(repo.root, 'plan', 'frobnicate').code).toBe(2);
    await repo.write('ssot/plans/bad.yaml', 'date: 2026-11-21\ngoal: g\nentries:\n  - { name: a, lane: 9, prio: A, type: TEST, input: x, output: y }\n');
    const r = g7(repo.root, 'plan', 'compile', 'ssot/plans/bad.yaml');
    expect(r.code).toBe(3);
    expect(r.err).toBe('ssot/plans/bad.yaml:4:22: entries[0].lane: must be <= 8; got number 9 [schema.maximum]\n    → use a number ≤ 8\n');
  });

  it('answers the small things a new user tries: --version, a typo, --json outside an SSOT, inside the SSOT, verify before any run', async () => {
    const pkg = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(g7(REPO, '--version')).toEqual({ code: 0, out: `${pkg.version}\n`, err: '' });

    const repo = await tempRepo({ example: true });
    const typo = g7(repo.root, 'stauts');
    expect(typo.code).toBe(2);
    expect(typo.err).toBe("error: unknown command 'stauts'\n(Did you mean status?)\n(g7 --help lists the commands)\n");
    expect(typo.out).toBe('');

    const outside = g7(path.join(repo.root, 'ssot/plans'), '--json', 'status');
    expect(outside.code).toBe(2);
    expect(JSON.parse(outside.out)).toEqual({ error: expect.stringMatching(/^no SSOT at ssot: /), exit: 2 });

    const inside = g7(repo.ssot, 'status');
    expect(inside.code).toBe(2);
    expect(inside.err).toBe('g7: no SSOT at ssot: this folder looks like an SSOT itself: run g7 from its parent (cd ..), or pass --ssot .\n');
    expect(g7(repo.ssot, '--ssot', '.', 'status').code).toBe(0);

    expect(g7(repo.root, 'verify')).toEqual({ code: 0, out: 'nothing to verify: there is no run yet\n', err: '' });
  });
});
