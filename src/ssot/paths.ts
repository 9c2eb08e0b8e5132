// Repository paths. Everything a card or pack names is repository-relative and must stay inside it.
import path from 'node:path';

/** Why `p` is not an acceptable repository-relative path, or undefined when it is. */
export function repoPathProblem(p: string): string | undefined {
  // Fast path for the common case (checked for every card of a backlog): nothing that could escape.
  if (!p.includes('..') && !p.includes('\\') && !p.includes('\0') && p[0] !== '/' && p[1] !== ':' && !p.startsWith('.git') && !p.includes('/.git')) return undefined;
  if (p.includes('\0')) return 'contains a NUL byte';
  const slashed = p.replace(/\\/g, '/');
  if (slashed.startsWith('/') || /^[A-Za-z]:/.test(slashed)) return 'is absolute; write it relative to the repository root';
  const norm = path.posix.normalize(slashed);
  if (norm === '..' || norm.startsWith('../')) return 'escapes the repository (../)';
  if (norm === '.git' || norm.startsWith('.git/') || norm.includes('/.git/') || norm.endsWith('/.git')) return 'points into .git/';
  return undefined;
}

/** Posix form of a repository-relative path (`a\\b/../c` → `a/c`). */
export function normalizeRepoPath(p: string): string {
  return path.posix.normalize(p.replace(/\\/g, '/'));
}

/** Absolute path of a checked repository-relative path. */
export function resolveInRepo(repoRoot: string, p: string): string {
  return path.join(repoRoot, normalizeRepoPath(p));
}

/** Repository-relative posix path of an absolute path. */
export function toRepoPath(repoRoot: string, abs: string): string {
  return path.relative(repoRoot, abs).split(path.sep).join('/');
}
