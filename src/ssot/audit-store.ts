// Where coreloop's Observe records live (SPEC 3a, 10): in the store, never on main. One folder per UTC day,
// and in it one shard per writing process and hour, `store/audit/ai-ask/YYYY-MM-DD/HH-<host>-<pid>-<tag>.jsonl`,
// continued in `….2.jsonl`, `….3.jsonl` once a shard would pass 50 MB (GitHub refuses files over 100 MB,
// and a shard travels whole as a segment of the data branch g7/audit). Segments taken from the data branch
// land beside them as `seg-<segment name>`. The audit log of the old layout, one file per day on main
// (`audit/ai-ask/YYYY-MM-DD.jsonl`), is read as it is: nothing moves it, nothing writes it any more.
import path from 'node:path';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import type { Layout } from './layout.js';
import { appendLines } from './atomic.js';

/** A shard is continued in a new file before it passes this. */
export const SHARD_BYTES = 50 * 1024 * 1024;

export interface AuditPlace {
  /** store/audit/: the records, never committed. */
  storeDir: string;
  /** audit/ai-ask/ on main: the day files of the old layout, read only. */
  legacyDir: string;
}

export function auditPlace(layout: Layout): AuditPlace {
  return { storeDir: path.join(layout.storeDir, 'audit'), legacyDir: path.join(layout.ssotDir, 'audit', 'ai-ask') };
}

export const recordsDir = (storeDir: string) => path.join(storeDir, 'ai-ask');

/** A file of the log, with the UTC day (and hour, when its name says one) its records belong to. */
export interface AuditFile {
  path: string;
  day: string;
  hour?: number | undefined;
}

export interface Span {
  since: string;
  until: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The hour a shard's or a segment's name starts with (`07-…`, `seg-071502-…`). */
export function shardHour(name: string): number | undefined {
  const m = /^(?:seg-)?(\d{2})/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * Every file of the log that can hold a record of the window, oldest day first (a day's old-layout file
 * before its shards): only the day folders of the window are listed, and on its first and last day only
 * the shards of its hours.
 */
export async function auditFiles(p: AuditPlace, w: Span): Promise<AuditFile[]> {
  const first = w.since.slice(0, 10);
  const last = w.until.slice(0, 10);
  const inside = (d: string) => d >= first && d <= last;
  const out: AuditFile[] = [];
  const legacy = (await readdir(p.legacyDir).catch(() => [] as string[])).filter((n) => /^\d{4}-\d{2}-\d{2}\.jsonl$/.test(n) && inside(n.slice(0, 10)));
  for (const n of legacy) out.push({ path: path.join(p.legacyDir, n), day: n.slice(0, 10) });
  const dir = recordsDir(p.storeDir);
  const firstHour = Number(w.since.slice(11, 13));
  const lastHour = Number(w.until.slice(11, 13));
  for (const day of (await readdir(dir).catch(() => [] as string[])).filter((n) => DAY.test(n) && inside(n))) {
    for (const n of await readdir(path.join(dir, day)).catch(() => [] as string[])) {
      if (!n.endsWith('.jsonl')) continue;
      const hour = shardHour(n);
      if (hour !== undefined && ((day === first && hour < firstHour) || (day === last && hour > lastHour))) continue;
      out.push({ path: path.join(dir, day, n), day, hour });
    }
  }
  // By day, the old layout's file first, then by hour and name: each day's records read together.
  return out.sort((a, b) => a.day.localeCompare(b.day) || (a.hour ?? -1) - (b.hour ?? -1) || a.path.localeCompare(b.path));
}

/** What one process writes: its own shards, named so that no other writer (a lane, another runner) picks them. */
export interface ShardWriter {
  append(ts: string, lines: string[]): Promise<void>;
}

/** This host as shard names spell it. */
export const shardHost = () => hostname().replace(/[^\w.]/g, '_').slice(0, 40);

export const shardOwner = () => `${shardHost()}-${process.pid}`;

/** `07-myhost-4242-1a2b3c4d.jsonl` → its owner (`myhost-4242`), or undefined for a file no writer owns. */
export function ownerOf(name: string): string | undefined {
  return /^\d{2}-(.+)-[0-9a-f]{8}(?:\.\d+)?\.jsonl$/.exec(name)?.[1];
}

/** The first UTC day of a window of `days` days that ends on `now`'s day. */
export function windowStart(now: string, days: number): string {
  return new Date(Date.parse(now) - (days - 1) * 86_400_000).toISOString().slice(0, 10);
}

/** Removes the day folders of the store older than `keepFrom` (the retention window, SPEC 10); returns how many. */
export async function pruneStore(storeDir: string, keepFrom: string): Promise<number> {
  const dir = recordsDir(storeDir);
  const old = (await readdir(dir).catch(() => [] as string[])).filter((d) => DAY.test(d) && d < keepFrom);
  for (const d of old) await rm(path.join(dir, d), { recursive: true, force: true });
  return old.length;
}

/** The store is never committed, whatever the repository's own .gitignore says. */
export async function ignoreAuditStore(storeDir: string): Promise<void> {
  await mkdir(storeDir, { recursive: true });
  await writeFile(path.join(storeDir, '.gitignore'), '*\n', { flag: 'wx' }).catch(() => undefined);
}

/** `keepDays`: on its first write the writer removes the store's days older than that window. */
export function shardWriter(storeDir: string, keepDays?: number, maxBytes = SHARD_BYTES): ShardWriter {
  const tag = randomBytes(4).toString('hex');
  const owner = shardOwner();
  /** Per day and hour: the part written to now and its size, so that no shard is stat-ed twice. */
  const open = new Map<string, { part: number; size: number }>();
  let ignored = false;
  return {
    async append(ts, lines) {
      if (!ignored) {
        await ignoreAuditStore(storeDir);
        if (keepDays) await pruneStore(storeDir, windowStart(ts.slice(0, 10) + 'T00:00:00Z', keepDays));
        ignored = true;
      }
      const day = ts.slice(0, 10);
      const hour = ts.slice(11, 13);
      const key = `${day}/${hour}`;
      const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
      let at = open.get(key);
      const file = (part: number) => path.join(recordsDir(storeDir), day, `${hour}-${owner}-${tag}${part > 1 ? `.${part}` : ''}.jsonl`);
      if (!at) at = { part: 1, size: await stat(file(1)).then((s) => s.size, () => 0) };
      if (at.size > 0 && at.size + bytes > maxBytes) at = { part: at.part + 1, size: 0 };
      await appendLines(file(at.part), lines, { fsync: false });
      at.size += bytes;
      open.set(key, at);
    },
  };
}
