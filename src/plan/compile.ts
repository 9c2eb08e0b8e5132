// The plan compiler: a person's day plan (≤ 30 lines of YAML) → machine work cards, deterministically.
// Same plan + same state → byte-identical backlog. Card ids are stable: L{lane}_{TYPE}_{NNNNNN}, where the
// number is the position of the entry among entries of the same lane and type (one digit), then the unit
// number: five digits, seven past 99,999 (card-graph.ts).
import path from 'node:path';
import { access } from 'node:fs/promises';
import { cardSha256 } from './serialize.js';
import { glob } from 'tinyglobby';
import type { DayPlan, PlanAfter, PlanEntry, WorkCard } from '../contracts/types.gen.js';
import { SchemaError, type Problem } from '../contracts/errors.js';
import { explain } from '../contracts/validate.js';
import { readText } from '../ssot/text.js';
import type { LocatedDoc } from '../ssot/doc.js';
import { parseYaml } from '../ssot/yaml.js';
import { sourceLines, strikeRange } from '../ssot/strike-list.js';
import { rollingParts } from '../ssot/rolling.js';
import { repoPathProblem, normalizeRepoPath, resolveInRepo } from '../ssot/paths.js';
import { dayOf, workPackFile, type Layout } from '../ssot/layout.js';
import { parseRule } from '../rules/parse.js';
import type { Config } from '../ssot/config.js';
import { workPackProblems } from '../ssot/workpack.js';
import { CARDS_PER_ENTRY, idNumber } from './card-graph.js';

export const MAX_PLAN_LINES = 30;
const ENTRIES_PER_LANE_TYPE = 9;

export interface CompileContext {
  layout: Layout;
  config: Config;
  /**
   * Cards already done on `day`, with the sha256 of the card as it passed (undefined when not recorded):
   * they are not issued again, unless the card compiles differently now (its input grew).
   */
  doneOn: (day: string) => Promise<Map<string, string | undefined>>;
  /** How to show file names in messages (relative to the current folder). */
  display: (abs: string) => string;
}

export interface CompiledPlan {
  day: string;
  goal: string;
  cards: WorkCard[];
  /** Cards generated but left out because they are already done. */
  omittedDone: number;
  /** Done cards issued again because they compile differently now (e.g. the last card of a grown strike list). */
  reissued: string[];
  /** Lines of each `lines:` source as compiled (0 when it does not exist yet), to tell when one has grown. */
  sources: Record<string, number>;
  notes: string[];
  perEntry: { name: string; cards: number }[];
}

interface EntryUnits {
  count: number;
  /** Per unit, the generated input (glob/lines entries), else undefined. */
  inputs?: (string | string[])[];
}

/**
 * What an entry without `accept:` must show. TEST's stdout always lands in its output, so `exists:` alone
 * would pass a command that failed: its exit status is the result.
 */
export const DEFAULT_ACCEPT: Record<WorkCard['type'], string> = {
  SCAN: 'exists:{output}',
  TAG: 'exists:{output}',
  STRIKE: 'exists:{output}',
  TEST: 'exit==0 && exists:{output}',
  PATCH: 'exists:{output}',
  VERIFY: 'exists:{output}',
  TRIAGE: 'exists:{output}',
};

const TEMPLATE_VARS = ['n', 'date', 'entry', 'lane', 'id', 'input', 'output'] as const;

function normAfter(a: PlanEntry['after']): { entry: string; mode: 'each' | 'all' }[] {
  if (a === undefined) return [];
  const list: PlanAfter[] = Array.isArray(a) ? a : [a];
  return list.map((x) => (typeof x === 'string' ? { entry: x, mode: 'all' } : { entry: x.entry, mode: x.mode ?? 'all' }));
}

function lineCount(text: string): number {
  if (text === '') return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

/** Parses and schema-checks a day plan file, with the 30-line rule. Throws SchemaError with every problem. */
export async function readDayPlan(file: string, display: string): Promise<{ plan: DayPlan; doc: LocatedDoc }> {
  const text = await readText(file, display);
  const problems: Problem[] = [];
  if (text.trim() === '') throw new SchemaError([{ file: display, line: 1, rule: 'plan.empty', message: 'the day plan is empty', hint: 'write date, goal and entries (see ssot/plans/ for an example)' }]);
  const lines = lineCount(text);
  if (lines > MAX_PLAN_LINES)
    problems.push({
      file: display,
      line: MAX_PLAN_LINES + 1,
      rule: 'plan.max-lines',
      message: `a day plan is at most ${MAX_PLAN_LINES} lines; this one has ${lines}`,
      hint: 'move detail into work packs (backlog/packs/) and keep the plan to what the day is for',
    });
  const doc = parseYaml(text, display);
  problems.push(...explain('dayplan', doc.value, { file: display, doc }));
  if (problems.length === 0) problems.push(...dateProblems((doc.value as DayPlan).date, file, display, doc));
  if (problems.length > 0) throw new SchemaError(problems);
  return { plan: doc.value as DayPlan, doc };
}

/** What the schema's pattern cannot say: a day the calendar has, and the day the file is named for. */
function dateProblems(date: string, file: string, display: string, doc: LocatedDoc): Problem[] {
  const at = { file: display, line: doc.locate('/date')?.line ?? 1, field: 'date' };
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== date) {
    return [{ ...at, rule: 'plan.date', message: `"${date}" is not a real date: that month has no such day`, hint: 'write the date as YYYY-MM-DD of a day that exists' }];
  }
  const named = /dayplan_(\d{8})\.ya?ml$/.exec(path.basename(file))?.[1];
  if (named && named !== date.replace(/-/g, '')) {
    return [{ ...at, rule: 'plan.date-file', message: `the plan is dated ${date} but its file is named for ${named.slice(0, 4)}-${named.slice(4, 6)}-${named.slice(6)}`, hint: `the backlog goes by the date: rename the file to dayplan_${date.replace(/-/g, '')}.yaml, or fix the date` }];
  }
  return [];
}

function findCycle(names: string[], edges: Map<string, string[]>): string[] | undefined {
  const color = new Map<string, 0 | 1 | 2>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    color.set(n, 1);
    stack.push(n);
    for (const m of edges.get(n) ?? []) {
      if (color.get(m) === 1) return [...stack.slice(stack.indexOf(m)), m];
      if (!color.get(m)) {
        const c = visit(m);
        if (c) return c;
      }
    }
    stack.pop();
    color.set(n, 2);
    return undefined;
  };
  for (const n of names) if (!color.get(n)) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

function expand(template: string, vars: Partial<Record<(typeof TEMPLATE_VARS)[number], string>>, onUnknown: (name: string) => void): string {
  return template.replace(/\{([a-z_]+)\}/g, (whole, name: string) => {
    const v = (vars as Record<string, string | undefined>)[name];
    if (v === undefined) {
      onUnknown(name);
      return whole;
    }
    return v;
  });
}

export async function compileDayPlan(planFile: string, ctx: CompileContext): Promise<CompiledPlan> {
  const display = ctx.display(planFile);
  const { plan, doc } = await readDayPlan(planFile, display);
  const problems: Problem[] = [];
  const notes: string[] = [];
  const lineSources: Record<string, number> = {};
  const at = (i: number, field: string, rule: string, message: string, hint?: string) => {
    const pos = doc.locate(`/entries/${i}${field ? '/' + field : ''}`);
    problems.push({ file: display, line: pos?.line, col: pos?.col, field: `entries[${i}]${field ? '.' + field.replace(/\//g, '.') : ''}`, rule, message, hint });
  };
  const day = dayOf(plan.date);
  const done = await ctx.doneOn(day);
  const entries = plan.entries;

  // Names, references, cycles.
  const index = new Map<string, number>();
  entries.forEach((e, i) => {
    if (index.has(e.name)) at(i, 'name', 'plan.duplicate-entry', `entry name "${e.name}" is used twice (first at entries[${index.get(e.name)}])`, 'give each entry its own name');
    else index.set(e.name, i);
  });
  const edges = new Map<string, string[]>();
  entries.forEach((e, i) => {
    const refs = normAfter(e.after);
    refs.forEach((r) => {
      if (!index.has(r.entry)) at(i, 'after', 'plan.unknown-entry', `"after" names entry "${r.entry}", which this plan does not have`, `known entries: ${[...index.keys()].join(', ')}`);
      if (r.entry === e.name) at(i, 'after', 'plan.self-dependency', `entry "${e.name}" depends on itself`, 'remove its own name from "after"');
    });
    edges.set(e.name, refs.map((r) => r.entry).filter((n) => index.has(n) && n !== e.name));
  });
  const cycle = findCycle(entries.map((e) => e.name), edges);
  if (cycle) at(index.get(cycle[0]!)!, 'after', 'plan.cycle', `entries depend on each other in a cycle: ${cycle.join(' → ')}`, 'remove one of the "after" links');
  if (problems.length > 0) throw new SchemaError(problems);

  // Stable topological order: plan order, except that an entry comes after what it waits for.
  const order: number[] = [];
  const placed = new Set<string>();
  while (order.length < entries.length) {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (placed.has(e.name) || !(edges.get(e.name) ?? []).every((d) => placed.has(d))) continue;
      order.push(i);
      placed.add(e.name);
      break;
    }
  }

  // Units per entry.
  const units = new Map<string, EntryUnits>();
  const libraryAbs = path.resolve(ctx.layout.repoRoot, ctx.config.libraryRoot);
  for (const i of order) {
    const e = entries[i]!;
    const refs = normAfter(e.after);
    const eachRefs = refs.filter((r) => r.mode === 'each');
    let u: EntryUnits = { count: 1 };
    const each = e.each;
    if (each) {
      const sources = (['count', 'glob', 'lines'] as const).filter((k) => each[k] !== undefined);
      if (sources.length !== 1) {
        at(i, 'each', 'plan.each-source', `"each" needs exactly one of count, glob or lines; found ${sources.length ? sources.join(' and ') : 'none'}`, 'keep one of count, glob or lines under "each"');
        continue;
      }
      if (each.per_card !== undefined && each.count !== undefined) at(i, 'each/per_card', 'plan.per-card', '"per_card" goes with glob or lines, not with count', 'remove per_card, or use glob or lines');
      const per = each.per_card ?? 1;
      if (each.count !== undefined) u = { count: each.count };
      else if (each.glob !== undefined) {
        if (e.input !== undefined) at(i, 'input', 'plan.input-with-glob', 'a glob entry takes its input from the files it matches', 'remove "input"');
        try {
          await access(libraryAbs);
        } catch {
          at(i, 'each/glob', 'plan.library-missing', `the library root "${ctx.config.libraryRoot}" does not exist`, 'set library.root in factory.yaml (relative to the repository root)');
          continue;
        }
        const files = (await glob(each.glob, { cwd: libraryAbs, onlyFiles: true, dot: false, followSymbolicLinks: false, expandDirectories: false })).sort();
        if (files.length === 0) notes.push(`entry "${e.name}": glob "${each.glob}" matched no files under ${ctx.config.libraryRoot}`);
        const inputs: string[][] = [];
        for (let k = 0; k < files.length; k += per) inputs.push(files.slice(k, k + per));
        u = { count: inputs.length, inputs };
      } else {
        const src = each.lines!;
        const why = repoPathProblem(src);
        if (why) {
          at(i, 'each/lines', 'plan.path-escape', `path "${src}" ${why}`, 'use a path inside the repository');
          continue;
        }
        // A list that rolled over is read with its continuations (strike_list.2.jsonl …), counted, not parsed.
        const abs = resolveInRepo(ctx.layout.repoRoot, src);
        const n = await sourceLines(abs);
        if ((await rollingParts(abs)).length === 0) {
          notes.push(`entry "${e.name}": ${src} does not exist yet, so it generates no cards yet; once it has lines, g7 run compiles the plan again before its next round`);
        }
        const inputs: string[] = [];
        const rel = normalizeRepoPath(src);
        lineSources[rel] = n;
        for (let a = 1; a <= n; a += per) inputs.push(`${rel}#L${a}-L${Math.min(n, a + per - 1)}`);
        u = { count: inputs.length, inputs };
      }
    } else if (eachRefs.length > 0) {
      u = { count: units.get(eachRefs[0]!.entry)?.count ?? 0 };
    }
    for (const r of eachRefs) {
      const rc = units.get(r.entry)?.count ?? 0;
      if (rc !== u.count) at(i, 'after', 'plan.each-count', `"each" pairs card n with card n of "${r.entry}", but "${e.name}" has ${u.count} cards and "${r.entry}" has ${rc}`, 'use mode: all, or make the counts match');
    }
    if (u.count > CARDS_PER_ENTRY) at(i, 'each', 'plan.too-many-cards', `entry generates ${u.count} cards; at most ${CARDS_PER_ENTRY}`, 'raise per_card');
    if (!u.inputs && e.input === undefined) at(i, 'input', 'plan.input-required', 'missing "input": what the card works on (a path or, for TEST, a command)', 'add input: PATH (or, for TEST, the command)');
    if (e.type === 'PATCH' && !e.pack) at(i, 'pack', 'plan.patch-needs-pack', 'a PATCH entry needs a work pack: it lists the only files the worker may write', 'add pack: ID and the file backlog/packs/ID.json');
    if (e.pack) {
      const packProblems = await workPackProblems(ctx.layout, e.pack, ctx.display);
      if (packProblems.some((p) => p.rule === 'pack.missing')) at(i, 'pack', 'plan.pack-missing', `work pack "${e.pack}" not found at ${ctx.display(workPackFile(ctx.layout, e.pack))}`, 'create that file, or fix "pack"');
      else if (packProblems.length > 0) {
        at(i, 'pack', 'plan.pack-invalid', `work pack "${e.pack}" is invalid: ${packProblems.length} problem(s), listed below`, 'fix the work pack');
        problems.push(...packProblems);
      }
    }
    units.set(e.name, u);
  }
  if (problems.length > 0) throw new SchemaError(problems);

  // Card ids.
  const slotOf = new Map<string, number>();
  const seenLaneType = new Map<string, number>();
  for (const [i, e] of entries.entries()) {
    const key = `${e.lane}_${e.type}`;
    const k = seenLaneType.get(key) ?? 0;
    if (k >= ENTRIES_PER_LANE_TYPE) at(i, 'type', 'plan.too-many-entries', `more than ${ENTRIES_PER_LANE_TYPE} entries share lane ${e.lane} and type ${e.type}`, 'merge entries, or move some to another lane');
    seenLaneType.set(key, k + 1);
    slotOf.set(e.name, k);
  }
  const idOf = (name: string, n: number) => {
    const e = entries[index.get(name)!]!;
    return `L${e.lane}_${e.type}_${idNumber(slotOf.get(name)!, n)}`;
  };

  // Cards.
  const cards: WorkCard[] = [];
  const perEntry: CompiledPlan['perEntry'] = [];
  let omittedDone = 0;
  const reissued: string[] = [];
  const writers = new Map<string, { i: number; id: string }>();
  const collided = new Set<string>();
  const strikeInputs = new Set<number>();
  for (const i of order) {
    const e = entries[i]!;
    const u = units.get(e.name)!;
    const refs = normAfter(e.after);
    let issued = 0;
    const unknownVars = new Set<string>();
    for (let n = 1; n <= u.count; n++) {
      const id = idOf(e.name, n);
      const vars: Record<string, string> = { n: String(n), date: day, entry: e.name, lane: String(e.lane), id };
      const noteUnknown = (v: string) => unknownVars.add(v);
      const input: string | string[] = u.inputs ? u.inputs[n - 1]! : expand(e.input!, vars, noteUnknown);
      if (typeof input === 'string') vars.input = input;
      const output = expand(e.output, vars, noteUnknown);
      vars.output = output;
      const acceptTemplate = e.accept ?? DEFAULT_ACCEPT[e.type];
      const accept = expand(acceptTemplate, vars, noteUnknown);
      const failfast = expand(e.failfast ?? 'never', vars, noteUnknown);
      const deps = [...new Set(refs.flatMap((r) => (r.mode === 'each' ? [idOf(r.entry, n)] : Array.from({ length: units.get(r.entry)!.count }, (_, k) => idOf(r.entry, k + 1)))))];
      // A STRIKE card takes one strike-list item: the executor reads nothing else, so say it now, not at 3 a.m.
      if (e.type === 'STRIKE' && !strikeInputs.has(i) && !(typeof input === 'string' && strikeRange(input))) {
        strikeInputs.add(i);
        at(i, 'input', 'plan.strike-input', `STRIKE input must be PATH#La-Lb (lines a to b of a strike list), got ${JSON.stringify(input)} for card ${id}`, 'take the items from the strike list: each: { lines: ssot/library_index/strike_list.jsonl, per_card: 10 } (drop input), or name the lines yourself: input: ssot/library_index/strike_list.jsonl#L1-L10');
      }
      if (n === 1) {
        const why = repoPathProblem(output);
        if (why) at(i, 'output', 'plan.path-escape', `output "${output}" ${why}`, 'outputs are written inside the repository');
        // Columns are reported against the plan's own text; paths are checked once templates are filled in.
        for (const [field, tpl, src, kind] of [['accept', acceptTemplate, accept, 'accept'], ['failfast', e.failfast ?? 'never', failfast, 'failfast']] as const) {
          const raw = parseRule(tpl, kind).problems;
          const shown = raw.length ? tpl : src;
          for (const p of raw.length ? raw : parseRule(src, kind).problems) at(i, field, p.rule, `${p.message} (column ${p.col} of "${shown}")`, p.hint);
        }
      }
      const card: WorkCard = { id, lane: e.lane, prio: e.prio, type: e.type, input: input as WorkCard['input'], output: normalizeRepoPath(output), accept, failfast, cost_hint: e.cost_hint ?? 'LOW', deps };
      if (e.pack) card.pack = e.pack;
      card.entry = e.name;
      // Two cards writing one file: the second would overwrite the first's recorded result.
      const first = writers.get(card.output);
      if (first === undefined) writers.set(card.output, { i, id });
      else if (!collided.has(card.output)) {
        collided.add(card.output);
        const where = doc.locate(`/entries/${first.i}/output`)?.line;
        const them = first.i === i ? `cards ${first.id} and ${id} of entry "${e.name}"` : `entry "${entries[first.i]!.name}" (card ${first.id}${where ? `, line ${where}` : ''}) and entry "${e.name}" (card ${id})`;
        at(i, 'output', 'plan.output-collision', `${them} both write "${card.output}"`, 'give every card its own output path, e.g. with {n} or {id} in it');
      }
      if (done.has(id)) {
        const sha = done.get(id);
        if (sha === undefined || sha === cardSha256(card)) {
          omittedDone++;
          continue;
        }
        reissued.push(id);
      }
      cards.push(card);
      issued++;
    }
    for (const v of unknownVars) {
      const field = ['input', 'output', 'accept', 'failfast'].find((f) => String((e as unknown as Record<string, unknown>)[f] ?? '').includes(`{${v}}`)) ?? 'output';
      at(i, field, 'plan.unknown-template-var', `unknown template variable {${v}}`, `known: ${TEMPLATE_VARS.map((t) => `{${t}}`).join(' ')}`);
    }
    perEntry.push({ name: e.name, cards: issued });
  }
  if (problems.length > 0) throw new SchemaError(problems);
  if (omittedDone > 0) notes.push(`${omittedDone} card(s) already done today were not issued again`);
  if (reissued.length > 0) notes.push(`${reissued.length} done card(s) issued again because their input changed since they passed: ${reissued.slice(0, 5).join(', ')}${reissued.length > 5 ? ', …' : ''}`);
  return { day, goal: plan.goal, cards, omittedDone, reissued, sources: lineSources, notes, perEntry };
}
