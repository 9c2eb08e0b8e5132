// Reading a backlog (one card per JSONL line), the one way: streaming, every card checked against the
// contract and the rule language, then the graph checks (duplicate ids, unknown deps, cycles). Only a
// compact view is kept per card, so a million-card backlog fits in memory; full cards are re-read by line.
import { access } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { WorkCard } from '../contracts/types.gen.js';
import { ProblemList, type Problem } from '../contracts/errors.js';
import { isValid, explain, SCHEMAS } from '../contracts/validate.js';
import { forEachLine, readJsonl } from '../ssot/jsonl.js';
import { repoPathProblem } from '../ssot/paths.js';
import { ruleProblems } from '../rules/parse.js';

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
  /** id → position in `cards` (first occurrence), shared with the cycle check and the packer; undefined
   * when the file was read through a stamp (its ids and deps were checked when the stamp was made). */
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
  if (lane !== card.lane) p('id', 'card.id-lane', `id ${card.id} says lane ${lane} but "lane" is ${card.lane}`);
  if (!card.id.startsWith(card.type, 3) || card.id.length !== card.type.length + 10) p('id', 'card.id-type', `id ${card.id} says type ${card.id.slice(3, -7)} but "type" is ${card.type}`);
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
  const cards: CardRef[] = [];
  const index = new Map<string, number>();
  const packs = new Map<string, number>();
  const hash = createHash('sha256');
  const read = await readJsonl(
    file,
    (value, line) => {
      if (!isValid('card', value)) return explain('card', value, { file: display, line });
      const card = value as WorkCard;
      let found = checkCard(card, display, line);
      const first = index.get(card.id);
      if (first !== undefined) (found = [...found]).push({ file: display, line, field: 'id', rule: 'backlog.duplicate-id', message: `duplicate id ${card.id} (first on line ${cards[first]!.line})`, hint: 'card ids must be unique in a backlog' });
      else index.set(card.id, cards.length);
      if (card.pack && !packs.has(card.pack)) packs.set(card.pack, line);
      cards.push({ id: card.id, prio: card.prio, lane: card.lane, deps: card.deps.length ? card.deps : NO_DEPS, line });
      return found;
    },
    { display, onChunk: (raw) => hash.update(raw), ...(opts.maxProblems === undefined ? {} : { maxProblems: opts.maxProblems }) },
  );
  const problems = read.problems;
  if (read.records === 0 && problems.size === 0) problems.add({ file: display, line: 1, rule: 'backlog.empty', message: 'the backlog has no cards', hint: 'compile a day plan with `g7 plan compile`' });

  const known = opts.known ?? new Set<string>();
  for (const c of cards) {
    for (const d of c.deps) {
      if (!index.has(d) && !known.has(d))
        problems.add({ file: display, line: c.line, field: 'deps', rule: 'backlog.unknown-dep', message: `card ${c.id} depends on ${d}, which is neither in this backlog nor done`, hint: 'fix the id or add the card' });
    }
  }
  for (const cycle of findCycles(cards, index, 5)) {
    problems.add({ file: display, line: cards[index.get(cycle[0]!)!]!.line, field: 'deps', rule: 'backlog.cycle', message: `dependency cycle: ${cycle.join(' → ')}`, hint: 'cards in a cycle can never run; remove one of the deps' });
  }
  if (opts.packExists) {
    for (const [id, line] of packs) {
      if (!(await opts.packExists(id))) problems.add({ file: display, line, field: 'pack', rule: 'backlog.pack-missing', message: `work pack "${id}" not found`, hint: 'add backlog/packs/<id>.json or fix the card' });
    }
  }
  return { cards, index, problems, sha256: hash.digest('hex') };
}

/** Up to `max` dependency cycles, each as a closed path of ids. Iterative, so deep chains cannot overflow the stack. */
export function findCycles(cards: CardRef[], idx: Map<string, number>, max: number): string[][] {
  const color = new Uint8Array(cards.length); // 0 new, 1 on stack, 2 done
  const cycles: string[][] = [];
  for (let root = 0; root < cards.length && cycles.length < max; root++) {
    if (color[root]) continue;
    const stack: [number, number][] = [[root, 0]];
    const path: number[] = [root];
    color[root] = 1;
    while (stack.length && cycles.length < max) {
      const top = stack[stack.length - 1]!;
      const [node, k] = top;
      const deps = cards[node]!.deps;
      if (k >= deps.length) {
        color[node] = 2;
        stack.pop();
        path.pop();
        continue;
      }
      top[1] = k + 1;
      const next = idx.get(deps[k]!);
      if (next === undefined) continue;
      if (color[next] === 1) {
        const from = path.indexOf(next);
        cycles.push([...path.slice(from), next].map((i) => cards[i]!.id));
      } else if (color[next] === 0) {
        color[next] = 1;
        stack.push([next, 0]);
        path.push(next);
      }
    }
    // Nodes left on the stack when we stop early stay gray; no more cycles are collected anyway.
  }
  return cycles;
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
