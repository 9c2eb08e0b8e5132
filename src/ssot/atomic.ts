// Durable writes. A file is either its old bytes or its new bytes, never half of each: temp file in the
// same folder, fsync, rename, fsync the folder. JSONL appends are one write of a whole line, then fsync.
import { open, rename, mkdir, unlink, readFile, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { faultPoint } from '../host/faults.js';
import { noteWrite } from './written.js';

// Folders this process already created (or is creating: concurrent writes into a new folder make it once):
// a recursive mkdir per write is one or two thread-pool round trips each time.
const madeDirs = new Map<string, Promise<unknown>>();
async function ensureDir(dir: string): Promise<void> {
  let made = madeDirs.get(dir);
  if (!made) {
    made = mkdir(dir, { recursive: true });
    madeDirs.set(dir, made);
    made.catch(() => madeDirs.delete(dir));
  }
  await made;
}

/** Opens `file` in its folder, made first if needed; a folder removed since it was made is made again. */
async function openIn(file: string, flags: string): Promise<FileHandle> {
  const dir = path.dirname(file);
  await ensureDir(dir);
  try {
    return await open(file, flags);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    madeDirs.delete(dir); // removed since (a card folder is reset before a rerun): make it again
    await ensureDir(dir);
    return open(file, flags);
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * `fsync: false` keeps the rename's all-or-nothing (what a killed process needs) but skips the disk flush:
 * for evidence files, whose durable boundary is the fsynced journal line and the commit that follow them.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: { fsync?: boolean } = {}): Promise<void> {
  const durable = opts.fsync ?? true;
  noteWrite(file);
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await openIn(tmp, 'wx');
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  faultPoint('atomic.rename');
  await rename(tmp, file);
  if (durable) await fsyncDir(dir);
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/** Appends whole lines in one write and fsyncs; a crash leaves at most one torn tail line, repaired on read. */
export async function appendLines(file: string, lines: string[], opts: { fsync?: boolean } = {}): Promise<void> {
  if (lines.length === 0) return;
  noteWrite(file);
  const fh = await openIn(file, 'a');
  try {
    await fh.write(lines.map((l) => l + '\n').join(''));
    if (opts.fsync ?? true) await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Cuts a torn last line (no trailing newline) off a JSONL file that this program appends to.
 * Returns the number of bytes removed. Only for our own logs: files people write are never changed.
 */
export async function repairTornTail(file: string): Promise<number> {
  let fh;
  try {
    fh = await open(file, 'r+');
  } catch {
    return 0;
  }
  try {
    const { size } = await fh.stat();
    if (size === 0) return 0;
    const last = Buffer.alloc(1);
    await fh.read(last, 0, 1, size - 1);
    if (last[0] === 0x0a) return 0; // the common case: one byte read, nothing to repair
    const bytes = await readFile(file);
    const keep = bytes.lastIndexOf(0x0a) + 1;
    noteWrite(file);
    await fh.truncate(keep);
    await fh.sync();
    return size - keep;
  } finally {
    await fh.close();
  }
}

/**
 * Writes a file through a temp file that is renamed into place only after `fill` finished and the data is
 * fsynced, so readers never see half a file. `fill` gets a writer of whole strings, or of bytes (written
 * before the writer returns, so the caller may reuse its buffer).
 */
export async function writeStreamAtomic(file: string, fill: (write: (s: string | Uint8Array) => Promise<void>) => Promise<void>): Promise<void> {
  noteWrite(file);
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await openIn(tmp, 'wx');
  let buffered: string[] = [];
  let size = 0;
  const flush = async () => {
    if (buffered.length) await fh.write(buffered.join(''));
    buffered = [];
    size = 0;
  };
  try {
    await fill(async (s) => {
      if (typeof s !== 'string') {
        await flush();
        await fh.write(s);
        return;
      }
      buffered.push(s);
      size += s.length;
      if (size >= 1 << 16) await flush();
    });
    await flush();
    await fh.sync();
  } catch (err) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw err;
  }
  await fh.close();
  await rename(tmp, file);
  await fsyncDir(dir);
}
