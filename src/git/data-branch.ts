// A data branch of the evidence remote (`g7/cache`): bulk data that must survive a discarded runner but has
// no place in main's history (SPEC 3a). It is never merged and never checked out. Each commit adds one
// segment file, named so that no two writers ever pick the same name, and nothing else: appending needs
// only the branch's tip, and lanes appending at once race only on the ref (fetch, rebuild, push again),
// never on content. Segments live under a UTC date folder (`2026-12-07/…`); the first append that finds a
// segment older than the window writes one new root commit holding what is inside the window, and
// force-pushes it with a lease on the tip it read: the branch's history never outgrows the window.
import { appendFile, readFile, rm } from 'node:fs/promises';
import { Git } from './git.js';
import { writeFileAtomic } from '../ssot/atomic.js';

/** Where a data branch's tip is kept locally: a namespace of our own, never a branch anyone checks out. */
const localRef = (branch: string) => `refs/g7/data/${branch}`;

export interface Segment {
  /** The path in the branch's tree: `YYYY-MM-DD/<unique name>`. */
  path: string;
  text: string;
}

/** The date folder of a segment path, or undefined for a file that is not a segment. */
export const segmentDay = (p: string): string | undefined => /^(\d{4}-\d{2}-\d{2})\//.exec(p)?.[1];

/**
 * The branch's tip on `remote`, fetched into our own ref: undefined when the remote has no such branch.
 * Throws with git's reason when the remote cannot be read.
 */
export async function fetchDataBranch(git: Git, remote: string, branch: string): Promise<string | undefined> {
  const r = await git.run(['fetch', '-q', '--no-tags', remote, `+refs/heads/${branch}:${localRef(branch)}`], { allowFail: true });
  if (r.code !== 0) {
    if (/couldn't find remote ref/i.test(r.stderr)) {
      await git.run(['update-ref', '-d', localRef(branch)], { allowFail: true });
      return undefined;
    }
    throw new Error(`cannot fetch ${remote} ${branch}: ${Git.failure(r)}`);
  }
  return (await git.run(['rev-parse', `${localRef(branch)}^{commit}`])).stdout.trim();
}

/** The segment paths a commit's tree holds. */
export async function segmentsAt(git: Git, commit: string): Promise<string[]> {
  return (await git.run(['ls-tree', '-r', '-z', '--name-only', commit])).stdout.split('\0').filter(Boolean);
}

export async function readSegment(git: Git, commit: string, p: string): Promise<string> {
  return (await git.run(['cat-file', 'blob', `${commit}:${p}`])).stdout;
}

/** Adds segment paths to a store's list of the segments it holds (`seenFile`, one path per line). */
export async function markSeen(seenFile: string, paths: string[]): Promise<void> {
  if (paths.length) await appendFile(seenFile, paths.map((n) => `${n}\n`).join(''));
}

/**
 * The segments at `tip` that a store's list (`seenFile`) does not name, and `settle`, to call once the store
 * has taken them: the list then names only what the branch still holds, so it stays as small as the window.
 */
export async function unseenSegments(git: Git, tip: string, seenFile: string): Promise<{ fresh: string[]; settle: () => Promise<void> }> {
  const seen = new Set((await readFile(seenFile, 'utf8').catch(() => '')).split('\n').filter(Boolean));
  const onBranch = (await segmentsAt(git, tip)).filter((p) => segmentDay(p));
  const fresh = onBranch.filter((p) => !seen.has(p));
  const settle = async () => {
    const kept = new Set(onBranch);
    if ([...seen].some((n) => !kept.has(n))) await writeFileAtomic(seenFile, onBranch.map((n) => `${n}\n`).join(''));
    else await markSeen(seenFile, fresh);
  };
  return { fresh, settle };
}

export interface Appended {
  commit: string;
  /** Segments older than the window that this append dropped (the branch got a new root). */
  dropped: number;
}

/**
 * Adds `segment` to `branch` on `remote`. `keepFrom` (YYYY-MM-DD) is the window's first day: older
 * segments are dropped by a new root commit. Retries when another writer moved the tip meanwhile. Returns
 * the commit pushed, or throws with why it could not be pushed.
 */
export async function appendSegment(git: Git, remote: string, branch: string, segment: Segment, keepFrom: string, message: string): Promise<Appended> {
  const blob = (await git.run(['hash-object', '-w', '--stdin'], { input: segment.text })).stdout.trim();
  const index = await git.gitPath(`g7-data-index-${process.pid}`);
  try {
    return await appendOnTip(git, remote, branch, blob, segment.path, keepFrom, message, { GIT_INDEX_FILE: index });
  } finally {
    await rm(index, { force: true });
  }
}

async function appendOnTip(git: Git, remote: string, branch: string, blob: string, at: string, keepFrom: string, message: string, env: Record<string, string>): Promise<Appended> {
  for (let attempt = 1; ; attempt++) {
    const tip = await fetchDataBranch(git, remote, branch);
    const old = tip ? (await segmentsAt(git, tip)).filter((p) => (segmentDay(p) ?? '') < keepFrom) : [];
    await git.run(tip ? ['read-tree', tip] : ['read-tree', '--empty'], { env });
    const updates = [...old.map((p) => `0 ${'0'.repeat(40)}\t${p}`), `100644 ${blob}\t${at}`];
    await git.run(['update-index', '--index-info'], { env, input: updates.join('\n') + '\n' });
    const tree = (await git.run(['write-tree'], { env })).stdout.trim();
    // A new root when the window moved (or the branch is new); else one commit on the tip.
    const parent = tip && old.length === 0 ? ['-p', tip] : [];
    const commit = (await git.run(['commit-tree', tree, ...parent, '-m', message])).stdout.trim();
    // The lease: the branch is still the tip read above (absent when there was none).
    const r = await git.pushTransientRetried(remote, `+${commit}:refs/heads/${branch}`, [`--force-with-lease=refs/heads/${branch}:${tip ?? ''}`]);
    if (r.code === 0) {
      await git.run(['update-ref', localRef(branch), commit]);
      return { commit, dropped: old.length };
    }
    const race = /\[rejected\][^\n]*\((stale info|fetch first|non-fast-forward)\)|\[remote rejected\][^\n]*\((failed to update ref|failed to lock|incorrect old value provided)\)/.test(r.stderr);
    if (!race || attempt >= 8) throw new Error(`cannot push ${remote} ${branch}: ${Git.failure(r)}${race ? ` (others kept moving it, ${attempt} tries)` : ''}`);
  }
}
