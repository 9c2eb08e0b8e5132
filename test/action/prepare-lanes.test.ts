// The lane matrix starts only from a departure its lane jobs can see: each lane job is a fresh clone of the
// branch. A prepare job whose push main refuses (a ruleset, here a pre-receive hook) parks the departure on
// g7/unpushed/<run> and outputs no `lanes`, so the workflow starts no lane job that would fail with "not a
// lane run"; the next job lands the departure, closes its lane run with no result and runs the truck. The committed bundle, the runner's variables.
import { describe, expect, it } from 'vitest';
import { chmod, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, gitAsync } from '../factory/fixture.js';
import { checkout, loopback, runBundle } from './runner.js';

describe('prepare-lanes', { timeout: 120_000 }, () => {
  const net = loopback();

  it('outputs no lanes when its departure did not reach the branch; the next job lands it and runs every card once', async () => {
    const cards = [1, 2].flatMap((lane) => [1, 2].map((n) => ({ id: `L${lane}_TEST_00000${n}`, prio: 'A' as const, input: `printf lane-${lane}-${n}`, output: `out/${lane}-${n}.txt`, accept: 'exit==0' })));
    const f = await factory(cards);
    const remote = await net.remote(f.root);
    const hook = path.join(remote.bare, 'hooks', 'pre-receive');
    await writeFile(hook, '#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then echo "error: GH013: Repository rule violations found for refs/heads/main." >&2; exit 1; fi\ndone\nexit 0\n');
    await chmod(hook, 0o755);
    const dispatch = { name: 'workflow_dispatch', payload: { inputs: { truck: 'next', lanes: '' } } };

    const co = await checkout(remote.url);
    const prepared = await runBundle({ workspace: co.dir, sha: co.sha, event: dispatch, inputs: { command: 'prepare-lanes' } });
    expect(prepared.outputs['run-id']).toBe('run_0001');
    expect(prepared.outputs.lanes).toBeUndefined();
    expect(prepared.stdout).toMatch(/::warning::run_0001 departed here but its departure is not on main \(parked on g7\/unpushed\/run_0001\): no lane job starts, since each checks out the branch; the next job lands the departure first/);
    expect((await gitAsync(remote.bare, 'rev-parse', 'refs/heads/main')).trim()).toBe(co.sha);

    // The ruleset lifted (or the App made a bypass actor): the next job lands the parked departure first.
    await rm(hook);
    const next = await checkout(remote.url);
    const ran = await runBundle({ workspace: next.dir, sha: next.sha, inputs: { command: 'run' } });
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    // Its lane run never had a lane job: merged first as RECOVERABLE with no result, and every card runs once, in the next run.
    expect(ran.stdout).toMatch(/landed the evidence parked on origin g7\/unpushed\/run_0001/);
    expect(ran.stdout).toMatch(/run_0001: RECOVERABLE — lane\(s\) 1, 2 of run_0001 did not finish: 4 card\(s\) have no result; the next run takes them/);
    expect(ran.outputs).toMatchObject({ 'run-id': 'run_0002', state: 'READY', passed: '4', failed: '0' });
  });
});
