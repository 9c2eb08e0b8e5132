// Files that only grow (the journal of a day, the strike list) roll over: `NAME.jsonl` holds the first
// 100,000 lines, then `NAME.2.jsonl`, `NAME.3.jsonl`, … take the next ones. A reader takes the parts in
// order and sees one file. Counting lines is remembered per file for the life of the process (size, line
// count and the bytes just before the end), so a file that only grew is counted from where it was.
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { appendLines } from './atomic.js';

/** Lines a part holds before the next part begins. */
export const ROLL_LINES = 100_000;

/** Part `n` (1-based) of the rolling file `base` (`dir/NAME.jsonl`): part 1 is `base` itself. */
export function rollingPart(base: string, n: number): string {
  return n === 1 ? base : base.replace(/\.jsonl$/, `.${n}.jsonl`);
}

/** The part number of `name` as a part of `base`'s name, or undefined when it is not one. */
export function partNumber(baseName: string, name: string): number | undefined {
  if (name === baseName) return 1;
  const stem = baseName.replace(/\.jsonl$/, '');
  if (!name.startsWith(stem + '.') || !name.endsWith('.jsonl')) return undefined;
  const n = name.slice(stem.length + 1, -'.jsonl'.length);
  return /^[2-9]$|^[1-9][0-9]+$/.test(n) ? Number(n) : undefined;
}

/** The parts of `base` that exist, in order (a gap ends the list: parts are only ever made one after the other). */
export async function rollingParts(base: string): Promise<string[]> {
  const names = new Set(await readdir(path.dirname(base)).catch(() => [] as string[]));
  const out: string[] = [];
  const baseName = path.basename(base);
  for (let n = 1; names.has(path.basename(rollingPart(baseName, n))); n++) out.push(rollingPart(base, n));
  return out;
}

/** What a process remembers of a file it read: its size, its lines, and the bytes that end it. */
export interface Seen {
  size: number;
  mtimeMs: number;
  /** Newlines in the first `size` bytes. */
  lines: number;
  /** Up to 64 bytes ending at `size`: what tells a file that grew from one that was rewritten. */
  tail: Buffer;
}

const TAIL = 64;

/** True when `file` is `seen` with bytes appended (or unchanged): its first `seen.size` bytes still end the same. */
export async function onlyGrew(file: string, seen: Seen, size: number): Promise<boolean> {
  if (size < seen.size) return false;
  if (seen.tail.length === 0) return true;
  const fh = await open(file, 'r');
  try {
    const now = Buffer.alloc(seen.tail.length);
    await fh.read(now, 0, now.length, seen.size - now.length);
    return now.equals(seen.tail);
  } finally {
    await fh.close();
  }
}

/** The last bytes before `size` (for `Seen.tail`). */
export async function tailOf(file: string, size: number): Promise<Buffer> {
  const n = Math.min(TAIL, size);
  if (n === 0) return Buffer.alloc(0);
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    await fh.read(buf, 0, n, size - n);
    return buf;
  } finally {
    await fh.close();
  }
}

const counted = new Map<string, Seen>();

async function countNewlines(file: string, from: number, to: number): Promise<number> {
  if (to <= from) return 0;
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(Math.min(1 << 20, to - from));
    let n = 0;
    for (let at = from; at < to; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - at), at);
      if (bytesRead === 0) break;
      for (let i = buf.indexOf(10, 0); i !== -1 && i < bytesRead; i = buf.indexOf(10, i + 1)) n++;
      at += bytesRead;
    }
    return n;
  } finally {
    await fh.close();
  }
}

/**
 * The number of lines of `file` (newlines, plus one for an unterminated last line; 0 when it does not exist),
 * reading only the bytes added since this process last counted it when it only grew.
 */
export async function countLines(file: string): Promise<number> {
  const st = await stat(file).catch(() => undefined);
  if (!st) {
    counted.delete(file);
    return 0;
  }
  const seen = counted.get(file);
  let lines: number;
  if (seen && seen.size === st.size && seen.mtimeMs === st.mtimeMs) lines = seen.lines;
  else if (seen && (await onlyGrew(file, seen, st.size))) lines = seen.lines + (await countNewlines(file, seen.size, st.size));
  else lines = await countNewlines(file, 0, st.size);
  const tail = await tailOf(file, st.size);
  counted.set(file, { size: st.size, mtimeMs: st.mtimeMs, lines, tail });
  return lines + (tail.length > 0 && tail[tail.length - 1] !== 10 ? 1 : 0);
}

/** The lines of every part of `base`, in order. */
export async function countRollingLines(base: string): Promise<number> {
  let n = 0;
  for (const part of await rollingParts(base)) n += await countLines(part);
  return n;
}

/**
 * Appends whole lines to the last part of `base`, starting the next part when it holds `max` lines.
 * `beforeWrite` sees each write before it is made (a fault point can tear it). Returns the parts written to.
 */
export async function appendRolling(
  base: string,
  lines: string[],
  opts: { max?: number; fsync?: boolean; beforeWrite?: (file: string, text: string) => void } = {},
): Promise<string[]> {
  if (lines.length === 0) return [];
  const max = opts.max ?? ROLL_LINES;
  let n = Math.max(1, (await rollingParts(base)).length);
  let have = await countLines(rollingPart(base, n));
  const written: string[] = [];
  for (let i = 0; i < lines.length; ) {
    if (have >= max) (n++, (have = 0));
    const file = rollingPart(base, n);
    const take = lines.slice(i, i + (max - have));
    opts.beforeWrite?.(file, take.join('\n') + '\n');
    await appendLines(file, take, opts.fsync === undefined ? {} : { fsync: opts.fsync });
    written.push(file);
    have += take.length;
    i += take.length;
  }
  return written;
}
