// Reading a backlog (one card per JSONL line), the one way: streaming, every card checked against the
// contract and the rule language, then the graph checks (duplicate ids, unknown deps, cycles). Each line is
// parsed once, and only a compact view is kept per card (integer keys in typed arrays), so a million-card
// backlog fits in memory; full cards are re-read by line. A large backlog is read in two halves by two
// worker threads at once while this thread hashes the file.
import { access, open, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import type { WorkCard } from '../contracts/types.gen.js';
import { ProblemList, SchemaError, type Problem } from '../contracts/errors.js';
import { SCHEMAS } from '../contracts/validate.js';
import { forEachLine, type ByteRange } from '../ssot/jsonl.js';
import { sniffEncoding } from '../ssot/text.js';
import { IdIndex, idFromKey, findCycles } from './card-graph.js';
import { readBacklogPart, type BacklogPart, type PartJob } from './backlog-part.js';
import type { CardTable, Prio } from './card-graph.js';

export type { Prio, CardTable } from './card-graph.js';

/** What packing needs of a card: its id, class, deps and where it is in the file. */
export interface CardRef {
  id: string;
  prio: Prio;
  lane: number;
  deps: string[];
  line: number;
}

export interface LoadedBacklog {
  /** The cards the contract accepts; their ids and deps are checked (now, or when its stamp was made). */
  cards: CardTable;
  problems: ProblemList;
  /** sha256 of the file's bytes. */
  sha256: string;
}

// The checker's identity: the shipped contracts plus a version for the checks written in code. A stamp
// made by another checker is not trusted.
const CHECKS_VERSION = 1;
export const CHECKER = createHash('sha256').update(JSON.stringify(SCHEMAS)).update(String(CHECKS_VERSION)).digest('hex').slice(0, 16);

/** sha256 of a file, read through one reused buffer (a backlog may be hundreds of MB; a fresh buffer per
 * read is work for the garbage collector of the thread that also checks the graph). */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let n; (n = (await fh.read(buf, 0, buf.length)).bytesRead) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

// Below this size a worker's start-up (a thread, its own copy of the checker's modules) is not worth it.
const WORKERS_FROM_BYTES = 8 << 20;
const PART_WORKER = new URL('./backlog-check.mjs', import.meta.url);

/** Two halves of a UTF-8 file, cut after the newline nearest past the middle; undefined when the file is
 * small, not UTF-8, has no such newline, or the worker's bundle is not there (running from source). */
async function halves(file: string): Promise<ByteRange[] | undefined> {
  if (PART_WORKER.protocol !== 'file:' || !existsSync(fileURLToPath(PART_WORKER))) return undefined;
  const size = await stat(file).then((s) => s.size, () => 0);
  if (size < WORKERS_FROM_BYTES) return undefined;
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(64 << 10);
    await fh.read(buf, 0, 4, 0);
    if (sniffEncoding(buf.subarray(0, 4)).encoding !== 'utf-8') return undefined;
    for (let at = size >> 1; at < size; at += buf.length) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, at);
      if (bytesRead === 0) break;
      const nl = buf.subarray(0, bytesRead).indexOf(10);
      if (nl >= 0) return at + nl + 1 < size ? [{ start: 0, end: at + nl + 1 }, { start: at + nl + 1, end: size }] : undefined;
    }
    return undefined;
  } finally {
    await fh.close();
  }
}

function readInWorker(job: PartJob): { result: Promise<BacklogPart>; stop: () => void } {
  const worker = new Worker(PART_WORKER, { workerData: job });
  const result = new Promise<BacklogPart>((resolve, reject) => {
    worker.once('message', (m: { part?: BacklogPart; problems?: Problem[] }) => (m.part ? resolve(m.part) : reject(new SchemaError(m.problems ?? []))));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`a backlog reading worker exited with code ${code} before it answered`)));
  });
  result.catch(() => {}); // awaited in order below; a failure meanwhile must not go unhandled
  return { result, stop: () => void worker.terminate() };
}

const shifted = (ps: Problem[], by: number): Problem[] => (by === 0 ? ps : ps.map((p) => (p.line === undefined ? p : { ...p, line: p.line + by })));

/** The parts of a file as one, lines numbered from the file's first. */
function joinParts(parts: BacklogPart[]): BacklogPart {
  if (parts.length === 1) return parts[0]!;
  const count = parts.reduce((n, p) => n + p.count, 0);
  const depCount = parts.reduce((n, p) => n + p.depKeys.length, 0);
  const out: BacklogPart = {
    lines: 0, records: 0, count, keys: new Int32Array(count), meta: new Uint8Array(count), cardLines: new Int32Array(count), depStart: new Int32Array(count + 1), depKeys: new Int32Array(depCount),
    packs: [], readProblems: [], readDropped: 0, checkProblems: [], checkDropped: 0, bad: false,
  };
  const packs = new Set<string>();
  let at = 0;
  let depAt = 0;
  for (const p of parts) {
    out.keys.set(p.keys, at);
    out.meta.set(p.meta, at);
    for (let i = 0; i < p.count; i++) {
      out.cardLines[at + i] = p.cardLines[i]! + out.lines;
      out.depStart[at + i] = p.depStart[i]! + depAt;
    }
    out.depKeys.set(p.depKeys, depAt);
    for (const r of p.packs) if (!packs.has(r.pack)) {
      packs.add(r.pack);
      out.packs.push({ pack: r.pack, line: r.line + out.lines });
    }
    out.readProblems.push(...shifted(p.readProblems, out.lines));
    out.checkProblems.push(...shifted(p.checkProblems, out.lines));
    out.readDropped += p.readDropped;
    out.checkDropped += p.checkDropped;
    out.records += p.records;
    out.bad ||= p.bad;
    out.lines += p.lines;
    at += p.count;
    depAt += p.depKeys.length;
  }
  out.depStart[count] = depAt;
  return out;
}

/** Reads a backlog once, in two halves on two worker threads when it is large, and hashes its bytes. */
async function readBacklog(file: string, display: string, max: number, check: boolean): Promise<{ part: BacklogPart; sha256: string }> {
  const ranges = await halves(file);
  if (!ranges) {
    const hash = createHash('sha256');
    const part = await readBacklogPart({ file, display, max, range: undefined, check }, (raw) => hash.update(raw));
    return { part, sha256: hash.digest('hex') };
  }
  const jobs = ranges.map((range) => readInWorker({ file, display, max, range, check }));
  try {
    const sha256 = await fileSha256(file);
    const parts: BacklogPart[] = [];
    let lines = 0;
    for (const job of jobs) {
      const part = await job.result.catch((err: unknown) => {
        throw err instanceof SchemaError ? new SchemaError(shifted(err.problems, lines)) : err;
      });
      parts.push(part);
      lines += part.lines;
    }
    return { part: joinParts(parts), sha256 };
  } finally {
    for (const job of jobs) job.stop();
  }
}

/** Merges lists each sorted by line; on the same line, earlier lists first. */
function mergeByLine(lists: Problem[][]): Problem[] {
  const out: Problem[] = [];
  const at = lists.map(() => 0);
  for (;;) {
    let best = -1;
    for (let k = 0; k < lists.length; k++) {
      const p = lists[k]![at[k]!];
      if (p && (best < 0 || (p.line ?? 0) < (lists[best]![at[best]!]!.line ?? 0))) best = k;
    }
    if (best < 0) return out;
    out.push(lists[best]![at[best]!++]!);
  }
}

/**
 * Loads and checks a backlog. `known` are ids that count as existing although not in this file
 * (cards already done and dropped from a recompiled backlog). `packExists` checks pack references.
 * With `trusted` (the sha256 of an earlier full check of the same file), the checks are skipped when the
 * bytes are unchanged.
 */
export async function loadBacklog(
  file: string,
  display: string,
  opts: { known?: Set<string>; packExists?: (id: string) => Promise<boolean>; maxProblems?: number; trusted?: string } = {},
): Promise<LoadedBacklog> {
  const max = opts.maxProblems ?? 50;
  if (opts.trusted) {
    const fast = await readBacklog(file, display, max, false);
    if (!fast.part.bad && fast.sha256 === opts.trusted) return { cards: fast.part, problems: new ProblemList(), sha256: fast.sha256 };
  }
  const { part: p, sha256 } = await readBacklog(file, display, max, true);
  const n = p.count;
  const index = new IdIndex(n); // id key → position of its first card
  const duplicates: Problem[] = [];
  for (let i = 0; i < n; i++) {
    const key = p.keys[i]!;
    const first = index.get(key);
    if (first !== undefined) duplicates.push({ file: display, line: p.cardLines[i]!, field: 'id', rule: 'backlog.duplicate-id', message: `duplicate id ${idFromKey(key)} (first on line ${p.cardLines[first]!})`, hint: 'card ids must be unique in a backlog' });
    else index.set(key, i);
  }
  // Problems by line, as one reading would meet them: bad JSON, then a card's own problems, then its id
  // being a duplicate. Each list holds its first `max` by line, so their merge holds the first `max` of all.
  const problems = new ProblemList(max);
  for (const q of mergeByLine([p.readProblems, p.checkProblems, duplicates])) problems.add(q);
  problems.dropped += p.readDropped + p.checkDropped;
  if (p.records === 0 && problems.size === 0) problems.add({ file: display, line: 1, rule: 'backlog.empty', message: 'the backlog has no cards', hint: 'compile a day plan with `g7 plan compile`' });

  // The dependency graph by position, for the cycle check: edges[start[i] .. start[i+1]) are card i's.
  const known = opts.known ?? new Set<string>();
  const start = new Int32Array(n + 1);
  const edges = new Int32Array(p.depKeys.length);
  let e = 0;
  for (let i = 0; i < n; i++) {
    start[i] = e;
    for (let k = p.depStart[i]!; k < p.depStart[i + 1]!; k++) {
      const at = index.get(p.depKeys[k]!);
      if (at !== undefined) edges[e++] = at;
      else {
        const d = idFromKey(p.depKeys[k]!);
        if (!known.has(d))
          problems.add({ file: display, line: p.cardLines[i]!, field: 'deps', rule: 'backlog.unknown-dep', message: `card ${idFromKey(p.keys[i]!)} depends on ${d}, which is neither in this backlog nor done`, hint: 'fix the id or add the card' });
      }
    }
  }
  start[n] = e;
  for (const cycle of findCycles({ start, edges: edges.subarray(0, e) }, 5)) {
    const ids = cycle.map((i) => idFromKey(p.keys[i]!));
    problems.add({ file: display, line: p.cardLines[cycle[0]!]!, field: 'deps', rule: 'backlog.cycle', message: `dependency cycle: ${ids.join(' → ')}`, hint: 'cards in a cycle can never run; remove one of the deps' });
  }
  if (opts.packExists) {
    for (const { pack, line } of p.packs) {
      if (!(await opts.packExists(pack))) problems.add({ file: display, line, field: 'pack', rule: 'backlog.pack-missing', message: `work pack "${pack}" not found`, hint: 'add backlog/packs/<id>.json or fix the card' });
    }
  }
  return { cards: p, problems, sha256 };
}

/** Full cards for the given line numbers, in the order asked, by re-reading the file (no JSON parse of the rest). */
export async function readCardsAtLines(file: string, lines: number[]): Promise<WorkCard[]> {
  const want = new Map<number, number>();
  lines.forEach((l, i) => want.set(l, i));
  const out: WorkCard[] = new Array(lines.length);
  let left = lines.length;
  if (left === 0) return [];
  await forEachLine(file, (text, line) => {
    const i = want.get(line);
    if (i === undefined) return;
    out[i] = JSON.parse(text) as WorkCard;
    return --left === 0 ? 'stop' : undefined;
  });
  return out;
}

export async function fileExists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}
