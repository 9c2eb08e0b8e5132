// Evidence survives a discarded runner even when the remote takes nothing: the push to the branch is refused,
// and so is the side branch g7/unpushed/<run> (an expired token, no permission; here a hook refusing every
// ref). The step fails saying what really happens on a GitHub-hosted runner, writes a git bundle of the
// commits to RUNNER_TEMP for the workflow to upload (outputs unpushed-bundle, unpushed-apply), and the
// command it prints, run in a fresh clone holding the bundle, parks the commits where the next job lands them:
// no card runs twice.
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { chmod, copyFile, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { childEnv } from '../helpers.js';
import { factory, git, type CardSpec } from '../factory/fixture.js';
import { checkout, loopback, runBundle } from './runner.js';

const pad = (n: number) => String(n).padStart(6, '0');
const CARDS: CardSpec[] = Array.from({ length: 21 }, (_, i) => ({ id: `L1_TEST_${pad(i + 1)}`, prio: 'A', input: `printf ${i + 1}`, output: `out/${i + 1}.txt`, accept: 'exit==0' }));
const sh = (cwd: string, command: string) =>
  new Promise<void>((resolve, reject) => execFile('sh', ['-c', command], { cwd, env: childEnv() }, (err, _out, stderr) => (err ? reject(new Error(`${command}: ${stderr}`)) : resolve())));

describe('a push refused on the branch and on the side branch, on a GitHub-hosted runner', () => {
  const net = loopback();

  it('fails the step saying the runner is discarded, keeps the commits as a git bundle, and its apply command hands them to the next job', { timeout: 120_000 }, async () => {
    const f = await factory(CARDS);
    const remote = await net.remote(f.root);
    const hook = path.join(remote.bare, 'hooks', 'pre-receive');
    await writeFile(hook, '#!/bin/sh\necho "error: Permission to g7-factory/factory.git denied to g7-factory[bot]." >&2\nexit 1\n');
    await chmod(hook, 0o755);

    const job1 = await checkout(remote.url);
    const r = await runBundle({ workspace: job1.dir, sha: job1.sha, inputs: { command: 'run' } });
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.summary).toMatch(/it is committed only in this job's clone \(parking it on origin failed too\), which GitHub discards with the runner after the job: only a git bundle of its commits carries it away/);
    expect(r.stdout).toMatch(/::error::the evidence of run_0001 is not on the remote: .*its commits are only in this clone \(GitHub discards this runner after the job\): they are kept in the git bundle .*g7-unpushed-run_0001\.bundle \(output unpushed-bundle\), which the shipped workflow uploads as an artifact/);
    expect(r.stdout).not.toMatch(/the next job pushes it/);
    const bundle = r.outputs['unpushed-bundle']!;
    expect(path.basename(bundle)).toBe('g7-unpushed-run_0001.bundle');
    expect((await stat(bundle)).size).toBeGreaterThan(0);
    expect(r.outputs['unpushed-apply']).toBe('git fetch g7-unpushed-run_0001.bundle HEAD:refs/heads/g7/unpushed/run_0001 && git push origin g7/unpushed/run_0001');
    expect(r.outputs.chained).toBe('false');
    // Nothing reached the remote; the runner is gone with its clone.
    expect(git(remote.bare, 'for-each-ref', '--format=%(refname:short)', 'refs/heads').trim()).toBe('main');
    await rm(path.dirname(job1.dir), { recursive: true, force: true });

    // A person, once the token is fixed: the artifact downloaded into a clone, the printed command run there.
    await rm(hook);
    const person = await checkout(remote.url);
    await copyFile(bundle, path.join(person.dir, path.basename(bundle)));
    await sh(person.dir, r.outputs['unpushed-apply']!);

    // The next job, a fresh clone: lands the parked commits, deletes the side branch, runs only the card left.
    const job2 = await checkout(remote.url);
    const next = await runBundle({ workspace: job2.dir, sha: job2.sha, inputs: { command: 'run' } });
    expect(next.code, next.stdout + next.stderr).toBe(0);
    expect(next.stdout).toMatch(/landed the evidence parked on origin g7\/unpushed\/run_0001/);
    expect(next.outputs).toMatchObject({ 'run-id': 'run_0002', state: 'READY', passed: '1' });
    expect(git(remote.bare, 'for-each-ref', '--format=%(refname:short)', 'refs/heads').trim()).toBe('main');
    const fresh = await checkout(remote.url);
    const results = (await readFile(path.join(fresh.dir, 'ssot/state/journal/20261121.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l)).filter((e) => e.event === 'card_result');
    expect(results.map((e) => e.card).sort()).toEqual(CARDS.map((c) => c.id));
  });
});
