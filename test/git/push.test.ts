// The evidence reaches the remote or the job fails: a push the remote refuses (a pre-receive hook, as branch
// protection does) is not retried as a race; the run stops with exit 8, says so, keeps the evidence committed
// here, and the next job pushes it before it departs. A detached HEAD never pushes to a branch named HEAD.
import { describe, expect, it } from 'vitest';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cloneRemote, factory, g7Process, git, type CardSpec } from '../factory/fixture.js';
import { httpRemote, type HttpRemote } from './http-remote.js';

/** A pre-receive hook that declines every push, the way a protected branch does, and counts the pushes it saw. */
async function protect(remote: HttpRemote): Promise<{ attempts: () => Promise<number>; lift: () => Promise<void> }> {
  const hook = path.join(remote.bare, 'hooks', 'pre-receive');
  const count = path.join(remote.bare, 'push-attempts');
  await writeFile(hook, `#!/bin/sh\necho push >> "${count}"\necho "GH006: Protected branch update failed for refs/heads/main: changes must be made through a pull request." >&2\nexit 1\n`);
  await chmod(hook, 0o755);
  return {
    attempts: async () => (await readFile(count, 'utf8').catch(() => '')).split('\n').filter(Boolean).length,
    lift: () => rm(hook),
  };
}

const tests = (n: number): CardSpec[] => Array.from({ length: n }, (_, i) => ({ id: `L1_TEST_${String(i + 1).padStart(6, '0')}`, prio: 'A', input: `printf ${i + 1}`, output: `ssot/out/${i + 1}.txt`, accept: 'exit==0' }));
const remoteSubjects = (remote: HttpRemote) => git(remote.bare, 'log', '--format=%s', 'main');

describe('a push the remote refuses', () => {
  it('stops the truck with exit 8 and the reason, keeps the evidence committed, and the next job pushes it first', async () => {
    const f = await factory(tests(25));
    const remote = await httpRemote(f.root);
    try {
      const work = await cloneRemote(remote.url);
      const guard = await protect(remote);
      const r = await g7Process(work, ['run', '--push']);
      expect(r.code, r.err).toBe(8);
      expect(r.err).toMatch(/git push to origin main was refused: pre-receive hook declined; GH006: Protected branch update failed/);
      expect(r.err).toMatch(/UNPUSHED: stopped after bundle 1: the remote refused the push\n {2}the evidence is NOT on the remote branch: pre-receive hook declined[^\n]*\n {2}it is committed only in this clone \(parking it on origin failed too\): the next g7 run --push from this clone pushes it before it departs/);
      expect(r.err).toMatch(/git push to origin g7\/unpushed\/run_0001 failed too: pre-receive hook declined/);
      expect(await guard.attempts()).toBe(2); // refused, not retried as a race; then the side branch, refused too
      // The evidence is committed here, sealed and verifying; the remote has none of it.
      expect(git(work, 'log', '--format=%s')).toMatch(/g7: run_0001 round 1 truck A stop: RECOVERABLE, 20 passed/);
      expect(remoteSubjects(remote)).not.toMatch(/g7:/);
      expect((await g7Process(work, ['verify', 'run_0001'])).code).toBe(0);
      const state = JSON.parse(await readFile(path.join(work, 'ssot/state/factory_state.json'), 'utf8'));
      expect(state.unpushed).toMatchObject({ reason: expect.stringMatching(/pre-receive hook declined/) });
      expect((await g7Process(work, ['status'])).out).toMatch(/remote: the evidence committed since \S+ is NOT on the remote \(pre-receive hook declined/);

      // Still refused: the next job does not depart (no new run), and fails again.
      const still = await g7Process(work, ['run', '--push']);
      expect(still.code).toBe(8);
      expect(still.err).toMatch(/no truck departs/);
      expect(git(work, 'log', '--format=%s')).not.toMatch(/run_0002/);

      // Once the factory may push: the next job pushes what was committed, then continues the truck.
      await guard.lift();
      const next = await g7Process(work, ['run', '--push']);
      expect(next.code, next.err).toBe(0);
      expect(next.out).toMatch(/pushed the evidence committed since \S+, which the remote had refused/);
      expect(remoteSubjects(remote)).toMatch(/g7: run_0001 round 1 truck A stop: RECOVERABLE, 20 passed[\s\S]*/);
      expect(remoteSubjects(remote).split('\n')[0]).toMatch(/^g7: run_0002 round 1 truck A stop: READY, 5 passed/);
      const fresh = await cloneRemote(remote.url);
      for (const id of ['run_0001', 'run_0002']) expect((await g7Process(fresh, ['verify', id])).code).toBe(0);
      expect(JSON.parse(await readFile(path.join(work, 'ssot/state/factory_state.json'), 'utf8')).unpushed).toBeNull();
    } finally {
      await remote.close();
    }
  });

  it('on a detached HEAD pushes to the configured branch, or refuses; never to a branch named HEAD', async () => {
    const f = await factory(tests(2));
    const remote = await httpRemote(f.root);
    try {
      const work = await cloneRemote(remote.url);
      git(work, 'checkout', '-q', '--detach');
      const r = await g7Process(work, ['run', '--push']);
      expect(r.code).toBe(8);
      expect(r.err).toMatch(/HEAD is detached and no branch is configured; set git\.branch in factory\.yaml/);
      expect(git(remote.bare, 'branch', '--list')).not.toMatch(/HEAD/);

      await writeFile(path.join(work, 'ssot/factory.yaml'), (await readFile(path.join(work, 'ssot/factory.yaml'), 'utf8')) + 'git: { branch: main }\n');
      const ok = await g7Process(work, ['run', '--push']);
      expect(ok.code, ok.err).toBe(0);
      expect(git(remote.bare, 'branch', '--list').trim()).toBe('* main');
      expect(remoteSubjects(remote)).toMatch(/^g7: run_0001 round 1 truck A stop: READY, 2 passed/);
    } finally {
      await remote.close();
    }
  });
});
