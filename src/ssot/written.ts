// The files this process wrote or removed, by absolute path: what a checkpoint stages by name, so that a
// commit costs what changed, not a scan of the SSOT, and a person's own edits there are never swept in.
// Every durable write (atomic.ts) notes its file before it writes. A process that commits (g7 run, g7 resume)
// also keeps the list in a file outside the work tree (git's own folder), one path a line, appended before a
// path's first write: what a killed process wrote and never committed is committed by the next one.
import { appendFileSync, readFileSync, rmSync } from 'node:fs';

const written = new Set<string>();
let keptIn: string | undefined;
const kept = new Set<string>();

/** From now on, the list is kept in `file` too; what an earlier process left there is taken over. */
export function keepWrittenIn(file: string): void {
  keptIn = file;
  kept.clear();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    /* nothing left over */
  }
  // A torn last line (the process was killed mid-append) is only half a path: a path is noted before its
  // file is written, so its write never happened either.
  const lines = text.split('\n');
  if (!text.endsWith('\n')) lines.pop();
  for (const p of lines) if (p) (written.add(p), kept.add(p));
}

/** `abs` is about to be written, replaced or removed. */
export function noteWrite(abs: string): void {
  written.add(abs);
  if (keptIn && !kept.has(abs)) {
    appendFileSync(keptIn, abs + '\n');
    kept.add(abs);
  }
}

/** Every file noted since the last `forgetWritten`, in the order they were first noted. */
export function writtenFiles(): string[] {
  return [...written];
}

/** `files` are committed (or will never be: outside the repository, ignored by git): no longer pending. */
export function forgetWritten(files: Iterable<string>): void {
  for (const f of files) written.delete(f);
  if (!keptIn) return;
  if (written.size === 0) {
    rmSync(keptIn, { force: true });
    kept.clear();
    return;
  }
  // Rare (a commit that left some files pending): the kept list is rewritten with what is left.
  rmSync(keptIn, { force: true });
  kept.clear();
  for (const f of written) noteWrite(f);
}
