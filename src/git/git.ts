// git, through its command line: the audit trail. Commits carry G7-* trailers so that `g7 log` can rebuild
// the history of runs from `git log` alone. A push that lost a race (another push got there first) is
// fetched, rebased and tried again; a push refused for any other reason (branch protection, a hook,
// permissions, no network) is not retried: it is reported as a PushRefused, so the evidence that is
// committed here but not on the remote is never passed off as delivered.
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

/** Why a push failed, from git's own words: the remote's reason for a ref and what its hooks printed. */
function pushFailure(stderr: string): string {
  const ref = /\[remote rejected\][^(\n]*\(([^)\n]*)\)/.exec(stderr)?.[1] ?? /\[rejected\][^(\n]*\(([^)\n]*)\)/.exec(stderr)?.[1];
  const remote = stderr.split('\n').filter((l) => l.startsWith('remote:')).map((l) => l.slice(7).trim()).filter(Boolean);
  const fatal = stderr.split('\n').filter((l) => /^(fatal|error):/.test(l) && !/failed to push some refs/.test(l)).map((l) => l.replace(/^(fatal|error):\s*/, ''));
  return [ref, ...remote, ...fatal].filter(Boolean).join('; ').slice(0, 500) || stderr.trim().split('\n').slice(-2).join(' | ');
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

  constructor(readonly cwd: string, private readonly env: Record<string, string | undefined> = process.env) {}

  run(args: string[], opts: { allowFail?: boolean } = {}): Promise<GitResult> {
    return new Promise((resolve, reject) => {
      execFile('git', args, { cwd: this.cwd, env: { ...this.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C' }, maxBuffer: 1 << 28 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
        const r = { code, stdout, stderr };
        if (code !== 0 && !opts.allowFail) reject(new GitError(args, r));
        else resolve(r);
      });
    });
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
    const lock = path.resolve(this.cwd, this.gitDir, 'index.lock');
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
    for (let attempt = 1; ; attempt++) {
      const r = await this.run(['push', remote, `HEAD:refs/heads/${branch}`], { allowFail: true });
      if (r.code === 0) return { attempts: attempt };
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
