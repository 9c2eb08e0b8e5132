// The response cache between jobs: the store (store/cache/) is the runner's disk, gone with a GitHub-hosted
// runner, so every checkpoint that pushes evidence also appends the answers recorded since the last one to
// the data branch `g7/cache` (src/git/data-branch.ts), and every truck that departs or resumes with pushing
// on first takes the segments its store has not seen. A resumed truck on a fresh runner then pays nothing
// twice for an answer recorded before the crash (SPEC 3a). The answers recorded and not yet pushed are named
// in an outbox beside the entries (one key per line, appended as each answer is recorded); a push takes the
// outbox by renaming it, so lanes sharing a disk never push one answer twice or lose one.
import path from 'node:path';
import { appendFile, readFile, readdir, rename, rm, access } from 'node:fs/promises';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Git } from '../git/git.js';
import { alive } from '../host/alive.js';
import { appendSegment, fetchDataBranch, markSeen, readSegment, unseenSegments } from '../git/data-branch.js';
import { writeFileAtomic, writeJsonAtomic } from '../ssot/atomic.js';
import { cacheEntryFile, ignoreStore, OUTBOX_FILE as OUTBOX, skillPartFile, type CacheEntry } from './cached.js';

/** The segments this store holds already (a push's own, and those pulled): one path per line. */
const IMPORTED = 'imported.txt';

/** One line of a segment: a cache entry, or a skill text entries point to by digest. */
type SegmentLine = { entry: CacheEntry } | { part: string; text: string };

export interface SyncTarget {
  git: Git;
  remote: string;
  /** The data branch, e.g. g7/cache. */
  branch: string;
  cacheDir: string;
  /** The window's first UTC day (YYYY-MM-DD): older segments leave the branch. */
  keepFrom: string;
}

export interface Pushed {
  answers: number;
  dropped: number;
}

/**
 * Appends the answers recorded since the last push (and those a killed process on this disk left in its
 * outbox) to the data branch as one segment. Nothing to push: undefined. On failure the keys go back to
 * the outbox for the next checkpoint, and the error is thrown.
 */
export async function pushCache(t: SyncTarget, now: string, run: string): Promise<Pushed | undefined> {
  const mine = path.join(t.cacheDir, `${OUTBOX}.sending-${process.pid}`);
  await rename(path.join(t.cacheDir, OUTBOX), mine).catch(() => undefined);
  // Outboxes a killed process was sending: adopted.
  const names = await readdir(t.cacheDir).catch(() => [] as string[]);
  const taken = [mine];
  for (const n of names) {
    const pid = Number(/^outbox\.keys\.sending-(\d+)$/.exec(n)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) {
      const adopted = `${mine}.${pid}`;
      if (await rename(path.join(t.cacheDir, n), adopted).then(() => true, () => false)) taken.push(adopted);
    }
  }
  const keys = new Set<string>();
  for (const f of taken) for (const k of (await readFile(f, 'utf8').catch(() => '')).split('\n')) if (/^[0-9a-f]{64}$/.test(k)) keys.add(k);
  if (keys.size === 0) {
    await Promise.all(taken.map((f) => rm(f, { force: true })));
    return undefined;
  }
  const lines: string[] = [];
  const parts = new Set<string>();
  for (const key of keys) {
    const entry = await readFile(cacheEntryFile(t.cacheDir, key), 'utf8').then((s) => JSON.parse(s) as CacheEntry, () => undefined);
    if (!entry) continue;
    lines.push(JSON.stringify({ entry } satisfies SegmentLine));
    if (!parts.has(entry.skill_digest)) {
      parts.add(entry.skill_digest);
      const text = await readFile(skillPartFile(t.cacheDir, entry.skill_digest), 'utf8').catch(() => undefined);
      if (text !== undefined) lines.push(JSON.stringify({ part: entry.skill_digest, text } satisfies SegmentLine));
    }
  }
  const day = now.slice(0, 10);
  const name = `${day}/${now.slice(11, 19).replace(/:/g, '')}-${run}-${hostname().replace(/[^\w.-]/g, '_').slice(0, 40)}-${process.pid}-${randomBytes(4).toString('hex')}.jsonl`;
  try {
    const r = await appendSegment(t.git, t.remote, t.branch, { path: name, text: lines.join('\n') + '\n' }, t.keepFrom, `g7: ${keys.size} answer${keys.size === 1 ? '' : 's'} of ${run}`);
    await markSeen(path.join(t.cacheDir, IMPORTED), [name]);
    await Promise.all(taken.map((f) => rm(f, { force: true })));
    return { answers: keys.size, dropped: r.dropped };
  } catch (err) {
    await appendFile(path.join(t.cacheDir, OUTBOX), [...keys].join('\n') + '\n');
    await Promise.all(taken.map((f) => rm(f, { force: true })));
    throw err;
  }
}

export interface Pulled {
  segments: number;
  answers: number;
}

/**
 * Takes into the store every segment of the data branch it has not seen: entries it does not hold are
 * written (never over one it holds), skill texts likewise. Throws when the remote cannot be read.
 */
export async function pullCache(t: Omit<SyncTarget, 'keepFrom'>): Promise<Pulled> {
  const tip = await fetchDataBranch(t.git, t.remote, t.branch);
  if (!tip) return { segments: 0, answers: 0 };
  await ignoreStore(t.cacheDir);
  const { fresh, settle } = await unseenSegments(t.git, tip, path.join(t.cacheDir, IMPORTED));
  let answers = 0;
  for (const p of fresh) {
    for (const line of (await readSegment(t.git, tip, p)).split('\n')) {
      if (!line) continue;
      const l = JSON.parse(line) as SegmentLine;
      if ('entry' in l) {
        const file = cacheEntryFile(t.cacheDir, l.entry.key);
        if (await access(file).then(() => false, () => true)) {
          await writeJsonAtomic(file, l.entry);
          answers++;
        }
      } else {
        const file = skillPartFile(t.cacheDir, l.part);
        if (await access(file).then(() => false, () => true)) await writeFileAtomic(file, l.text);
      }
    }
  }
  await settle();
  return { segments: fresh.length, answers };
}
