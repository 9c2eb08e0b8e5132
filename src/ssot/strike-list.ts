// The strike list (`library_index/strike_list.jsonl`): TAG's strike candidates, one line per chunk identity
// (`key`), appended by TAG cards and by the merge of a lane run, read by STRIKE cards (`PATH#La-Lb`) and
// counted by the plan compiler (`lines:`). It only grows, so it rolls over (`strike_list.2.jsonl` …, see
// rolling.ts); its line numbers run on across the parts. Deduplication holds a 32-bit fingerprint per key
// (4 MB per million keys, not the keys), reads only what was appended since, and confirms a fingerprint
// hit by one pass over the list for the few keys that hit.
import path from 'node:path';
import { stat } from 'node:fs/promises';
import { repairTornTail } from './atomic.js';
import { forEachLine } from './jsonl.js';
import { appendRolling, countLines, onlyGrew, rollingParts, tailOf, type Seen } from './rolling.js';

export const STRIKE_LIST = 'strike_list.jsonl';

/** A STRIKE card's input: lines a to b of a strike list (`PATH#La-Lb`), or undefined when it is not one. */
export function strikeRange(input: unknown): { file: string; from: number; to: number } | undefined {
  const m = /^(.*)#L(\d+)-L(\d+)$/.exec(String(input));
  return m ? { file: m[1]!, from: Number(m[2]), to: Number(m[3]) } : undefined;
}

/** The strike list of a folder (the factory's library index, or a lane's records). */
export function strikeListFile(dir: string): string {
  return path.join(dir, STRIKE_LIST);
}

/** The `key` of a strike line, or undefined for a line that is not one (a torn tail). */
export function strikeKeyOf(text: string): string | undefined {
  // Lines are written `{"key":"…","path":…`: the key's string alone is parsed, not the whole line.
  if (text.startsWith('{"key":"')) {
    const end = text.indexOf('","path":', 8);
    if (end !== -1) {
      try {
        return JSON.parse(text.slice(7, end + 1)) as string;
      } catch {
        /* fall through */
      }
    }
  }
  try {
    const key = (JSON.parse(text) as { key?: unknown }).key;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** FNV-1a over the key's UTF-16 code units; never 0 (0 marks an empty slot). */
export function fingerprint(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0 || 1;
}

/** A set of 32-bit fingerprints, open addressing: "maybe there" or "certainly not". */
class Fingerprints {
  private slots = new Uint32Array(1 << 12);
  private size = 0;

  has(f: number): boolean {
    const mask = this.slots.length - 1;
    for (let i = f & mask; ; i = (i + 1) & mask) {
      const s = this.slots[i]!;
      if (s === 0) return false;
      if (s === f) return true;
    }
  }

  add(f: number): void {
    if ((this.size + 1) * 2 > this.slots.length) this.grow();
    const mask = this.slots.length - 1;
    for (let i = f & mask; ; i = (i + 1) & mask) {
      const s = this.slots[i]!;
      if (s === f) return;
      if (s === 0) {
        this.slots[i] = f;
        this.size++;
        return;
      }
    }
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.size = 0;
    for (const f of old) if (f !== 0) this.add(f);
  }
}

interface Index {
  prints: Fingerprints;
  /** What was read of each part. */
  seen: Map<string, Seen>;
}

const indexes = new Map<string, Index>();

/** The fingerprints of every key on the list `base`, brought up to date by reading only what was appended. */
async function indexOf(base: string): Promise<Index> {
  let index = indexes.get(base);
  const parts = await rollingParts(base);
  if (index) {
    for (const [file, seen] of index.seen) {
      const st = await stat(file).catch(() => undefined);
      if (!parts.includes(file) || !st || !(await onlyGrew(file, seen, st.size))) {
        index = undefined; // rewritten: read it all again
        break;
      }
    }
  }
  if (!index) index = { prints: new Fingerprints(), seen: new Map() };
  for (const file of parts) {
    const st = await stat(file);
    const seen = index.seen.get(file);
    const from = seen?.size ?? 0;
    if (seen && st.size === seen.size) continue;
    let end = from;
    let read = from;
    await forEachLine(
      file,
      (t) => {
        const key = t ? strikeKeyOf(t) : undefined;
        if (key !== undefined) index!.prints.add(fingerprint(key));
      },
      file,
      (raw) => {
        const nl = raw.lastIndexOf(10);
        if (nl !== -1) end = read + nl + 1;
        read += raw.length;
      },
      { start: from, end: st.size },
    );
    // Up to the last whole line: a torn tail is read again once it is completed (or cut).
    index.seen.set(file, { size: end, mtimeMs: st.mtimeMs, lines: 0, tail: await tailOf(file, end) });
  }
  indexes.set(base, index);
  return index;
}

/** Of `keys`, those on the list `base` (one pass over it, comparing with these keys only). */
async function keysOnList(base: string, keys: Set<string>): Promise<Set<string>> {
  const found = new Set<string>();
  if (keys.size === 0) return found;
  for (const file of await rollingParts(base))
    await forEachLine(file, (t) => {
      const key = t ? strikeKeyOf(t) : undefined;
      if (key !== undefined && keys.has(key)) found.add(key);
    });
  return found;
}

/**
 * Appends the lines (`{"key":…}`) whose key is not on the list `base` yet, each key once, and returns them.
 * The list's torn tail, if a process died appending, is cut first.
 */
export async function appendStrikes(base: string, lines: { key: string; text: string }[]): Promise<string[]> {
  const parts = await rollingParts(base);
  if (parts.length) await repairTornTail(parts.at(-1)!);
  const index = await indexOf(base);
  const maybe = new Set<string>();
  for (const l of lines) if (index.prints.has(fingerprint(l.key))) maybe.add(l.key);
  const on = await keysOnList(base, maybe);
  const fresh: string[] = [];
  const taken = new Set<string>();
  for (const l of lines) {
    if (on.has(l.key) || taken.has(l.key)) continue;
    taken.add(l.key);
    fresh.push(l.text);
  }
  if (fresh.length) {
    await appendRolling(base, fresh);
    for (const k of taken) index.prints.add(fingerprint(k));
  }
  return fresh;
}

/** The lines of a `lines:` source, its continuations included (0 when it does not exist). */
export async function sourceLines(base: string): Promise<number> {
  let n = 0;
  for (const part of await rollingParts(base)) n += await countLines(part);
  return n;
}

/** Calls `onLine` for lines `from`..`to` (1-based, numbered across the parts) of the rolling file `base`. */
export async function forEachLineIn(base: string, from: number, to: number, onLine: (text: string, line: number) => void, shown: string = base): Promise<void> {
  const parts = await rollingParts(base);
  if (parts.length === 0) await forEachLine(base, () => {}, shown); // says it is missing
  let before = 0;
  for (const part of parts) {
    if (before >= to) return;
    const lines = await countLines(part);
    if (before + lines >= from)
      await forEachLine(part, (t, at) => {
        const line = before + at;
        if (line >= from && line <= to) onLine(t, line);
        return line >= to ? 'stop' : undefined;
      }, part === base ? shown : `${shown} (${path.basename(part)})`);
    before += lines;
  }
}
