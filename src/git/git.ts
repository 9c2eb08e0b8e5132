// git, through its command line: the audit trail. Commits carry G7-* trailers so that `g7 log` can rebuild
// the history of runs from `git log` alone. A push that lost a race (another push got there first) is
// fetched, rebased and tried again; one that failed for a reason that clears by itself (the forge answered
// 5xx or 429, the network dropped) is tried again after a backoff, a few times; a push refused for any other
// reason (branch protection, a hook, permissions, an expired token) is not retried: it is reported as a
// PushRefused, so the evidence that is committed here but not on the remote is never passed off as delivered.
import { execFile, spawn } from 'node:child_process';
import { access, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { faultPoint } from '../host/faults.js';

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class GitError extends Error {
  constructor(readonly args: string[], readonly result: GitResult) {
    super(`git ${args.join(' ')} failed (${result.code}): ${result.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    this.name = 'GitError';
  }
}

/** The remote did not take the evidence, for a reason other than a race. */
export class PushRefused extends Error {
  constructor(readonly remote: string, readonly branch: string, readonly reason: string) {
    super(`git push to ${remote} ${branch} was refused: ${reason}`);
    this.name = 'PushRefused';
  }
}

/**
 * A push failure that clears by itself: the forge's HTTP 5xx or 429 (git prints "The requested URL returned
 * error: 503" or "RPC failed; HTTP 502"), a dropped or refused connection, a name that did not resolve. A 401
 * or 403 (an expired token, missing permission) and a rejected ref are not transient.
 */
export function transientPushFailure(stderr: string): boolean {
  return /returned error: (5\d\d|429)\b|RPC failed; HTTP (5\d\d|429)\b|Could not resolve host|Failed to connect|Connection (refused|reset|timed out)|Operation timed out|early EOF|unexpected disconnect while reading sideband packet|Empty reply from server|SSL_read|gnutls_handshake\(\) failed/i.test(stderr);
}

/** The waits between tries of a push that failed for a transient reason: a few seconds, then give up. */
export const TRANSIENT_PUSH_WAITS_MS = [1000, 4000, 15000];

/** Why a push failed, from git's own words: the remote's reason for a ref and what its hooks printed. */
function pushFailure(stderr: string): string {
  const ref = /\[remote rejected\][^(\n]*\(([^)\n]*)\)/.exec(stderr)?.[1] ?? /\[rejected\][^(\n]*\(([^)\n]*)\)/.exec(stderr)?.[1];
  const remote = stderr.split('\n').filter((l) => l.startsWith('remote:')).map((l) => l.slice(7).trim()).filter(Boolean);
  const fatal = stderr.split('\n').filter((l) => /^(fatal|error):/.test(l) && !/failed to push some refs/.test(l)).map((l) => l.replace(/^(fatal|error):\s*/, ''));
  return [ref, ...remote, ...fatal].filter(Boolean).join('; ').slice(0, 500) || stderr.trim().split('\n').slice(-2).join(' | ');
}

/** Removes a git lock file that no live git holds: one that stays for 2 s. False when there was none. */
async function clearStaleLock(lock: string): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    try {
      await access(lock);
    } catch {
      return false;
    }
    const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs).catch(() => Date.now()));
    if (age > 2000) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await rm(lock, { force: true });
  return true;
}

export type Trailers = Record<string, string | number>;

export interface CommitInfo {
  sha: string;
  date: string;
  subject: string;
  trailers: Record<string, string>;
}

export class Git {
  private gitDir: string | undefined;
  private readonly gitPaths = new Map<string, string>();

  constructor(readonly cwd: string, private readonly env: Record<string, string | undefined> = process.env) {}

  /** `env` adds to the environment (a temporary index); `input` is written to git's stdin. */
  run(args: string[], opts: { allowFail?: boolean; env?: Record<string, string>; input?: string } = {}): Promise<GitResult> {
    return new Promise((resolve, reject) => {
      const child = execFile('git', args, { cwd: this.cwd, env: { ...this.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...opts.env }, maxBuffer: 1 << 28 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        const r = { code, stdout, stderr };
        if (code !== 0 && !opts.allowFail) reject(new GitError(args, r));
        else resolve(r);
      });
      if (opts.input !== undefined) child.stdin?.end(opts.input);
    });
  }

  /** A path inside git's own folder (`.git/<name>` in a plain checkout): never part of the work tree. */
  async gitPath(name: string): Promise<string> {
    let p = this.gitPaths.get(name);
    if (!p) this.gitPaths.set(name, (p = path.resolve(this.cwd, (await this.run(['rev-parse', '--git-path', name])).stdout.trim())));
    return p;
  }

  async isRepo(): Promise<boolean> {
    return (await this.run(['rev-parse', '--is-inside-work-tree'], { allowFail: true })).stdout.trim() === 'true';
  }

  async topLevel(): Promise<string> {
    return (await this.run(['rev-parse', '--show-toplevel'])).stdout.trim();
  }

  /**
   * A git killed mid-commit (the runner died with g7) leaves .git/index.lock behind and every later git
   * command fails. We hold the g7 lock, so no other g7 is committing: wait briefly for a live git to finish,
   * then remove a lock that stays.
   */
  async clearStaleIndexLock(): Promise<boolean> {
    this.gitDir ??= (await this.run(['rev-parse', '--git-dir'])).stdout.trim();
    return clearStaleLock(path.resolve(this.cwd, this.gitDir, 'index.lock'));
  }

  /** The same for the lock of the branch HEAD is on: a git killed while moving it leaves `<ref>.lock`. */
  private async clearStaleHeadLock(): Promise<void> {
    const ref = await this.run(['symbolic-ref', '-q', 'HEAD'], { allowFail: true });
    await clearStaleLock(await this.gitPath(`${ref.code === 0 ? ref.stdout.trim() : 'HEAD'}.lock`));
  }

  /**
   * Stages exactly `paths` (new, changed and deleted files) and commits only them: two git processes. Returns
   * false when nothing changed. The run lock and interrupted temp files are never committed, whatever the
   * repository's .gitignore says: a committed lock would stop every later runner. `maintenance: false` keeps
   * git from starting its automatic gc or maintenance after the commit (a truck commits after every bundle;
   * its last commit lets git tidy up).
   */
  async commitPaths(paths: string[], subject: string, trailers: Trailers, opts: { maintenance?: boolean } = {}): Promise<boolean> {
    await this.clearStaleIndexLock();
    const spec = [...paths, ':(exclude,glob)**/state/run.lock', ':(exclude,glob)**/.*.tmp-*'];
    await this.run(['add', '-A', '--', ...spec]);
    const body = Object.entries(trailers).map(([k, v]) => `${k}: ${v}`).join('\n');
    faultPoint('git.staged');
    const quiet = opts.maintenance === false ? ['-c', 'gc.auto=0', '-c', 'maintenance.auto=false'] : [];
    const commit = this.run([...quiet, 'commit', '--no-verify', '-q', '-m', subject, '-m', body, '--', ...paths], { allowFail: true });
    faultPoint('git.committing'); // dies while git runs: the commit may land or leave .git/index.lock behind
    const r = await commit;
    if (r.code === 0) return true;
    // Nothing staged for these paths is not a failure: there was nothing to commit.
    if ((await this.run(['diff', '--cached', '--quiet', '--', ...paths], { allowFail: true })).code === 0) return false;
    throw new GitError(['commit', '--', ...paths], r);
  }

  /**
   * Commits exactly `files` (repository-relative; new, changed and deleted ones) as they are in the work tree,
   * and nothing else: built in a temporary index from HEAD, so neither a person's staged change nor any other
   * file is swept in, and git stats no file but these. The real index then takes the committed entries, so
   * they show as clean. Files git ignores are left out unless already tracked; the run lock and interrupted
   * temp files always. Returns the files committed (empty: nothing changed). `maintenance: false` keeps git's
   * automatic gc off (a truck commits after every bundle; its last commit lets git tidy up).
   */
  async commitFiles(files: string[], subject: string, trailers: Trailers, opts: { maintenance?: boolean } = {}): Promise<string[]> {
    const wanted = [...new Set(files)].filter((f) => !/(^|\/)state\/run\.lock$/.test(f) && !/(^|\/)\.[^/]*\.tmp-[^/]*$/.test(f));
    if (wanted.length === 0) return [];
    await this.clearStaleIndexLock();
    await this.clearStaleHeadLock();
    const ignored = new Set((await this.run(['check-ignore', '-z', '--stdin'], { allowFail: true, input: wanted.join('\0') + '\0' })).stdout.split('\0').filter(Boolean));
    const paths = wanted.filter((f) => !ignored.has(f));
    if (paths.length === 0) return [];
    const list = paths.join('\0') + '\0';
    const head = await this.run(['rev-parse', 'HEAD^{commit}', 'HEAD^{tree}'], { allowFail: true });
    const [parent, parentTree] = head.code === 0 ? head.stdout.trim().split('\n') : [];
    const index = await this.gitPath(`g7-index-${process.pid}`);
    const env = { GIT_INDEX_FILE: index };
    let changed = true;
    try {
      await this.run(parent ? ['read-tree', parent] : ['read-tree', '--empty'], { env });
      await this.run(['update-index', '--add', '--remove', '-z', '--stdin'], { env, input: list });
      const tree = (await this.run(['write-tree'], { env })).stdout.trim();
      changed = tree !== parentTree;
      if (changed) await this.commitTree(tree, parent, subject, trailers);
    } finally {
      await rm(index, { force: true });
    }
    // The person's index: our files as committed (also when a killed process committed them already and
    // left the index behind); whatever the person staged stays staged.
    await this.run(['update-index', '--add', '--remove', '-z', '--stdin'], { input: list });
    if (!changed) return [];
    if (opts.maintenance !== false) await this.run(['maintenance', 'run', '--auto', '--quiet'], { allowFail: true });
    return paths;
  }

  /** A commit of `tree` on `parent`, HEAD moved to it only if HEAD is still `parent`. */
  private async commitTree(tree: string, parent: string | undefined, subject: string, trailers: Trailers): Promise<void> {
    const body = Object.entries(trailers).map(([k, v]) => `${k}: ${v}`).join('\n');
    faultPoint('git.staged');
    const commit = (await this.run(['commit-tree', tree, ...(parent ? ['-p', parent] : []), '-m', subject, '-m', body])).stdout.trim();
    // Only if HEAD is still where the tree was built from.
    const moved = this.run(['update-ref', '-m', `commit: ${subject}`, 'HEAD', commit, parent ?? ''.padEnd(40, '0')]);
    faultPoint('git.committing'); // dies while git runs: the commit may land or not
    await moved;
  }

  /**
   * Paths under `pathspec` that differ from HEAD in the work tree or index (changed, new, deleted), as git
   * status sees them: what a person left there. One scan of the folder.
   */
  async uncommitted(pathspec: string): Promise<string[]> {
    const r = await this.run(['status', '--porcelain=v1', '-z', '--untracked-files=normal', '--', pathspec], { allowFail: true });
    if (r.code !== 0) return [];
    const out: string[] = [];
    const parts = r.stdout.split('\0');
    for (let i = 0; i < parts.length; i++) {
      const e = parts[i]!;
      if (e.length < 4) continue;
      out.push(e.slice(3));
      if (e[0] === 'R' || e[0] === 'C') i++; // a rename names its source next
    }
    return out;
  }

  async currentBranch(): Promise<string> {
    return (await this.run(['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim();
  }

  /**
   * Pushes HEAD to `branch`. On a race (non-fast-forward), fetches, rebases (local changes stashed) and tries
   * again after a random wait that doubles each time, up to `tries` pushes. Anything else, and a race still lost after `tries`, throws PushRefused.
   * Never pushes to a branch named HEAD (a detached HEAD with no branch configured).
   */
  async pushWithRetry(remote: string, branch: string, tries = 10): Promise<{ attempts: number }> {
    if (!branch || branch === 'HEAD') throw new PushRefused(remote, branch || '(none)', 'HEAD is detached and no branch is configured; set git.branch in factory.yaml to the branch the evidence goes to');
    let transient = 0;
    for (let attempt = 1; ; attempt++) {
      const r = await this.pushTransientRetried(remote, `HEAD:refs/heads/${branch}`);
      if (r.code === 0) return { attempts: attempt };
      transient += r.retried;
      if (r.transient) throw new PushRefused(remote, branch, `${pushFailure(r.stderr)} (still failing after ${transient + 1} tries over ${r.waitedS} s: the forge or the network is down)`);
      // A race: the branch moved (non-fast-forward), or moved while the remote was updating it (lock lost).
      const race = /\[rejected\][^\n]*\((fetch first|non-fast-forward)\)|\[remote rejected\][^\n]*\((failed to update ref|failed to lock|incorrect old value provided)\)/.test(r.stderr);
      if (!race) throw new PushRefused(remote, branch, pushFailure(r.stderr));
      if (attempt >= tries) throw new PushRefused(remote, branch, `still behind the remote after ${tries} rounds of fetch and rebase (others keep pushing); the next run pushes again`);
      const fetched = await this.run(['fetch', '-q', remote, branch], { allowFail: true });
      if (fetched.code !== 0) throw new PushRefused(remote, branch, `fetch failed: ${pushFailure(fetched.stderr)}`);
      const rebase = await this.run(['rebase', '-q', '--autostash', `${remote}/${branch}`], { allowFail: true });
      if (rebase.code !== 0) {
        await this.run(['rebase', '--abort'], { allowFail: true });
        throw new PushRefused(remote, branch, `the evidence does not rebase onto ${remote}/${branch} without conflicts: ${rebase.stderr.trim().split('\n').slice(-2).join(' | ')}`);
      }
      // Full jitter, doubling: the lanes of a job matrix push at once, and pushers that wait alike collide alike.
      await new Promise((res) => setTimeout(res, Math.random() * Math.min(4000, 100 * 2 ** attempt)));
    }
  }

  /**
   * `git push remote refspec`, tried again after each wait of TRANSIENT_PUSH_WAITS_MS while it fails for a
   * transient reason. `transient` says the last failure was one (every try failed that way).
   */
  async pushTransientRetried(remote: string, refspec: string, options: string[] = []): Promise<GitResult & { transient: boolean; retried: number; waitedS: number }> {
    let waited = 0;
    for (let i = 0; ; i++) {
      const r = await this.run(['push', ...options, remote, refspec], { allowFail: true });
      const transient = r.code !== 0 && transientPushFailure(r.stderr);
      if (!transient || i >= TRANSIENT_PUSH_WAITS_MS.length) return { ...r, transient, retried: i, waitedS: Math.round(waited / 1000) };
      // Full jitter: runners that failed together do not come back together.
      const wait = TRANSIENT_PUSH_WAITS_MS[i]! / 2 + (Math.random() * TRANSIENT_PUSH_WAITS_MS[i]!) / 2;
      waited += wait;
      await new Promise((res) => setTimeout(res, wait));
    }
  }

  /** Why a git command that talked to a remote failed, from git's own words (the remote's reason first). */
  static failure(r: GitResult): string {
    return pushFailure(r.stderr);
  }

  /**
   * The newest commit in which `rel` (repository-relative) has exactly the bytes of the file at `abs` now:
   * for a run's manifest, the commit that sealed the run. Undefined when no commit has them.
   */
  async commitHolding(rel: string, abs: string): Promise<string | undefined> {
    const blob = await this.run(['hash-object', '--', abs], { allowFail: true });
    if (blob.code !== 0) return undefined;
    const hits = await this.run(['log', '--format=%H', `--find-object=${blob.stdout.trim()}`, '--', rel], { allowFail: true });
    for (const sha of hits.stdout.split('\n').filter(Boolean)) {
      const at = await this.run(['rev-parse', '-q', '--verify', `${sha}:${rel}`], { allowFail: true });
      if (at.stdout.trim() === blob.stdout.trim()) return sha;
    }
    return undefined;
  }

  /** The bytes of `paths` as committed in `commit` (undefined for a path the commit does not have), through one `git cat-file --batch`. */
  readBlobs(commit: string, paths: string[]): Promise<Map<string, Buffer | undefined>> {
    return new Promise((resolve, reject) => {
      const child = spawn('git', ['cat-file', '--batch'], { cwd: this.cwd, env: { ...this.env, LC_ALL: 'C' }, stdio: ['pipe', 'pipe', 'pipe'] });
      const chunks: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => chunks.push(b));
      child.on('error', reject);
      child.on('close', (code) => {
        if (code !== 0) return reject(new GitError(['cat-file', '--batch'], { code: code ?? 1, stdout: '', stderr: '' }));
        const out = Buffer.concat(chunks);
        const blobs = new Map<string, Buffer | undefined>();
        let pos = 0;
        for (const p of paths) {
          const nl = out.indexOf(10, pos);
          const header = out.subarray(pos, nl).toString();
          pos = nl + 1;
          const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
          if (!m) {
            blobs.set(p, undefined); // "<name> missing"
            continue;
          }
          const size = Number(m[2]);
          blobs.set(p, m[1] === 'blob' ? out.subarray(pos, pos + size) : undefined);
          pos += size + 1;
        }
        resolve(blobs);
      });
      child.stdin.end(paths.map((p) => `${commit}:${p}\n`).join(''));
    });
  }

  /** Commits that carry a given trailer key, newest first. */
  async commitsWithTrailer(key: string, pathspec?: string): Promise<CommitInfo[]> {
    const fmt = '%H%x1f%cI%x1f%s%x1f%(trailers:only,unfold)%x1e';
    const args = ['log', `--format=${fmt}`];
    if (pathspec) args.push('--', pathspec);
    const r = await this.run(args, { allowFail: true });
    if (r.code !== 0) return [];
    const out: CommitInfo[] = [];
    for (const rec of r.stdout.split('\x1e')) {
      const [sha, date, subject, trailerText] = rec.replace(/^\n/, '').split('\x1f');
      if (!sha || !trailerText) continue;
      const trailers: Record<string, string> = {};
      for (const line of trailerText.split('\n')) {
        const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
        if (m) trailers[m[1]!] = m[2]!;
      }
      if (trailers[key] !== undefined) out.push({ sha, date: date!, subject: subject!, trailers });
    }
    return out;
  }
}
