// Evidence the remote refused on its branch, kept where the next job finds it. On a GitHub-hosted runner
// the workspace is discarded after the job, and on a self-hosted one actions/checkout resets the branch to
// the remote's, so commits that are only local are lost either way. A refused push therefore puts them on a
// side branch of the same remote, `g7/unpushed/<run>`, which the ruleset of the default branch does not
// cover; the next job (a fresh clone) fetches every such branch, merges it into its branch, pushes, and
// deletes the side branches it landed. When even the side branch cannot be pushed (an expired token, no
// permission, no network), a `git bundle` of the unpushed commits is what is left to carry them away.
import { Git } from './git.js';

export const PARKED_PREFIX = 'g7/unpushed/';
/** Where the fetched side branches are kept locally: a namespace of our own, never a branch anyone checks out. */
const LOCAL = 'refs/g7/parked/';

export const parkedBranch = (run: string): string => `${PARKED_PREFIX}${run}`;

/** Pushes HEAD to `g7/unpushed/<run>` on `remote` (replacing it: each park holds everything parked before). The failure, if any. */
export async function parkHead(git: Git, remote: string, run: string): Promise<string | undefined> {
  const r = await git.pushTransientRetried(remote, `+HEAD:refs/heads/${parkedBranch(run)}`);
  return r.code === 0 ? undefined : Git.failure(r);
}

export interface Parked {
  /** The side branch on the remote, e.g. g7/unpushed/run_0003. */
  branch: string;
  sha: string;
}

/** The side branches on `remote`, fetched (oldest run first). Throws a message when the remote cannot be read. */
export async function fetchParked(git: Git, remote: string): Promise<Parked[]> {
  const r = await git.run(['fetch', '-q', '--prune', '--no-tags', remote, `+refs/heads/${PARKED_PREFIX}*:${LOCAL}*`], { allowFail: true });
  if (r.code !== 0) throw new Error(`cannot look for evidence parked on ${remote} (${PARKED_PREFIX}*): ${Git.failure(r)}`);
  const refs = await git.run(['for-each-ref', '--sort=refname', '--format=%(refname) %(objectname)', LOCAL]);
  return refs.stdout.split('\n').filter(Boolean).map((l) => {
    const [ref, sha] = l.split(' ');
    return { branch: PARKED_PREFIX + ref!.slice(LOCAL.length), sha: sha! };
  });
}

/**
 * Brings each parked branch into HEAD: nothing when HEAD has it already, a fast-forward when HEAD is behind
 * it, else a merge (a person pushed meanwhile). Returns the branches whose commits HEAD now holds; a merge
 * that conflicts is aborted and named in `problem`, and that branch stays parked.
 */
export async function landParked(git: Git, parked: Parked[]): Promise<{ landed: Parked[]; merged: Parked[]; problem?: string }> {
  const landed: Parked[] = [];
  const merged: Parked[] = [];
  for (const p of parked) {
    if ((await git.run(['merge-base', '--is-ancestor', p.sha, 'HEAD'], { allowFail: true })).code === 0) {
      landed.push(p);
      continue;
    }
    const ff = (await git.run(['merge-base', '--is-ancestor', 'HEAD', p.sha], { allowFail: true })).code === 0;
    const args = ff ? ['merge', '-q', '--ff-only', '--autostash', p.sha] : ['merge', '-q', '--no-ff', '--autostash', '--no-verify', '-m', `g7: land the evidence parked on ${p.branch}`, p.sha];
    const r = await git.run(args, { allowFail: true });
    if (r.code !== 0) {
      await git.run(['merge', '--abort'], { allowFail: true });
      return { landed, merged, problem: `${p.branch} does not merge into HEAD: ${Git.failure(r)}` };
    }
    landed.push(p);
    merged.push(p);
  }
  return { landed, merged };
}

/** Deletes landed side branches on the remote (their commits are on the branch now). The failures, if any. */
export async function deleteParked(git: Git, remote: string, parked: Parked[]): Promise<string[]> {
  const problems: string[] = [];
  for (const p of parked) {
    // Only the commit we landed: a side branch parked again meanwhile stays.
    const r = await git.pushTransientRetried(remote, `:refs/heads/${p.branch}`, [`--force-with-lease=refs/heads/${p.branch}:${p.sha}`]);
    if (r.code !== 0) problems.push(`${p.branch}: ${Git.failure(r)}`);
    else await git.run(['update-ref', '-d', LOCAL + p.branch.slice(PARKED_PREFIX.length)], { allowFail: true });
  }
  return problems;
}

/**
 * Writes a git bundle of the commits HEAD has and `remote`/`branch` has not (all of HEAD when the remote
 * cannot be read) to `file`. Returns the command that applies it from a clone, or undefined when there is
 * nothing to bundle.
 */
export async function bundleUnpushed(git: Git, remote: string, branch: string, run: string, file: string): Promise<string | undefined> {
  const fetched = await git.run(['fetch', '-q', '--no-tags', remote, `+refs/heads/${branch}:refs/g7/remote-head`], { allowFail: true });
  const range = fetched.code === 0 ? ['refs/g7/remote-head..HEAD'] : ['HEAD'];
  if (fetched.code === 0 && (await git.run(['merge-base', '--is-ancestor', 'HEAD', 'refs/g7/remote-head'], { allowFail: true })).code === 0) return undefined;
  await git.run(['bundle', 'create', '-q', file, ...range]);
  // The bundle's HEAD is pushed to the side branch: the next job lands it as if this job had parked it.
  return `git fetch ${file.split(/[\\/]/).at(-1)} HEAD:refs/heads/${parkedBranch(run)} && git push ${remote} ${parkedBranch(run)}`;
}
