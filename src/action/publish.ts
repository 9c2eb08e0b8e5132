// Getting what a command changed onto the remote, and saying where it is. On GitHub the durable record is a
// pushed commit: a command that changed the SSOT and did not push changed nothing anyone will see.
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as core from '@actions/core';
import { Git } from '../git/git.js';
import { bundleUnpushed } from '../git/unpushed.js';
import { loadConfig } from '../ssot/config.js';
import type { Layout } from '../ssot/layout.js';
import { repoPath, SetupError, type ActionSettings } from './settings.js';

export interface Published {
  /** The commit that holds the change (HEAD), when there is one. */
  sha: string | undefined;
  /** True when that commit is on the remote branch. */
  onRemote: boolean;
}

async function target(s: ActionSettings, layout: Layout, git: Git): Promise<{ remote: string; branch: string }> {
  const config = await loadConfig(layout, (p) => repoPath(s, p));
  let branch = config.git.branch ?? (await git.currentBranch());
  // actions/checkout of a branch leaves HEAD on it; some checkouts detach it at the run's commit.
  if (branch === 'HEAD') branch = s.github.branch ?? '';
  if (!branch) throw new SetupError('HEAD is detached and the run is not on a branch: set git.branch in factory.yaml, or check out a branch');
  return { remote: config.git.remote, branch };
}

/** Whether HEAD is on the remote branch (pushed by us, or under commits pushed after ours). */
export async function headOnRemote(git: Git, remote: string, branch: string): Promise<boolean> {
  const fetched = await git.run(['fetch', '-q', remote, `refs/heads/${branch}`], { allowFail: true });
  if (fetched.code !== 0) return false;
  return (await git.run(['merge-base', '--is-ancestor', 'HEAD', 'FETCH_HEAD'], { allowFail: true })).code === 0;
}

/**
 * Commits the SSOT folder if the command changed it (unless dry-run) and pushes (if asked), then checks that
 * the commit is on the remote. A push that did not go through fails the step: nobody would see the change.
 */
export async function commitAndPush(s: ActionSettings, layout: Layout, subject: string, trailers: Record<string, string>): Promise<Published> {
  const git = new Git(layout.repoRoot);
  if (!(await git.isRepo())) return { sha: undefined, onRemote: false };
  if (s.dryRun) {
    core.info('dry run: nothing committed or pushed');
    return { sha: undefined, onRemote: false };
  }
  const ssotRel = path.relative(layout.repoRoot, layout.ssotDir) || '.';
  if (await git.commitPaths([ssotRel], subject, trailers)) core.info(`committed ${(await git.run(['rev-parse', 'HEAD'])).stdout.trim().slice(0, 10)}: ${subject}`);
  return pushHead(s, layout, git);
}

/** Pushes HEAD (when asked) and reports whether it is on the remote. */
export async function pushHead(s: ActionSettings, layout: Layout, git: Git): Promise<Published> {
  const head = async () => {
    const r = await git.run(['rev-parse', '--verify', '-q', 'HEAD'], { allowFail: true });
    return r.code === 0 ? r.stdout.trim() : undefined;
  };
  if (!s.push || s.dryRun || !(await head())) return { sha: await head(), onRemote: false };
  const { remote, branch } = await target(s, layout, git);
  // A rebase onto commits pushed meanwhile gives HEAD a new sha: read it after the push.
  if (!(await headOnRemote(git, remote, branch)))
    await git.pushWithRetry(remote, branch).catch((err: Error) => core.warning(`push to ${remote}/${branch}: ${err.message}`));
  const sha = (await head())!;
  const onRemote = await headOnRemote(git, remote, branch);
  if (onRemote) core.info(`${sha.slice(0, 10)} is on ${remote}/${branch}`);
  return { sha, onRemote };
}

/** Commits that reached no branch of the remote, as a git bundle in RUNNER_TEMP for the workflow to upload. */
export interface KeptBundle {
  file: string;
  /** Run in a clone holding the downloaded bundle: parks its commits where the next job lands them. */
  apply: string;
}

/** Writes the bundle of what HEAD has and the remote branch lacks; undefined when it lacks nothing. */
export async function bundleForArtifact(s: ActionSettings, layout: Layout, git: Git, run: string): Promise<KeptBundle | undefined> {
  const { remote, branch } = await target(s, layout, git);
  const file = path.join(s.github.runnerTemp ?? tmpdir(), `g7-unpushed-${run}.bundle`);
  const apply = await bundleUnpushed(git, remote, branch, run, file);
  return apply ? { file, apply } : undefined;
}

export function commitUrl(s: ActionSettings, sha: string): string | undefined {
  return s.github.repository ? `${s.github.serverUrl}/${s.github.repository}/commit/${sha}` : undefined;
}

export function treeUrl(s: ActionSettings, sha: string, rel: string): string | undefined {
  return s.github.repository ? `${s.github.serverUrl}/${s.github.repository}/tree/${sha}/${rel.split('/').map(encodeURIComponent).join('/')}` : undefined;
}
