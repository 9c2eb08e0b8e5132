// One part of a backlog file (a byte range that starts a line), read once: every line parsed, each card
// checked (contract, rule language, paths), and what packing and the graph checks need kept in typed arrays
// (the id as an integer key, class, lane, line, deps as keys). A large backlog is read in two parts by two
// worker threads at once (see loadBacklog); the arrays cross back to the main thread without a copy.
import type { WorkCard } from '../contracts/types.gen.js';
import type { Problem } from '../contracts/errors.js';
import { isValid, explain } from '../contracts/validate.js';
import { readJsonl, type ByteRange } from '../ssot/jsonl.js';
import { repoPathProblem } from '../ssot/paths.js';
import { ruleProblems } from '../rules/parse.js';
import { idKey, PRIOS, type CardTable } from './card-graph.js';

/** What one reading of a part asks for. `check` false: the bytes were checked before (a stamp vouches for
 * them), so only the compact view is made, and the first line that is not a well-formed card stops it. */
export interface PartJob {
  file: string;
  display: string;
  max: number;
  range: ByteRange | undefined;
  check: boolean;
}

/** A part's cards and problems; lines are numbered from the part's first line. */
export interface BacklogPart extends CardTable {
  /** Lines in the part. */
  lines: number;
  /** Lines that parsed as JSON. */
  records: number;
  /** Cards: lines the contract accepts (all parsed lines when not checking). */
  count: number;
  /** Each work pack named, with the first line naming it. */
  packs: { pack: string; line: number }[];
  /** Problems of reading (bad JSON, a torn last line) and of the per-card checks: the first `max` of each, by
   * line, and how many each left out. */
  readProblems: Problem[];
  readDropped: number;
  checkProblems: Problem[];
  checkDropped: number;
  /** Not checking: a line that is not a well-formed card was met (the caller runs the full check). */
  bad: boolean;
}

const NO_PROBLEMS: Problem[] = [];

// Most cards of a backlog share their failfast rule: the verdict on the last one is kept.
let lastFailfast: { source: string; problems: ReturnType<typeof ruleProblems> } | undefined;
function failfastRuleProblems(source: string): ReturnType<typeof ruleProblems> {
  if (lastFailfast?.source !== source) lastFailfast = { source, problems: ruleProblems(source, 'failfast') };
  return lastFailfast.problems;
}

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
  if (!card.id.startsWith(card.type, 3) || card.id.lastIndexOf('_') !== card.type.length + 3) p('id', 'card.id-type', `id ${card.id} says type ${card.id.slice(3, card.id.lastIndexOf('_'))} but "type" is ${card.type}`, 'make the id\'s type and "type" agree');
  const why = repoPathProblem(card.output);
  if (why) p('output', 'card.path-escape', `output "${card.output}" ${why}`, 'outputs are written inside the repository');
  const acceptProblems = ruleProblems(card.accept, 'accept');
  for (const rp of acceptProblems) p('accept', rp.rule, `${rp.message} (column ${rp.col} of "${card.accept}")`, rp.hint);
  const failfastProblems = failfastRuleProblems(card.failfast);
  for (const rp of failfastProblems) p('failfast', rp.rule, `${rp.message} (column ${rp.col} of "${card.failfast}")`, rp.hint);
  if (card.deps.length > 0 && card.deps.includes(card.id)) p('deps', 'card.self-dependency', `card ${card.id} depends on itself`);
  if (card.type === 'PATCH' && !card.pack) p('pack', 'card.patch-needs-pack', 'a PATCH card needs a work pack listing the files it may write');
  return out;
}

/** A list of int32 that grows by doubling; `done()` gives the filled part. */
class IntList {
  private data: Int32Array;
  length = 0;
  constructor(capacity: number) {
    this.data = new Int32Array(Math.max(16, capacity));
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = v;
  }
  done(): Int32Array {
    return this.data.slice(0, this.length);
  }
}

export async function readBacklogPart(job: PartJob, onChunk?: (raw: Buffer) => void): Promise<BacklogPart> {
  const { display, max, check } = job;
  // About 260 bytes a card: start there and grow.
  const guess = Math.ceil(((job.range?.end ?? 0) - (job.range?.start ?? 0)) / 256);
  const keys = new IntList(guess);
  const lines = new IntList(guess);
  const depStart = new IntList(guess + 1);
  const depKeys = new IntList(guess >> 2);
  let meta = new Uint8Array(Math.max(16, guess));
  const packs = new Map<string, number>();
  const checkProblems: Problem[] = [];
  let checkTotal = 0;
  let bad = false;
  const addChecks = (found: Problem[]) => {
    for (const p of found) if (checkTotal++ < max) checkProblems.push(p);
  };
  const keep = (card: WorkCard, line: number) => {
    const i = keys.length;
    keys.push(idKey(card.id));
    if (i === meta.length) {
      const grown = new Uint8Array(meta.length * 2);
      grown.set(meta);
      meta = grown;
    }
    meta[i] = PRIOS.indexOf(card.prio) | (card.lane << 2);
    lines.push(line);
    depStart.push(depKeys.length);
    const deps = card.deps;
    for (let k = 0; k < deps.length; k++) depKeys.push(idKey(deps[k]!));
    if (card.pack && !packs.has(card.pack)) packs.set(card.pack, line);
  };
  const read = await readJsonl(
    job.file,
    (value, line) => {
      if (bad) return;
      if (check) {
        if (!isValid('card', value)) {
          addChecks(explain('card', value, { file: display, line }));
          return;
        }
        addChecks(checkCard(value as WorkCard, display, line));
        keep(value as WorkCard, line);
        return;
      }
      // Checked before: a line that is not a well-formed card means the bytes are not the ones checked.
      const c = value as WorkCard;
      if (c === null || typeof c !== 'object' || typeof c.id !== 'string' || !/^L[1-8]_/.test(c.id) || !Array.isArray(c.deps) || !c.deps.every((d) => typeof d === 'string' && /^L[1-8]_/.test(d))) bad = true;
      else keep(c, line);
    },
    { display, maxProblems: max, ...(onChunk ? { onChunk } : {}), ...(job.range ? { range: job.range } : {}) },
  );
  if (!check && read.problems.size > 0) bad = true;
  depStart.push(depKeys.length);
  return {
    lines: read.scan.lines,
    records: read.records,
    count: keys.length,
    keys: keys.done(),
    meta: meta.slice(0, keys.length),
    cardLines: lines.done(),
    depStart: depStart.done(),
    depKeys: depKeys.done(),
    packs: [...packs].map(([pack, line]) => ({ pack, line })),
    readProblems: read.problems.items,
    readDropped: read.problems.dropped,
    checkProblems,
    checkDropped: checkTotal - checkProblems.length,
    bad,
  };
}
