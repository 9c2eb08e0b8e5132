// git, through its command line: the audit trail. Commits carry G7-* trailers so that `g7 log` can rebuild
// the history of runs from `git log` alone. Pushes retry with fetch + rebase when another push got there first.
import { execFile } from 'node:child_process';
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

export type Trailers = Record<string, string | number>;

export interface CommitInfo {
  sha: string;
  date: string;
  subject: string;
  trailers: Record<string, string>;
}

export class Git {
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
    const gitDir = (await this.run(['rev-parse', '--git-dir'])).stdout.trim();
    const lock = path.resolve(this.cwd, gitDir, 'index.lock');
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
   * Stages exactly `paths` (new, changed and deleted files) and commits only them. Returns the sha, or
   * undefined when nothing changed. The run lock and interrupted temp files are never committed, whatever
   * the repository's .gitignore says: a committed lock would stop every later runner.
   */
  async commitPaths(paths: string[], subject: string, trailers: Trailers): Promise<string | undefined> {
    await this.clearStaleIndexLock();
    const spec = [...paths, ':(exclude,glob)**/state/run.lock', ':(exclude,glob)**/.*.tmp-*'];
    await this.run(['add', '-A', '--', ...spec]);
    const staged = await this.run(['diff', '--cached', '--quiet', '--', ...paths], { allowFail: true });
    if (staged.code === 0) return undefined;
    const body = Object.entries(trailers).map(([k, v]) => `${k}: ${v}`).join('\n');
    faultPoint('git.staged');
    const commit = this.run(['commit', '--no-verify', '-q', '-m', subject, '-m', body, '--', ...paths]);
    faultPoint('git.committing'); // dies while git runs: the commit may land or leave .git/index.lock behind
    await commit;
    return (await this.run(['rev-parse', 'HEAD'])).stdout.trim();
  }

  async currentBranch(): Promise<string> {
    return (await this.run(['rev-parse', '--abbrev-ref', 'HEAD'])).stdout.trim();
  }

  /** Pushes; on a non-fast-forward, fetches, rebases and tries again (up to `tries`). */
  async pushWithRetry(remote: string, branch: string, tries = 5): Promise<{ attempts: number }> {
    for (let attempt = 1; ; attempt++) {
      const r = await this.run(['push', remote, `HEAD:refs/heads/${branch}`], { allowFail: true });
      if (r.code === 0) return { attempts: attempt };
      const rejected = /non-fast-forward|fetch first|rejected|failed to push/i.test(r.stderr);
      if (!rejected || attempt >= tries) throw new GitError(['push', remote, branch], r);
      await this.run(['fetch', '-q', remote, branch]);
      const rebase = await this.run(['rebase', '-q', `${remote}/${branch}`], { allowFail: true });
      if (rebase.code !== 0) {
        await this.run(['rebase', '--abort'], { allowFail: true });
        throw new GitError(['rebase', `${remote}/${branch}`], rebase);
      }
      await new Promise((res) => setTimeout(res, 50 * attempt + Math.random() * 100));
    }
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
