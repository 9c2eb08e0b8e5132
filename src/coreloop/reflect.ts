// The reflector: what a bullet says is written from the cases, not from a template. For each candidate the
// miners found, one model call (its own prompt, its own call and token budget, its own audit records in
// audit/reflector/DAY.jsonl) reads the group's recorded inputs, answers and accept outcomes — the successes
// for a Guide, the failures for a Caveat — and writes one short, specific, checkable instruction, or says
// there is nothing a model could do differently (a configuration error, an accept rule no answer can meet).
// Without a model there is nothing to learn: the offline rules are the skill. A group that no model
// answered (every record by the offline rules) is not reflected on either. Near-duplicate bullets for one
// target and section are merged into the first.
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { AuditRecord } from '../contracts/types.gen.js';
import { appendLines } from '../ssot/atomic.js';
import { cacheEntryById } from '../worker/cached.js';
import type { Candidate, CoreloopCandidates } from './candidates.js';
import { bulletProblem } from './candidates.js';
import { forEachRecord, recordFailed, type Window } from './records.js';
import { auditFiles, type AuditPlace } from '../ssot/audit-store.js';
import { maskSensitive } from './sanitize/detect.js';

/** One recorded case as the reflector reads it. */
export interface ReflectCase {
  id: string;
  /** What was asked (the record's summary), masked. */
  input: string;
  outcome: 'pass' | 'fail';
  /** The error, violation or failed steps of a failing case. */
  failure?: string;
  /** The recorded answer (from the response cache), cut to 300 characters; absent when the worker refused it. */
  answer?: string;
  model: string;
}

export interface ReflectInput {
  candidate: Candidate;
  cases: ReflectCase[];
  /** The skill docstring as the worker reads it now (so the bullet does not repeat it). */
  skill?: string | undefined;
}

/** The model call behind the reflector (reflect-gemini.ts); `none` when the model sees nothing to learn. */
export interface ReflectModel {
  readonly model: string;
  write(system: string, user: string): Promise<{ bullet: string; why: string; tokens: number }>;
}

export const NOTHING_OFFLINE = 'nothing to learn without a model: the offline rules are the skill (set GEMINI_API_KEY so the reflector can write bullets from the cases)';
export const NOTHING_RULES = 'no model answered these cases (the offline rules did): the rules are the skill, nothing to learn';

export interface ReflectOptions {
  /** Where the audit log is read (ssot/audit-store.ts auditPlace). */
  audit: AuditPlace;
  /** Where the reflector's own records go: `<auditDir>/reflector/DAY.jsonl`, committed with the candidates. */
  auditDir: string;
  cacheDir: string;
  window: Window;
  now: string;
  display: (p: string) => string;
  /** The model, or undefined offline. */
  model: ReflectModel | undefined;
  /** Calls this run may make; the candidates past it are not proposed (said so). */
  maxCalls: number;
  /** The skill text per target, as the worker reads it. */
  skillText: (target: string) => Promise<string | undefined>;
}

const CASES = 6;
const MAX_BULLET = 240;

/** The records of each candidate (the first `CASES` of its ids), with their answers from the response cache. */
async function casesOf(o: ReflectOptions, candidates: Candidate[]): Promise<Map<string, AuditRecord>> {
  const want = new Set(candidates.flatMap((c) => c.record_ids.slice(0, CASES)));
  const found = new Map<string, AuditRecord>();
  await forEachRecord(await auditFiles(o.audit, o.window), o.window, (r) => {
    if (want.has(r.request_id) && !found.has(r.request_id)) found.set(r.request_id, r);
  }, o.display);
  return found;
}

async function caseOf(o: ReflectOptions, r: AuditRecord): Promise<ReflectCase> {
  const failed = recordFailed(r);
  const steps = r.tool_calls.filter((t) => !t.ok).map((t) => `${t.name}: ${t.error ?? 'failed'}`);
  const failure = [r.error, r.violation, ...steps].filter(Boolean).join('; ');
  const entry = await cacheEntryById(o.cacheDir, r.request_id);
  const answer = entry ? JSON.stringify(entry.response.json).slice(0, 300) : undefined;
  return {
    id: r.request_id, input: await maskSensitive(r.question ?? ''), outcome: failed ? 'fail' : 'pass',
    ...(failed && failure ? { failure: await maskSensitive(failure.slice(0, 400)) } : {}),
    ...(answer ? { answer: await maskSensitive(answer) } : {}), model: r.provider === 'offline' ? 'offline rules' : `${r.provider}/${r.model}`,
  };
}

export function reflectPrompt(i: ReflectInput): { system: string; user: string } {
  const c = i.candidate;
  const guide = c.section === 'Guide';
  const system = [
    `You improve a skill docstring: the text a model is prompted with for ${c.engine.toUpperCase()} work (${c.axis}).`,
    guide
      ? 'Below are recorded cases of this kind of work that succeeded. Write one bullet for its Guide section: what these answers did that the work should keep doing.'
      : 'Below are recorded cases of this kind of work that failed, with what failed. Write one bullet for its Caveats section: the mistake the answers made, and what to do instead.',
    `The bullet is one sentence of at most ${MAX_BULLET} characters, about the work itself, specific and checkable on an answer. Never statistics about the pipeline, never a quote of an input, nothing the docstring already says.`,
    'When the cases show nothing a model could do differently (a configuration error such as a missing key, a quota, an accept rule no answer can meet), answer with an empty bullet and say why.',
    'Answer as JSON: {"bullet": "...", "why": "..."}.',
  ].join('\n');
  const user = JSON.stringify({ section: c.section, kind_of_work: c.category_hash, failure: c.evidence.signal ?? null, cases: i.cases.map(({ id, ...k }) => ({ case: id, ...k })), docstring: (i.skill ?? '').slice(0, 3000) }, null, 1);
  return { system, user };
}

const words = (s: string) => new Set(s.toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, ' ').split(/\s+/).filter((w) => w.length > 2));

/** Near duplicates: most of the words of the shorter bullet are in the other. */
export function nearDuplicate(a: string, b: string): boolean {
  const [x, y] = [words(a), words(b)];
  const small = x.size <= y.size ? x : y;
  const big = small === x ? y : x;
  if (small.size === 0) return a.trim() === b.trim();
  let shared = 0;
  for (const w of small) if (big.has(w)) shared++;
  return shared / small.size >= 0.8;
}

export interface Reflected {
  file: CoreloopCandidates;
  /** What was not proposed, and why (also in the file's near misses). */
  notProposed: { id: string; reason: string }[];
  calls: number;
}

/**
 * Rewrites every append candidate's bullet from its cases, or leaves the candidate out with the reason.
 * Retirements keep their text (it is a figure about a bullet, not advice to the worker).
 */
export async function reflect(o: ReflectOptions, f: CoreloopCandidates): Promise<Reflected> {
  const notProposed: Reflected['notProposed'] = [];
  const kept: Candidate[] = [];
  const records = o.model ? await casesOf(o, f.candidates.filter((c) => c.action === 'append')) : new Map<string, AuditRecord>();
  let calls = 0;
  const auditFile = path.join(o.auditDir, 'reflector', `${o.now.slice(0, 10)}.jsonl`);
  const miss = (c: Candidate, reason: string) => {
    notProposed.push({ id: c.id, reason });
    f.near_misses.push({ category_hash: c.category_hash, tool_sequence_hash: c.tool_sequence_hash ?? `${c.evidence.signal?.type ?? 'caveat'}:${c.evidence.signal?.cause ?? ''}`, records: c.evidence.records, unique_questions: c.evidence.unique_questions, success_rate: c.evidence.success_rate, reason });
  };
  for (const c of f.candidates) {
    if (c.action !== 'append') {
      kept.push(c);
      continue;
    }
    if (!o.model) {
      miss(c, NOTHING_OFFLINE);
      continue;
    }
    const rs = c.record_ids.slice(0, CASES).map((id) => records.get(id)).filter((r): r is AuditRecord => !!r);
    if (rs.length === 0 || rs.every((r) => r.provider === 'offline')) {
      miss(c, NOTHING_RULES);
      continue;
    }
    if (calls >= o.maxCalls) {
      miss(c, `the reflector's budget of ${o.maxCalls} call(s) for this run is spent: mined again tomorrow`);
      continue;
    }
    const cases = await Promise.all(rs.map((r) => caseOf(o, r)));
    const { system, user } = reflectPrompt({ candidate: c, cases, skill: c.target ? await o.skillText(c.target) : undefined });
    calls++;
    const base = { ts: o.now, candidate: c.id, key: c.key, section: c.section, model: o.model.model, cases: cases.map((k) => k.id), prompt_sha256: createHash('sha256').update(system + user).digest('hex') };
    let out: Awaited<ReturnType<ReflectModel['write']>>;
    try {
      out = await o.model.write(system, user);
    } catch (err) {
      await appendLines(auditFile, [JSON.stringify({ ...base, error: (err as Error).message.slice(0, 300) })]).catch(() => undefined);
      miss(c, `the reflector could not be asked: ${(err as Error).message.slice(0, 200)}`);
      continue;
    }
    const text = out.bullet.replace(/\s+/g, ' ').trim();
    const problem = !text ? `the reflector found nothing to learn: ${out.why.slice(0, 200) || 'no reason given'}` : text.length > MAX_BULLET ? `the reflector's bullet has ${text.length} characters (at most ${MAX_BULLET})` : await bulletProblem(text, cases.map((k) => k.input));
    await appendLines(auditFile, [JSON.stringify({ ...base, tokens: out.tokens, bullet: text, why: out.why.slice(0, 300), ...(problem ? { refused: problem } : {}) })]).catch(() => undefined);
    if (problem) {
      miss(c, problem.startsWith('the reflector') ? problem : `the reflector's bullet was not used: ${problem}`);
      continue;
    }
    const twin = kept.find((k) => k.action === 'append' && k.target === c.target && k.section === c.section && nearDuplicate(k.bullet.text, text));
    if (twin) {
      twin.record_ids = [...new Set([...twin.record_ids, ...c.record_ids])].slice(0, 50);
      miss(c, `merged into ${twin.id}: the same bullet for ${c.target}`);
      continue;
    }
    kept.push({ ...c, bullet: { id: c.bullet.id, text }, reflection: { model: o.model.model, cases: cases.map((k) => k.id), why: out.why.slice(0, 300) } });
  }
  return { file: { ...f, candidates: kept }, notProposed, calls };
}
