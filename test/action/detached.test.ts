// A checkout with a detached HEAD (as some workflows check out the run's commit): the truck's evidence goes
// to the branch the run is on (GITHUB_REF), at every checkpoint, and never to a branch named HEAD.
import { describe, expect, it } from 'vitest';
import { factory, git, gitAsync, type CardSpec } from '../factory/fixture.js';
import { checkout, loopback, runBundle } from './runner.js';

const net = loopback();
const tests = (n: number): CardSpec[] => Array.from({ length: n }, (_, i) => ({ id: `L1_TEST_${String(i + 1).padStart(6, '0')}`, prio: 'A', input: `printf ${i + 1}`, output: `out/${i + 1}.txt`, accept: 'exit==0' }));

describe('the action on a detached HEAD', () => {
  it('pushes every checkpoint to the run\'s branch and finishes the truck', async () => {
    const f = await factory(tests(25));
    const remote = await net.remote(f.root);
    const co = await checkout(remote.url);
    await gitAsync(co.dir, 'checkout', '-q', '--detach');
    const r = await runBundle({ workspace: co.dir, sha: co.sha, ref: 'refs/heads/main', inputs: { command: 'run' } });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const subjects = git(remote.bare, 'log', '--format=%s', 'main');
    expect(subjects).toMatch(/^g7: run_0001 round 1 truck A stop: READY, 25 passed/);
    expect(subjects).toMatch(/g7: run_0001 round 1 truck A bundle 1\/6: RUNNING, 20 passed/);
    expect(git(remote.bare, 'branch', '--list').trim()).toBe('* main');
  });
});
