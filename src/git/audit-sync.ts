// The audit log between jobs: the store (store/audit/) is the runner's disk, gone with a GitHub-hosted runner,
// so every checkpoint that pushes evidence also appends the records its shards gained since the last push to
// the data branch `g7/audit` (src/git/data-branch.ts), one segment per shard; and a coreloop command, which on
// a hosted runner starts from a fresh clone, first takes the segments its store lacks. How much of a shard
// has travelled is kept beside it (`<shard>.sent`, a byte offset), written only by the process that owns the
// shard, or by one that adopts the shard of a process on this host that died.
import path from 'node:path';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import type { Git } from './git.js';
import { alive } from '../host/alive.js';
import { appendSegment, fetchDataBranch, markSeen, readSegment, segmentDay, unseenSegments } from './data-branch.js';
import { writeFileAtomic } from '../ssot/atomic.js';
import { ignoreAuditStore, ownerOf, recordsDir, shardHost, shardOwner } from '../ssot/audit-store.js';

/** The segments this store holds already (its own pushes, and those pulled): one path per line. */
const IMPORTED = 'imported.txt';

export interface AuditSyncTarget {
  git: Git;
  remote: string;
  /** The data branch, e.g. g7/audit. */
  branch: string;
  /** store/audit/. */
  storeDir: string;
}

export interface AuditPushed {
  records: number;
  segments: number;
  dropped: number;
}

/** This process's shards, and those of a process on this host that is gone (it cannot push them any more). */
function mine(name: string): boolean {
  const owner = ownerOf(name);
  if (!owner) return false;
  if (owner === shardOwner()) return true;
  const m = /^(.+)-(\d+)$/.exec(owner);
  return !!m && m[1] === shardHost() && !alive(Number(m[2]));
}

const sentOf = async (file: string) => Number((await readFile(`${file}.sent`, 'utf8').catch(() => '0')).trim()) || 0;

/** Bytes [from, to) of a file, cut after its last whole line. */
async function wholeLines(file: string, from: number, to: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(to - from);
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    const end = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    return buf.subarray(0, end + 1);
  } finally {
    await fh.close();
  }
}

/**
 * Appends to the data branch what the shards of the window (days from `keepFrom`) gained since they last
 * travelled, a segment per shard. Nothing new: undefined. Throws on the first segment that cannot be pushed;
 * what did not travel goes with the next checkpoint.
 */
export async function pushAudit(t: AuditSyncTarget & { keepFrom: string }, run: string): Promise<AuditPushed | undefined> {
  const dir = recordsDir(t.storeDir);
  const out: AuditPushed = { records: 0, segments: 0, dropped: 0 };
  for (const day of (await readdir(dir).catch(() => [] as string[])).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d) && d >= t.keepFrom).sort()) {
    for (const name of (await readdir(path.join(dir, day))).filter(mine).sort()) {
      const file = path.join(dir, day, name);
      const sent = await sentOf(file);
      const size = (await stat(file)).size;
      if (size <= sent) continue;
      const text = await wholeLines(file, sent, size);
      if (text.length === 0) continue;
      const at = `${day}/${name.replace(/\.jsonl$/, '')}-${sent}.jsonl`;
      const records = text.toString('utf8').split('\n').length - 1;
      const r = await appendSegment(t.git, t.remote, t.branch, { path: at, text: text.toString('utf8') }, t.keepFrom, `g7: ${records} audit record${records === 1 ? '' : 's'} of ${run}`);
      await writeFileAtomic(`${file}.sent`, `${sent + text.length}\n`);
      await markSeen(path.join(t.storeDir, IMPORTED), [at]);
      out.records += records;
      out.segments++;
      out.dropped += r.dropped;
    }
  }
  return out.segments ? out : undefined;
}

export interface AuditPulled {
  segments: number;
  records: number;
}

/**
 * Takes into the store every segment of the data branch it has not seen, as `seg-<name>` in the segment's
 * day folder (never over a file it holds). Throws when the remote cannot be read.
 */
export async function pullAudit(t: AuditSyncTarget): Promise<AuditPulled> {
  const tip = await fetchDataBranch(t.git, t.remote, t.branch);
  if (!tip) return { segments: 0, records: 0 };
  await ignoreAuditStore(t.storeDir);
  const { fresh, settle } = await unseenSegments(t.git, tip, path.join(t.storeDir, IMPORTED));
  let records = 0;
  for (const p of fresh) {
    const text = await readSegment(t.git, tip, p);
    await writeFileAtomic(path.join(recordsDir(t.storeDir), segmentDay(p)!, `seg-${path.posix.basename(p)}`), text);
    records += text.split('\n').filter(Boolean).length;
  }
  await settle();
  return { segments: fresh.length, records };
}
