// The reproduction check: recorded cases replayed through the worker with the current docstring (arm A,
// answered from the response cache: what really happened) and with the change (arm B, asked again, k times
// when the model is not deterministic). Three sets of cases: the candidate's own, held-out cases of the same
// kind of work, and a pinned set of other kinds of work that read the same skill. It passes when B breaks
// no pinned case that A passed and is no worse than A on the others; for a Caveat it also reports how many
// failing cases flipped. Every case goes into a table for the pull request.
import path from 'node:path';
import { readFile, readdir } from 'node:fs/promises';
import type { AuditRecord } from '../contracts/types.gen.js';
import { G7Error } from '../contracts/errors.js';
import { answerProblem } from '../executors/answers.js';
import type { CacheEntry } from '../worker/cached.js';
import type { Worker, WorkerRequest, WorkerResponse } from '../worker/worker.js';
import type { Candidate } from './candidates.js';
import { dayFiles, forEachRecord, type Window } from './records.js';
import type { ReproductionCheck, ReproductionResult } from './promote.js';
import { skillPromptText, type SkillDoc } from './skill/doc.js';

export interface ReplayDeps {
  auditDir: string;
  /** The response cache (state/cache): recorded requests and their answers. */
  cacheDir: string;
  /** The worker arm B asks: the offline rules, or Gemini with a key. Never the cache. */
  worker: Worker;
  /** Repeats of each arm-B case when the worker is not deterministic (k ≥ 3). */
  repeats: number;
  /** Where held-out and pinned cases are looked for. */
  window: Window;
  display: (p: string) => string;
}

/** How many cases of each set are replayed at most: arm B is paid for. */
export const CASES = { own: 5, heldOut: 5, pinned: 5 } as const;

type CaseSet = 'own' | 'held-out' | 'pinned';

interface Case {
  set: CaseSet;
  id: string;
  category: string;
  /** The card went every step of its way in the recording. */
  recordedPass: boolean;
}

export interface CaseResult extends Case {
  a: 'pass' | 'fail';
  /** Arm B passes out of runs; undefined when the case could not be replayed (why in `note`). */
  b?: { passes: number; runs: number; same: number; tokens: number; steps: string };
  note?: string;
}

const okRecord = (r: AuditRecord) => !r.error && !r.violation && r.tool_calls.every((t) => t.ok);

async function cached(cacheDir: string, requestId: string): Promise<CacheEntry | undefined> {
  const shard = path.join(cacheDir, requestId.slice(0, 2));
  const name = (await readdir(shard).catch(() => [] as string[])).find((n) => n.startsWith(requestId) && n.endsWith('.json'));
  if (!name) return undefined;
  try {
    return JSON.parse(await readFile(path.join(shard, name), 'utf8')) as CacheEntry;
  } catch {
    return undefined;
  }
}

/** The cases: the candidate's records, then held-out ones of its kind and pinned ones of other kinds that read the same skill. */
async function pickCases(deps: ReplayDeps, c: Candidate): Promise<Case[]> {
  const own = new Set(c.record_ids);
  const ownCases = new Map<string, Case>();
  const held = new Map<string, Case>();
  const pinned = new Map<string, Case>();
  const perCategory = new Map<string, number>();
  const files = await dayFiles(deps.auditDir, deps.window);
  await forEachRecord(files, deps.window, (r) => {
    const id = r.request_id;
    const k: Case = { set: 'own', id, category: r.category_hash, recordedPass: okRecord(r) };
    // Its own cases are its records of its kind of work: an id another kind of work happens to share is not one.
    if (own.has(id) && (c.action === 'retire' || r.category_hash === c.category_hash)) {
      if (ownCases.size < CASES.own && !ownCases.has(id)) ownCases.set(id, k);
      return;
    }
    if (r.category_hash === c.category_hash) {
      if (held.size < CASES.heldOut && !held.has(id)) held.set(id, { ...k, set: 'held-out' });
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

const judge = (req: WorkerRequest, r: WorkerResponse) => !answerProblem(req.task, r.json);

export function replayCheck(deps: ReplayDeps): ReproductionCheck {
  const deterministic = deps.worker.provider === 'offline';
  const k = deterministic ? 1 : Math.max(3, deps.repeats);
  return {
    async run(c: Candidate, before: SkillDoc, after: SkillDoc): Promise<ReproductionResult> {
      const cases = await pickCases(deps, c);
      const skillB = skillPromptText(after);
      const skillA = skillPromptText(before);
      const results: CaseResult[] = [];
      for (const cs of cases) {
        const entry = await cached(deps.cacheDir, cs.id);
        if (!entry?.request) {
          results.push({ ...cs, a: cs.recordedPass ? 'pass' : 'fail', note: 'not replayable: the request was not recorded' });
          continue;
        }
        // Arm A: what happened, from the cache. A prompt recorded with another version of the docstring is noted.
        const a = cs.recordedPass && judge(entry.request, entry.response) ? 'pass' : 'fail';
        const req: WorkerRequest = { ...entry.request, skill: skillB };
        let passes = 0;
        let same = 0;
        let tokens = 0;
        let steps = '';
        for (let i = 0; i < k; i++) {
          let r: WorkerResponse | undefined;
          try {
            r = await deps.worker.call(req);
          } catch (err) {
            // An answer the worker itself refused (wrong shape, cut off, blocked) is arm B failing this case;
            // anything else (no key, quota, the network) means the check cannot be made now.
            if (!(err instanceof G7Error)) throw err;
            if (err.triage !== 'SCHEMA') return { ran: false, passed: false, table: '', note: `not run: arm B cannot be asked (${err.summary ?? err.message})` };
          }
          const ok = r !== undefined && judge(req, r);
          passes += ok ? 1 : 0;
          same += r && JSON.stringify(r.json) === JSON.stringify(entry.response.json) ? 1 : 0;
          tokens += r ? r.tokens.in + r.tokens.out : 0;
          steps = `ask ${r ? 'ok' : 'FAIL'} → check ${ok ? 'ok' : 'FAIL'}`;
        }
        const note = entry.request.skill !== undefined && entry.request.skill !== skillA ? 'recorded with an older docstring' : undefined;
        results.push({ ...cs, a, b: { passes, runs: k, same, tokens, steps }, ...(note ? { note } : {}) });
      }
      return verdict(c, results, k);
    },
  };
}

const bPass = (r: CaseResult) => !!r.b && r.b.passes * 2 > r.b.runs;

export function verdict(c: Candidate, results: CaseResult[], k: number): ReproductionResult {
  const replayed = results.filter((r) => r.b);
  const failures: string[] = [];
  const of = (set: CaseSet) => replayed.filter((r) => r.set === set);
  const broken = of('pinned').filter((r) => r.a === 'pass' && !bPass(r));
  if (broken.length) failures.push(`arm B breaks ${broken.length} pinned case(s) that arm A passed`);
  for (const set of ['held-out', 'own'] as const) {
    const a = of(set).filter((r) => r.a === 'pass').length;
    const b = of(set).filter(bPass).length;
    if (b < a) failures.push(`arm B passes ${b} ${set} case(s), arm A ${a}`);
  }
  const failing = of('own').filter((r) => r.a === 'fail');
  const flipped = failing.filter((r) => bPass(r) && r.b!.same < r.b!.runs);
  const pct = (r: CaseResult) => (r.b ? `${r.b.passes}/${r.b.runs}` : '-');
  const table = [
    `Reproduction check: ${replayed.length} of ${results.length} recorded case(s) replayed, arm B ${k} time(s) each${k === 1 ? ' (the worker is deterministic)' : ''}.`,
    '',
    '| set | case | kind of work | A (recorded) | B passes | B = A answer | B tokens | B steps | note |',
    '|---|---|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.set} | \`${r.id}\` | \`${r.category}\` | ${r.a} | ${pct(r)} | ${r.b ? `${r.b.same}/${r.b.runs}` : '-'} | ${r.b?.tokens ?? '-'} | ${r.b?.steps ?? '-'} | ${r.note ?? ''} |`),
  ];
  if (c.section === 'Caveats' && c.action === 'append') table.push('', `Failing cases that flipped with the Caveat: ${flipped.length} of ${failing.length}.`);
  if (of('pinned').length === 0) table.push('', 'No pinned cases: no other kind of work reads this skill in the window.');
  const ran = replayed.length > 0;
  return {
    ran,
    passed: ran && failures.length === 0,
    table: table.join('\n'),
    note: !ran ? 'not run: none of the recorded cases could be replayed (the response cache does not hold their requests)' : failures.length ? failures.join('; ') : `passed on ${replayed.length} case(s)`,
  };
}
