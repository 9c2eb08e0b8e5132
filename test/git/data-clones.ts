// Clones for the data-branch tests (g7/cache, g7/audit): a seed repository to serve, and a runner's checkout
// of it, a fresh clone over the loopback HTTP remote with the product's own Git wrapper.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Git } from '../../src/git/git.js';
import { childEnv } from '../helpers.js';
import { git, gitAsync, initGit } from '../factory/fixture.js';

/** A repository with one commit, for an HTTP remote to serve. */
export async function seedRepo(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'g7-data-seed-'));
  initGit(dir);
  await writeFile(path.join(dir, 'README'), 'seed\n');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'seed');
  return dir;
}

/** A runner's checkout: a fresh clone of `url`, with a committer. */
export async function runnerClone(url: string): Promise<{ root: string; git: Git }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'g7-data-runner-'));
  await gitAsync(dir, 'clone', '-q', url, 'w');
  const root = path.join(dir, 'w');
  git(root, 'config', 'user.email', 'g7@example.invalid');
  git(root, 'config', 'user.name', 'g7');
  return { root, git: new Git(root, childEnv()) };
}
