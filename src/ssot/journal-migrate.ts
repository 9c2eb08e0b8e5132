// An older g7 kept the whole journal in one file, `state/journal.jsonl`. It is read as it is until the first
// append, which splits it into day files first: every line, checked, to the file of its day (rolling over
// as any day file does), written in a folder beside `state/journal/` and renamed into place whole, then the
// old file removed, so the commit that carries the append carries the split. A crash before the rename
// leaves the old file as the journal; a crash after it leaves both, the day files the same lines as the
// old file, which the next append checks before it removes the old file.
import { mkdir, open, readdir, readFile, rename, rm, unlink } from 'node:fs/promises';
import { noteWrite } from './written.js';
import path from 'node:path';
import { SchemaError } from '../contracts/errors.js';
import { appendRolling } from './rolling.js';
import type { Layout } from './layout.js';

const STAGING = '.journal-split-';

async function fsync(file: string): Promise<void> {
  const fh = await open(file, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function sameFiles(a: string, b: string): Promise<boolean> {
  const names = (d: string) => readdir(d).then((n) => n.filter((x) => !x.startsWith('.')).sort());
  const [na, nb] = await Promise.all([names(a), names(b)]);
  if (na.join('\n') !== nb.join('\n')) return false;
  for (const n of na) if (!(await readFile(path.join(a, n))).equals(await readFile(path.join(b, n)))) return false;
  return true;
}

/**
 * Splits the legacy journal `legacy` into day files under `layout.journalDir` and removes it. `scan` hands
 * every event line of it (checked, a torn tail left out) with its day, in order.
 */
export async function migrateLegacyJournal(layout: Layout, legacy: string, shown: string, scan: (onLine: (day: string, text: string) => void) => Promise<void>): Promise<void> {
  for (const n of await readdir(layout.stateDir).catch(() => [] as string[])) if (n.startsWith(STAGING)) await rm(path.join(layout.stateDir, n), { recursive: true, force: true });
  const staging = path.join(layout.stateDir, `${STAGING}${process.pid}`);
  await mkdir(staging, { recursive: true });
  // Lines are held in batches, not whole (a year of journal is millions of lines), and written in order.
  let pending = new Map<string, string[]>();
  let held = 0;
  let written: Promise<void> = Promise.resolve();
  const flush = () => {
    const batch = pending;
    pending = new Map();
    held = 0;
    written = written.then(async () => {
      for (const [day, lines] of batch) await appendRolling(path.join(staging, `${day}.jsonl`), lines, { fsync: false });
    });
  };
  await scan((day, text) => {
    const lines = pending.get(day);
    if (lines) lines.push(text);
    else pending.set(day, [text]);
    if (++held >= 20_000) flush();
  });
  flush();
  await written;
  // The day files and the old file's removal go into the next commit, which stages what was written by name.
  for (const n of await readdir(staging)) (noteWrite(path.join(layout.journalDir, n)), await fsync(path.join(staging, n)));
  noteWrite(legacy);
  const dirExists = await readdir(layout.journalDir).then(() => true, () => false);
  if (dirExists) {
    // An earlier split was renamed into place and then interrupted: the day files must be what it wrote.
    const same = await sameFiles(staging, layout.journalDir);
    await rm(staging, { recursive: true, force: true });
    if (!same) {
      const dir = path.relative(layout.repoRoot, layout.journalDir);
      throw new SchemaError(
        [{ file: shown, rule: 'journal.two', message: `both the old journal ${shown} and the day files ${dir}/ exist, and they differ`, hint: `keep one: the day files are the journal since g7 split the old file; remove ${shown} if it came back from an old commit` }],
        `${shown}: both this old journal and ${dir}/ exist and differ; nothing was appended\n    → keep one: remove ${shown} if it came back from an old commit`,
      );
    }
  } else {
    await rename(staging, layout.journalDir);
  }
  await fsync(layout.stateDir);
  await unlink(legacy);
  await fsync(layout.stateDir);
}
