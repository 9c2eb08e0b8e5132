// Reading a backlog (one card per JSONL line), the one way: streaming, every card checked against the
// contract and the rule language, then the graph checks (duplicate ids, unknown deps, cycles). Only a
// compact view is kept per card, so a million-card backlog fits in memory; full cards are re-read by line.
import { access, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import type { WorkCard } from '../contracts/types.gen.js';
import { ProblemList, type Problem } from '../contracts/errors.js';
import { isValid, explain, SCHEMAS } from '../contracts/validate.js';
import { forEachLine, readJsonl } from '../ssot/jsonl.js';
import { repoPathProblem } from '../ssot/paths.js';
import { ruleProblems } from '../rules/parse.js';
import { IdIndex, idKey, findCycles } from './card-graph.js';

export type Prio = 'A' | 'B' | 'C' | 'D';

/** What packing needs of a card: its id, class, deps and where it is in the file. */
export interface CardRef {
  id: string;
  prio: Prio;
  lane: number;
  deps: string[];
  line: number;
}

export interface LoadedBacklog {
  cards: CardRef[];
  /** Always undefined: the ids and deps of a loaded backlog are checked (now, or when its stamp was made),
   * so the packer needs no index of its own beyond the one it builds for departed trucks. */
  index: Map<string, number> | undefined;
  problems: ProblemList;
  /** sha256 of the file's bytes, computed while streaming. */
  sha256: string;
}

const NO_DEPS: string[] = Object.freeze([]) as unknown as string[];

const NO_PROBLEMS: Problem[] = [];

/** Per-card checks beyond the schema; `display` names the file in problems. Allocation-free when the card is fine. */
export function checkCard(card: WorkCard, display: string, line: number): Problem[] {
  let out = NO_PROBLEMS;
  const p = (field: string, rule: string, message: string, hint?: string) => {
    if (out === NO_PROBLEMS) out = [];
    out.push({ file: display, line, field, rule, message, hint });
  };
  // The schema has already checked the id's form: L{lane}_{TYPE}_{NNNNNN}.
  const lane = card.id.charCodeAt(1) - 48;
  if (lane !== card.lane) p('id', 'card.id-lane', `id ${card.id} says lane ${lane} but "lane" is ${card.lane}`, 'make the id\'s L-number and "lane" agree');
  if (!card.id.startsWith(card.type, 3) || card.id.length !== card.type.length + 10) p('id', 'card.id-type', `id ${card.id} says type ${card.id.slice(3, -7)} but "type" is ${card.type}`, 'make the id\'s type and "type" agree');
  const why = repoPathProblem(card.output);
  if (why) p('output', 'card.path-escape', `output "${card.output}" ${why}`, 'outputs are written inside the repository');
  const acceptProblems = ruleProblems(card.accept, 'accept');
  for (const rp of acceptProblems) p('accept', rp.rule, `${rp.message} (column ${rp.col} of "${card.accept}")`, rp.hint);
  const failfastProblems = ruleProblems(card.failfast, 'failfast');
  for (const rp of failfastProblems) p('failfast', rp.rule, `${rp.message} (column ${rp.col} of "${card.failfast}")`, rp.hint);
  if (card.deps.length > 0 && card.deps.includes(card.id)) p('deps', 'card.self-dependency', `card ${card.id} depends on itself`);
  if (card.type === 'PATCH' && !card.pack) p('pack', 'card.patch-needs-pack', 'a PATCH card needs a work pack listing the files it may write');
  return out;
}

// The checker's identity: the shipped contracts plus a version for the checks written in code. A stamp
// made by another checker is not trusted.
const CHECKS_VERSION = 1;
export const CHECKER = createHash('sha256').update(JSON.stringify(SCHEMAS)).update(String(CHECKS_VERSION)).digest('hex').slice(0, 16);

/**
 * Reads only what packing needs, hashing the bytes as it goes, for a backlog whose exact bytes were fully
 * checked before (`trusted` is that check's sha256). Returns undefined when the bytes differ: then the
 * caller must run the full check.
 */
async function loadTrusted(file: string, display: string, trusted: string): Promise<LoadedBacklog | undefined> {
  const cards: CardRef[] = [];
  const hash = createHash('sha256');
  let bad = false;
  await forEachLine(
    file,
    (text, line) => {
      if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return;
      let c: WorkCard;
      try {
        c = JSON.parse(text) as WorkCard;
      } catch {
        bad = true;
        return 'stop';
      }
      cards.push({ id: c.id, prio: c.prio, lane: c.lane, deps: c.deps.length ? c.deps : NO_DEPS, line });
      return undefined;
    },
    display,
    (raw) => hash.update(raw),
  );
  const sha256 = hash.digest('hex');
  if (bad || sha256 !== trusted) return undefined;
  return { cards, index: undefined, problems: new ProblemList(), sha256 };
}

/** What the per-card checks of a backlog found: the first `max` problems by line, how many in all, and the
 * lines whose card the schema refused (they are not cards: no id, dep or pack of theirs counts). */
export interface CardChecks {
  items: Problem[];
  total: number;
  invalid: number[];
}

class CardChecker {
  private readonly checks: CardChecks = { items: [], total: 0, invalid: [] };
  constructor(
    private readonly display: string,
    private readonly max: number,
  ) {}

  /** Checks one parsed line; true when the schema accepts it as a card. */
  check(value: unknown, line: number): boolean {
    if (!isValid('card', value)) {
      this.checks.invalid.push(line);
      this.add(explain('card', value, { file: this.display, line }));
      return false;
    }
    this.add(checkCard(value as WorkCard, this.display, line));
    return true;
  }

  private add(found: Problem[]): void {
    for (const p of found) if (this.checks.total++ < this.max) this.checks.items.push(p);
  }

  result(): CardChecks {
    return this.checks;
  }
}

/** The per-card checks of a backlog file, reading it on its own: what the worker thread runs. Lines that are
 * not JSON are skipped: the main thread's reader reports them. */
export async function checkCardsInFile(file: string, display: string, max: number): Promise<CardChecks> {
  const checker = new CardChecker(display, max);
  await forEachLine(
    file,
    (text, line) => {
      if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return;
      }
      checker.check(value, line);
    },
    display,
  );
  return checker.result();
}

// Below this size the worker's start-up (a thread, its own copy of the checker's modules) is not worth it.
const WORKER_FROM_BYTES = 8 << 20;
const CHECK_WORKER = new URL('./backlog-check.mjs', import.meta.url);

function checkInWorker(file: string, display: string, max: number): { result: Promise<CardChecks>; stop: () => void } | undefined {
  if (CHECK_WORKER.protocol !== 'file:' || !existsSync(fileURLToPath(CHECK_WORKER))) return undefined;
  const worker = new Worker(CHECK_WORKER, { workerData: { file, display, max } });
  const result = new Promise<CardChecks>((resolve, reject) => {
    worker.once('message', (m: CardChecks) => resolve(m));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the backlog check worker exited with code ${code} before it answered`)));
  });
  result.catch(() => {}); // awaited after the main read; a failure meanwhile must not go unhandled
  return { result, stop: () => void worker.terminate() };
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
  if (opts.trusted) {
    const fast = await loadTrusted(file, display, opts.trusted);
    if (fast) return fast;
  }
  const max = opts.maxProblems ?? 50;
  // The per-card checks (schema, rules, paths) run beside this thread's read in a worker thread when the
  // backlog is large and the worker's bundle is there (the CLI build ships it); otherwise inline.
  const { size } = await stat(file).catch(() => ({ size: 0 }));
  const inWorker = size >= WORKER_FROM_BYTES ? checkInWorker(file, display, max) : undefined;
  const inline = inWorker ? undefined : new CardChecker(display, max);
  let refs: CardRef[] = [];
  let packRefs: { pack: string; line: number }[] = [];
  const hash = createHash('sha256');
  let read;
  try {
    read = await readJsonl(
      file,
      (value, line) => {
        if (inline ? !inline.check(value, line) : value === null || typeof value !== 'object') return;
        const card = value as WorkCard; // checked inline, or by the worker: refused cards are dropped below
        refs.push({ id: card.id, prio: card.prio, lane: card.lane, deps: Array.isArray(card.deps) && card.deps.length ? card.deps : NO_DEPS, line });
        if (card.pack) packRefs.push({ pack: card.pack, line });
      },
      { display, onChunk: (raw) => hash.update(raw), maxProblems: max },
    );
  } catch (err) {
    inWorker?.stop();
    throw err;
  }
  const checks = inline ? inline.result() : await inWorker!.result;
  if (!inline && checks.invalid.length > 0) {
    const refused = new Set(checks.invalid);
    refs = refs.filter((r) => !refused.has(r.line));
    packRefs = packRefs.filter((r) => !refused.has(r.line));
  }

  const cards = refs;
  const index = new IdIndex(cards.length); // id key → position in `cards` (first occurrence)
  const duplicates: Problem[] = [];
  for (let i = 0; i < cards.length; i++) {
    const c = cards[i]!;
    const key = idKey(c.id);
    const first = index.get(key);
    if (first !== undefined) duplicates.push({ file: display, line: c.line, field: 'id', rule: 'backlog.duplicate-id', message: `duplicate id ${c.id} (first on line ${cards[first]!.line})`, hint: 'card ids must be unique in a backlog' });
    else index.set(key, i);
  }
  // Problems by line, as one reading would meet them: bad JSON, then a card's own problems, then its id
  // being a duplicate. Each list holds its first `max` by line, so their merge holds the first `max` of all.
  const problems = new ProblemList(max);
  for (const p of mergeByLine([read.problems.items, checks.items, duplicates])) problems.add(p);
  problems.dropped += read.problems.dropped + checks.total - checks.items.length;
  const packs = new Map<string, number>();
  for (const r of packRefs) if (!packs.has(r.pack)) packs.set(r.pack, r.line);
  if (read.records === 0 && problems.size === 0) problems.add({ file: display, line: 1, rule: 'backlog.empty', message: 'the backlog has no cards', hint: 'compile a day plan with `g7 plan compile`' });

  // The dependency graph by position, for the cycle check: deps[start[i] .. start[i+1]) are card i's.
  const known = opts.known ?? new Set<string>();
  const start = new Int32Array(cards.length + 1);
  const edges: number[] = [];
  for (let i = 0; i < cards.length; i++) {
    const c = cards[i]!;
    start[i] = edges.length;
    for (const d of c.deps) {
      const at = index.get(idKey(d));
      if (at !== undefined) edges.push(at);
      else if (!known.has(d))
        problems.add({ file: display, line: c.line, field: 'deps', rule: 'backlog.unknown-dep', message: `card ${c.id} depends on ${d}, which is neither in this backlog nor done`, hint: 'fix the id or add the card' });
    }
  }
  start[cards.length] = edges.length;
  for (const cycle of findCycles({ start, edges: Int32Array.from(edges) }, 5)) {
    const ids = cycle.map((i) => cards[i]!.id);
    problems.add({ file: display, line: cards[cycle[0]!]!.line, field: 'deps', rule: 'backlog.cycle', message: `dependency cycle: ${ids.join(' → ')}`, hint: 'cards in a cycle can never run; remove one of the deps' });
  }
  if (opts.packExists) {
    for (const [id, line] of packs) {
      if (!(await opts.packExists(id))) problems.add({ file: display, line, field: 'pack', rule: 'backlog.pack-missing', message: `work pack "${id}" not found`, hint: 'add backlog/packs/<id>.json or fix the card' });
    }
  }
  return { cards, index: undefined, problems, sha256: hash.digest('hex') };
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
