// Durable writes. A file is either its old bytes or its new bytes, never half of each: temp file in the
// same folder, fsync, rename, fsync the folder. JSONL appends are one write of a whole line, then fsync.
import { open, rename, mkdir, unlink, readFile, truncate } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { faultPoint } from '../host/faults.js';

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
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx');
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
  await mkdir(path.dirname(file), { recursive: true });
  const fh = await open(file, 'a');
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
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return 0;
  }
  if (bytes.length === 0 || bytes[bytes.length - 1] === 0x0a) return 0;
  const keep = bytes.lastIndexOf(0x0a) + 1;
  await truncate(file, keep);
  const fh = await open(file, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  return bytes.length - keep;
}

/**
 * Writes a file through a temp file that is renamed into place only after `fill` finished and the data is
 * fsynced, so readers never see half a file. `fill` gets a writer of whole strings.
 */
export async function writeStreamAtomic(file: string, fill: (write: (s: string) => Promise<void>) => Promise<void>): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fh = await open(tmp, 'wx');
  let buffered: string[] = [];
  let size = 0;
  const flush = async () => {
    if (buffered.length) await fh.write(buffered.join(''));
    buffered = [];
    size = 0;
  };
  try {
    await fill(async (s) => {
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
