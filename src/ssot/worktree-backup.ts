// The originals of the files a card is about to change in the working tree (a PATCH card's edits and its
// output), kept in the state folder before the first byte is written: state/backup/<card>.json. When the card
// does not pass, every file is put back exactly as it was (bytes, mode, a symlink as a symlink; a file that
// did not exist is removed, with the folders made for it; a file removed since is written again). The backup
// is durable (fsynced) before any edit is written, so a process killed mid-change leaves it behind and the
// next run restores from it before any card runs.
import { chmod, lstat, mkdir, readdir, readFile, readlink, rm, rmdir, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from './atomic.js';
import { noteWrite } from './written.js';
import { normalizeRepoPath, resolveInRepo } from './paths.js';
import type { Layout } from './layout.js';

/** One file as it was before the change. */
export type Original =
  | { path: string; kind: 'file'; mode: number; base64: string }
  | { path: string; kind: 'symlink'; link: string }
  /** It did not exist; `made` are the folders (repository-relative, outermost first) that did not exist either. */
  | { path: string; kind: 'absent'; made: string[] };

export interface Backup {
  card: string;
  created_at: string;
  files: Original[];
}

/** A lane run keeps its backups in its own records folder: a lane never restores another lane's card. */
function backupDir(layout: Layout): string {
  return path.join(layout.lane?.records ?? layout.stateDir, 'backup');
}

export function backupFile(layout: Layout, card: string): string {
  return path.join(backupDir(layout), `${card}.json`);
}

async function original(repoRoot: string, rel: string): Promise<Original> {
  const abs = resolveInRepo(repoRoot, rel);
  const st = await lstat(abs).catch(() => undefined);
  if (st?.isSymbolicLink()) return { path: rel, kind: 'symlink', link: await readlink(abs) };
  if (st) return { path: rel, kind: 'file', mode: st.mode & 0o7777, base64: (await readFile(abs)).toString('base64') };
  const made: string[] = [];
  for (let dir = path.posix.dirname(rel); dir !== '.' && dir !== '/'; dir = path.posix.dirname(dir)) {
    if (await lstat(resolveInRepo(repoRoot, dir)).catch(() => undefined)) break;
    made.unshift(dir);
  }
  return { path: rel, kind: 'absent', made };
}

/** Reads the originals of `paths` (repository-relative) and keeps them, durably, before anything is written. */
export async function saveBackup(layout: Layout, card: string, paths: string[], now: string): Promise<Backup> {
  const files: Original[] = [];
  for (const rel of [...new Set(paths.map(normalizeRepoPath))]) files.push(await original(layout.repoRoot, rel));
  const backup: Backup = { card, created_at: now, files };
  await writeJsonAtomic(backupFile(layout, card), backup);
  return backup;
}

/** The original bytes of one file of a backup as text ('' when it did not exist). */
export function originalText(o: Original): string {
  return o.kind === 'file' ? Buffer.from(o.base64, 'base64').toString('utf8') : '';
}

async function putBack(repoRoot: string, o: Original): Promise<void> {
  const abs = resolveInRepo(repoRoot, o.path);
  const now = await lstat(abs).catch(() => undefined);
  if (o.kind === 'absent') {
    if (now) {
      noteWrite(abs);
      await rm(abs, { recursive: true, force: true });
    }
    // The folders made for it go too, innermost first, unless something else is in them now.
    for (const dir of [...o.made].reverse()) await rmdir(resolveInRepo(repoRoot, dir)).catch(() => {});
    return;
  }
  if (now?.isDirectory()) await rm(abs, { recursive: true, force: true });
  await mkdir(path.dirname(abs), { recursive: true });
  if (o.kind === 'symlink') {
    noteWrite(abs);
    if (now) await unlink(abs).catch(() => {});
    await symlink(o.link, abs);
    return;
  }
  if (now?.isSymbolicLink()) await unlink(abs);
  await writeFileAtomic(abs, Buffer.from(o.base64, 'base64'));
  await chmod(abs, o.mode);
}

/**
 * Puts back every file of the card's backup, then removes the backup. Idempotent: a restore cut short is
 * done again from the same backup. Returns the paths put back, or undefined when the card has no backup.
 */
export async function restoreBackup(layout: Layout, card: string): Promise<string[] | undefined> {
  const file = backupFile(layout, card);
  let backup: Backup;
  try {
    backup = JSON.parse(await readFile(file, 'utf8')) as Backup;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  for (const o of backup.files) await putBack(layout.repoRoot, o);
  await dropBackup(layout, card);
  return backup.files.map((o) => o.path);
}

/** The card's change stays (it passed and is journaled): its backup goes. */
export async function dropBackup(layout: Layout, card: string): Promise<void> {
  const file = backupFile(layout, card);
  noteWrite(file);
  await rm(file, { force: true });
}

/** The cards that left a backup behind (a process killed while their change was in the working tree). */
export async function leftBackups(layout: Layout): Promise<string[]> {
  const names = await readdir(backupDir(layout)).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -'.json'.length)).sort();
}
