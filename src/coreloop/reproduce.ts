// The reproduction check: recorded cases asked again, live, with the current docstring (arm A) and with the
// change (arm B), k times each when the model is not deterministic. Three sets of cases: the candidate's own,
// held-out cases of the same kind of work that did not inspire it (noise left out), and a pinned set of other
// kinds of work that read the same skill. Every answer is judged by the same check. A Guide passes when its
// own cases passed on record, B is no worse than A on held-out cases, keeps A's answers where A passed, and
// breaks nothing pinned; a Caveat only when most of its failing cases flip and nothing pinned breaks. A worker
// that does not read the skill (the offline rules) cannot show what a bullet changes: not checkable, never
// "passed". Every case goes into a table for the pull request: input excerpt (masked), both answers, both
// arms' worker and model, the recorded accept outcome.
import type { AuditRecord } from '../contracts/types.gen.js';
import { G7Error } from '../contracts/errors.js';
import { cacheEntryById, type CacheEntry } from '../worker/cached.js';
import type { Worker, WorkerRequest, WorkerResponse } from '../worker/worker.js';
import type { Candidate } from './candidates.js';
import { auditFiles, type AuditPlace } from '../ssot/audit-store.js';
import { forEachRecord, noiseOf, requestHashOf, type Window } from './records.js';
import type { ReproductionCheck, ReproductionResult } from './promote.js';
import { maskSensitive } from './sanitize/detect.js';
import { skillPromptText, type SkillDoc } from './skill/doc.js';
import { judgeAnswer } from './scratch.js';
import type { WorkCard } from '../contracts/types.gen.js';

export interface ReplayDeps {
  /** Where the audit log is (ssot/audit-store.ts auditPlace). */
  audit: AuditPlace;
  /** The response cache (store/cache): the recorded answers, and what was asked as digests. */
  cacheDir: string;
  /** The request an entry answered, read again from the files it names (executors/rebuild.ts). */
  rebuild: (entry: CacheEntry) => Promise<WorkerRequest | { why: string }>;
  /** The worker arm B asks: the offline rules, or Gemini with a key. Never the cache. */
  worker: Worker;
  /** Repeats of each arm-B case when the worker is not deterministic (k ≥ 3). */
  repeats: number;
  /** Where held-out and pinned cases are looked for. */
  window: Window;
  display: (p: string) => string;
  /** Where the cards' outputs are: each answer's accept predicates run on a scratch copy of them. */
  repoRoot: string;
  /** The card a recorded call belongs to, with its accept rule (scratch.ts cardsFromRuns). */
  cardOf: (id: string) => Promise<WorkCard | undefined>;
}

const SHORT_CHUNK = 200;

/** How many cases of each set are replayed at most: both arms are paid for. */
export const CASES = { own: 5, heldOut: 5, pinned: 5 } as const;

type CaseSet = 'own' | 'held-out' | 'pinned';

interface Case {
  set: CaseSet;
  id: string;
  /** The request's digest: the response cache's key, from which the request is rebuilt. */
  hash: string;
  category: string;
  /** The card went every step of its way in the recording (its accept outcome). */
  recordedPass: boolean;
  /** What was asked, as the record summarised it (masked before it is shown). */
  question: string;
}

export interface Arm {
  passes: number;
  runs: number;
  tokens: number;
  /** The first answer, as JSON. */
  answer: string;
  worker: string;
  /** Why the first failing run failed (the answer check, or the accept predicates on the scratch copy). */
  failed?: string;
  /** Accept predicates that one answer cannot be judged by. */
  unjudged?: string[];
}

export interface CaseResult extends Case {
  /** Arm A (current docstring) and arm B (with the change); undefined when the case could not be asked (why in `note`). */
  a?: Arm;
  b?: Arm;
  /** Runs in which B gave A's first answer. */
  same?: number;
  note?: string;
}

const okRecord = (r: AuditRecord) => !r.error && !r.violation && r.tool_calls.every((t) => t.ok);

/** A recorded case's request, rebuilt from the files its cache entry names. */
async function recorded(deps: ReplayDeps, requestHash: string): Promise<{ request: WorkerRequest } | { why: string }> {
  const entry = await cacheEntryById(deps.cacheDir, requestHash);
  if (!entry) return { why: 'the answer is not in the response cache' };
  const request = await deps.rebuild(entry);
  return 'why' in request ? request : { request };
}

/** The cases: the candidate's records, then held-out ones of its kind and pinned ones of other kinds that read the same skill. */
async function pickCases(deps: ReplayDeps, c: Candidate): Promise<Case[]> {
  const own = new Set(c.record_ids);
  // A Guide's records are split: at most half are asked as its own cases, the rest held out with the kind of
  // work's other records, so the check always sees cases the bullet was not shown.
  const ownCap = c.section === 'Guide' && c.action === 'append' ? Math.min(CASES.own, Math.max(1, Math.floor(c.record_ids.length / 2))) : CASES.own;
  const ownCases = new Map<string, Case>();
  const held = new Map<string, Case>();
  const pinned = new Map<string, Case>();
  const perCategory = new Map<string, number>();
  const files = await auditFiles(deps.audit, deps.window);
  await forEachRecord(files, deps.window, (r) => {
    const id = r.request_id;
    const k: Case = { set: 'own', id, hash: requestHashOf(r), category: r.category_hash, recordedPass: okRecord(r), question: r.question ?? '' };
    // Its own cases are its records of its kind of work: an id another kind of work happens to share is not one.
    if (own.has(id) && (c.action === 'retire' || r.category_hash === c.category_hash) && (ownCases.size < ownCap || ownCases.has(id))) {
      if (!ownCases.has(id)) ownCases.set(id, k);
      return;
    }
    if (r.category_hash === c.category_hash) {
      // Held out: real cases of the same kind of work, never noise (a chunk too short to judge, a transient error).
      if (held.size < CASES.heldOut && !held.has(id) && !noiseOf(r, SHORT_CHUNK)) held.set(id, { ...k, set: 'held-out' });
      return;
    }
    // Pinned: other kinds of work reading the same skill, that went well; at most two per kind, oldest first.
    if (r.skill_used !== c.target || !k.recordedPass || pinned.has(id) || pinned.size >= CASES.pinned) return;
    const n = perCategory.get(r.category_hash) ?? 0;
    if (n >= 2) return;
    perCategory.set(r.category_hash, n + 1);
    pinned.set(id, { ...k, set: 'pinned' });
  }, deps.display);
  return [...ownCases.values(), ...held.values(), ...pinned.values()];
}

/** Asks one arm k times, each answer judged by the answer check and the card's accept predicates on a scratch copy. */
async function ask(worker: Worker, req: WorkerRequest, k: number, judge: (r: WorkerResponse) => ReturnType<typeof judgeAnswer>): Promise<Arm | { cannot: string }> {
  const arm: Arm = { passes: 0, runs: k, tokens: 0, answer: '', worker: worker.provider };
  for (let i = 0; i < k; i++) {
    let r: WorkerResponse | undefined;
    try {
      r = await worker.call(req);
    } catch (err) {
      // An answer the worker itself refused (wrong shape, cut off, blocked) is this arm failing the case;
      // anything else (no key, quota, the network) means the check cannot be made now.
      if (!(err instanceof G7Error)) throw err;
      if (err.triage !== 'SCHEMA') return { cannot: err.summary ?? err.message };
    }
    if (r) {
      const j = await judge(r);
      if (j.ok) arm.passes++;
      else arm.failed ??= j.why;
      if (j.unjudged.length) arm.unjudged = j.unjudged;
    } else arm.failed ??= 'the worker refused the answer';
    if (r) {
      arm.tokens += r.tokens.in + r.tokens.out;
      arm.worker = `${r.provider}/${r.model}`;
      if (i === 0) arm.answer = JSON.stringify(r.json);
    } else if (i === 0) arm.answer = '(refused)';
  }
  return arm;
}

export const NOT_CHECKABLE_OFFLINE = 'not checkable: the offline worker answers from its rules and never reads the skill, so neither arm can show what the bullet changes (set GEMINI_API_KEY to check it against the model)';

export function replayCheck(deps: ReplayDeps): ReproductionCheck {
  const k = Math.max(3, deps.repeats);
  return {
    async run(c: Candidate, before: SkillDoc, after: SkillDoc): Promise<ReproductionResult> {
      if (deps.worker.provider === 'offline') return { ran: false, passed: false, table: '', note: NOT_CHECKABLE_OFFLINE };
      const cases = await pickCases(deps, c);
      const skillB = skillPromptText(after);
      const skillA = skillPromptText(before);
      const results: CaseResult[] = [];
      for (const cs of cases) {
        const entry = await recorded(deps, cs.hash);
        if ('why' in entry) {
          results.push({ ...cs, note: `not replayable: ${entry.why}` });
          continue;
        }
        const card = await deps.cardOf(entry.request.card);
        const judge = (r: WorkerResponse) => judgeAnswer(deps.repoRoot, card, entry.request!.task, r.json);
        const a = await ask(deps.worker, { ...entry.request, skill: skillA }, k, judge);
        if ('cannot' in a) return { ran: false, passed: false, table: '', note: `not run: arm A cannot be asked (${a.cannot})` };
        const b = await ask(deps.worker, { ...entry.request, skill: skillB }, k, judge);
        if ('cannot' in b) return { ran: false, passed: false, table: '', note: `not run: arm B cannot be asked (${b.cannot})` };
        results.push({ ...cs, a, b, same: b.answer === a.answer ? b.runs : 0 });
      }
      return verdict(c, await Promise.all(results.map(async (r) => ({ ...r, question: await maskSensitive(r.question) }))), k);
    },
  };
}

const passes = (x: Arm | undefined) => !!x && x.passes * 2 > x.runs;
const cell = (s: string, n = 60) => {
  const t = s.replace(/\s+/g, ' ').replace(/\|/g, '\\|');
  return t.length > n ? `${t.slice(0, n - 1)}…` : t;
};

export function verdict(c: Candidate, results: CaseResult[], k: number): ReproductionResult {
  const replayed = results.filter((r) => r.a && r.b);
  const failures: string[] = [];
  const of = (set: CaseSet) => replayed.filter((r) => r.set === set);
  const broken = of('pinned').filter((r) => passes(r.a) && !passes(r.b));
  if (broken.length) failures.push(`arm B breaks ${broken.length} pinned case(s) that arm A passed`);
  const isGuide = c.section === 'Guide' && c.action === 'append';
  const isCaveat = c.section === 'Caveats' && c.action === 'append';
  const failing = of('own').filter((r) => !passes(r.a));
  const flipped = failing.filter((r) => passes(r.b));
  if (isGuide) {
    const failedOnRecord = results.filter((r) => r.set === 'own' && !r.recordedPass);
    if (failedOnRecord.length) failures.push(`${failedOnRecord.length} of the Guide's own cases failed on record: a Guide is written from successes`);
    if (of('held-out').length === 0) failures.push('no held-out case of this kind of work could be asked: a Guide needs cases that did not inspire it');
    for (const set of ['held-out', 'own'] as const) {
      const a = of(set).filter((r) => passes(r.a)).length;
      const b = of(set).filter((r) => passes(r.b)).length;
      if (b < a) failures.push(`arm B passes ${b} ${set} case(s), arm A ${a}`);
    }
    const worked = replayed.filter((r) => r.set !== 'pinned' && passes(r.a));
    const changed = worked.filter((r) => !r.same);
    if (worked.length && changed.length * 2 > worked.length) failures.push(`arm B changes the answer of ${changed.length} of ${worked.length} case(s) that already passed: a Guide keeps what works`);
  } else if (isCaveat) {
    if (failing.length === 0) failures.push('none of its own cases fails with the current docstring: there is nothing for the Caveat to flip');
    else if (flipped.length * 2 <= failing.length) failures.push(`only ${flipped.length} of ${failing.length} failing case(s) flip with the Caveat`);
  } else {
    const a = replayed.filter((r) => passes(r.a)).length;
    const b = replayed.filter((r) => passes(r.b)).length;
    if (b < a) failures.push(`without the bullet arm B passes ${b} case(s), arm A ${a}`);
  }
  const workers = (arm: 'a' | 'b') => [...new Set(replayed.map((r) => r[arm]!.worker))].join(', ') || '-';
  const pct = (x: Arm | undefined) => (x ? `${x.passes}/${x.runs}` : '-');
  const why = (r: CaseResult) => [r.note, r.a?.failed && `A: ${r.a.failed}`, r.b?.failed && `B: ${r.b.failed}`].filter(Boolean).join('; ');
  const unjudged = [...new Set(replayed.flatMap((r) => [...(r.a?.unjudged ?? []), ...(r.b?.unjudged ?? [])]))];
  const table = [
    `Reproduction check: ${replayed.length} of ${results.length} recorded case(s) asked, each arm ${k} time(s), each answer judged by the answer check and the card's accept predicates on a scratch copy of its outputs. Arm A (the current docstring): ${workers('a')}; arm B (with the change): ${workers('b')}.`,
    ...(unjudged.length ? [`Not judged on one answer: ${unjudged.join('; ')}.`] : []),
    '',
    '| set | case | kind of work | input | recorded accept | A passes | B passes | A answer | B answer | note |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.set} | \`${r.id}\` | \`${r.category}\` | ${cell(r.question, 50)} | ${r.recordedPass ? 'pass' : 'fail'} | ${pct(r.a)} | ${pct(r.b)} | ${r.a ? `\`${cell(r.a.answer)}\`` : '-'} | ${r.b ? `\`${cell(r.b.answer)}\`` : '-'} | ${cell(why(r), 120)} |`),
  ];
  if (isCaveat) table.push('', `Failing cases that flipped with the Caveat: ${flipped.length} of ${failing.length}.`);
  if (of('pinned').length === 0) table.push('', 'No pinned cases: no other kind of work reads this skill in the window.');
  const ran = replayed.length > 0;
  return {
    ran,
    passed: ran && failures.length === 0,
    table: table.join('\n'),
    note: !ran ? 'not run: none of the recorded cases could be asked again (see the notes: the answers are not in the response cache, or their inputs changed)' : failures.length ? failures.join('; ') : `passed on ${replayed.length} case(s)`,
  };
}
