// Phase P: recurring successes. Streams the window's audit records once, groups them by kind of work and
// path (category_hash, and the names of the steps taken), and proposes a Guide bullet for every group seen
// at least min-repeat times on at least min-unique-questions different inputs, always successful. A record
// with an error or a violation is a failure of its group (and of every longer path of its kind of work it
// broke off from): it is never evidence for a Guide. Only noise is left out, counted: inputs shorter than
// min-chunk-len and transient API errors; cached replays are never a new case. Memory grows with the
// number of groups, never with the log: each group keeps a bounded sample of inputs and record ids.
import type { AuditRecord } from '../contracts/types.gen.js';
import type { Candidate, CoreloopCandidates } from './candidates.js';
import { bulletProblem, candidateKey } from './candidates.js';
import { maskSensitive } from './sanitize/detect.js';
import { auditFiles, type AuditPlace } from '../ssot/audit-store.js';
import { TRANSIENT, engineAxis, forEachRecord, noiseOf, recordFailed, signalsOf, wilsonLower, type Window } from './records.js';
import { sequenceHash } from './audit.js';

export interface PatternOptions {
  minRepeat: number;
  minUniqueQuestions: number;
  minChunkLen: number;
  /** Leave question texts out of the output. */
  sanitize: boolean;
}

/** What the caller knows about a candidate key already (rejections in the store, merges and branches in git). */
export type Known = (key: string, bulletId: string, target: string | null) => Promise<'rejected' | 'merged' | 'proposed' | undefined> | 'rejected' | 'merged' | 'proposed' | undefined;

const QUESTION_CAP = 256;
const RECORD_IDS = 50;
const EXAMPLES = 3;

export interface Group {
  category: string;
  seq: string;
  n: number;
  successes: number;
  questions: Set<string>;
  capped: boolean;
  /** Noise, left out: inputs too short to judge, transient API errors. */
  excluded: { short_chunk: number; transient: number };
  /** Failures counted in n: records with an error, with a violation. */
  failed: { error: number; violation: number };
  chunkMin: number;
  chunkMax: number;
  chunkSum: number;
  models: Set<string>;
  steps: string[];
  skills: Set<string>;
  recordIds: string[];
  examples: string[];
  first: string;
  last: string;
}

function newGroup(r: AuditRecord, seq: string): Group {
  return {
    category: r.category_hash, seq, n: 0, successes: 0, questions: new Set(), capped: false,
    excluded: { short_chunk: 0, transient: 0 }, failed: { error: 0, violation: 0 }, chunkMin: Infinity, chunkMax: 0, chunkSum: 0, models: new Set(),
    steps: r.tool_calls.map((t) => t.name), skills: new Set(), recordIds: [], examples: [], first: r.ts, last: r.ts,
  };
}

/** Adds one record to its group. Exported for the benchmark's peer check and the tests. */
export function addRecord(groups: Map<string, Group>, r: AuditRecord, minChunkLen: number): void {
  // The path by step names, recomputed: logs written when the hash also held the outcomes group the same way.
  const seq = sequenceHash(r.tool_calls);
  const key = `${r.category_hash}\u0000${seq}`;
  let g = groups.get(key);
  if (!g) groups.set(key, (g = newGroup(r, seq)));
  const noise = noiseOf(r, minChunkLen);
  if (noise) return void g.excluded[noise]++;
  g.n++;
  if (r.error) g.failed.error++;
  else if (r.violation) g.failed.violation++;
  // Success: every step ok and no failure signal other than a transient one that was retried through.
  if (!recordFailed(r) && signalsOf(r, 0).every((s) => TRANSIENT.has(s.cause))) g.successes++;
  if (!g.questions.has(r.question_hash)) {
    if (g.questions.size < QUESTION_CAP) g.questions.add(r.question_hash);
    else g.capped = true;
  }
  g.chunkMin = Math.min(g.chunkMin, r.chunk_len);
  g.chunkMax = Math.max(g.chunkMax, r.chunk_len);
  g.chunkSum += r.chunk_len;
  if (g.models.size < 8 && r.model) g.models.add(r.model);
  if (r.skill_used && g.skills.size < 4) g.skills.add(r.skill_used);
  if (g.recordIds.length < RECORD_IDS) g.recordIds.push(r.request_id);
  if (g.examples.length < EXAMPLES && typeof r.question === 'string' && r.question && !g.examples.includes(r.question)) g.examples.push(r.question);
  if (r.ts < g.first) g.first = r.ts;
  if (r.ts > g.last) g.last = r.ts;
}

/** The skill target of a group: the record's own (when it names a file), else the one configured for its card type. */
export function targetOf(skills: Set<string>, engine: string, configured: Record<string, string>): string | null {
  for (const s of skills) if (/[/\\]|::|\.\w+$/.test(s)) return s;
  return configured[engine.toUpperCase()] ?? null;
}

function guideText(g: Group, engine: string, axis: string, withAxis: boolean): string {
  const steps = g.steps.length ? g.steps.join(' → ') : 'a single call';
  const work = withAxis ? `${engine.toUpperCase()} work on ${axis}` : `This ${engine.toUpperCase()} work`;
  return `${work}: the path ${steps} passed in all ${g.n} recorded cases (${g.questions.size}${g.capped ? '+' : ''} different inputs, 95% lower bound ${Math.round(wilsonLower(g.successes, g.n) * 100)}%), on inputs of ${g.chunkMin === g.chunkMax ? g.chunkMin : `${g.chunkMin}-${g.chunkMax}`} characters. Keep to this path: answer in the shape the check expects, so that every accept rule holds.`;
}

function whyNot(g: Group, o: PatternOptions, partWay: number): string | undefined {
  const failed = g.n - g.successes;
  const how = g.failed.error + g.failed.violation ? ` (${g.failed.error} error, ${g.failed.violation} violation)` : '';
  if (failed > 0) return `${failed} of ${g.n} failed${how}`;
  if (partWay > 0) return `${partWay} record(s) of this kind of work failed part-way along this path`;
  if (g.n < o.minRepeat) {
    const left = g.excluded.short_chunk + g.excluded.transient;
    return `${g.n} usable record(s) < ${o.minRepeat}${left ? ` (${left} left out as noise: ${g.excluded.short_chunk} short, ${g.excluded.transient} transient)` : ''}`;
  }
  if (g.questions.size < o.minUniqueQuestions) return `${g.questions.size} different input(s) < ${o.minUniqueQuestions}`;
  return undefined;
}

/** Failures of the same kind of work whose path is a beginning of this one: they set out this way and broke off. */
function failuresPartWay(g: Group, all: Group[]): number {
  let n = 0;
  for (const h of all) {
    if (h === g || h.category !== g.category || h.steps.length >= g.steps.length) continue;
    if (h.steps.every((s, i) => g.steps[i] === s)) n += h.n - h.successes;
  }
  return n;
}

export type Proposal =
  | { key: string; skip: 'rejected' | 'merged' | 'proposed' }
  | { key: string; drop: string }
  | { key: string; engine: string; axis: string; target: string | null; bulletId: string; text: string };

/**
 * What the miners share for every group that passed its thresholds: its stable key and bullet id, its
 * skill target, whether it was decided before, and a bullet text that is safe to publish (first with the
 * axis named, then without it; a group whose bullet would still quote an input or leak a secret is dropped).
 */
export async function propose(deps: MineDeps, prefix: 'G' | 'C', keyParts: string[], category: string, tool: string | undefined, skills: Set<string>, examples: string[], text: (withAxis: boolean, engine: string, axis: string) => string): Promise<Proposal> {
  const key = candidateKey(...keyParts);
  const { engine, axis } = engineAxis(category, tool);
  const target = targetOf(skills, engine, deps.skills);
  const bulletId = `${prefix}-${key.slice(0, 8)}`;
  const seen = await deps.known(key, bulletId, target);
  if (seen) return { key, skip: seen };
  for (const withAxis of [true, false]) {
    const t = text(withAxis, engine, axis);
    const problem = await bulletProblem(t, examples);
    if (!problem) return { key, engine, axis, target, bulletId, text: t };
    if (!withAxis) return { key, drop: `the bullet was not written: ${problem}` };
  }
  throw new Error('unreachable');
}

export interface PatternResult {
  file: CoreloopCandidates;
  /** Candidates whose bullet could not be written safely, with the reason. */
  dropped: { key: string; reason: string }[];
}

export interface MineDeps {
  /** Where the audit log is (ssot/audit-store.ts auditPlace). */
  audit: AuditPlace;
  window: Window;
  now: string;
  /** The skills map of factory.yaml: card type → skill target. */
  skills: Record<string, string>;
  known: Known;
  display: (p: string) => string;
}

export async function minePatterns(deps: MineDeps, o: PatternOptions): Promise<PatternResult> {
  const files = await auditFiles(deps.audit, deps.window);
  const groups = new Map<string, Group>();
  const stats = await forEachRecord(files, deps.window, (r) => addRecord(groups, r, o.minChunkLen), deps.display);
  const date = deps.now.slice(0, 10);
  const candidates: Candidate[] = [];
  const nearMisses: CoreloopCandidates['near_misses'] = [];
  const skipped: CoreloopCandidates['skipped'] = [];
  const dropped: PatternResult['dropped'] = [];
  const excluded = { short_chunk: 0, transient: 0, replay: stats.replays };
  const ordered = [...groups.values()].sort((a, b) => b.n - a.n || (a.category + a.seq).localeCompare(b.category + b.seq));
  for (const g of ordered) {
    excluded.short_chunk += g.excluded.short_chunk;
    excluded.transient += g.excluded.transient;
    const reason = whyNot(g, o, failuresPartWay(g, ordered));
    if (reason) {
      if (nearMisses.length < 20 && g.n + g.excluded.short_chunk + g.excluded.transient >= 2)
        nearMisses.push({ category_hash: g.category, tool_sequence_hash: g.seq, records: g.n, unique_questions: g.questions.size, success_rate: g.n ? g.successes / g.n : 0, reason });
      continue;
    }
    const p = await propose(deps, 'G', ['guide', g.category, g.seq], g.category, g.steps[0], g.skills, g.examples, (withAxis, engine, axis) => guideText(g, engine, axis, withAxis));
    if ('skip' in p) skipped.push({ key: p.key, reason: p.skip });
    if ('drop' in p) dropped.push({ key: p.key, reason: p.drop });
    if (!('text' in p)) continue;
    const { key, engine, axis, target, bulletId, text } = p;
    candidates.push({
      id: `cand-${date}-${String(candidates.length + 1).padStart(3, '0')}`,
      key, action: 'append', section: 'Guide', target, engine, axis, category_hash: g.category, tool_sequence_hash: g.seq,
      bullet: { id: bulletId, text },
      evidence: {
        records: g.n, unique_questions: g.questions.size, unique_questions_capped: g.capped, successes: g.successes, success_rate: g.successes / g.n,
        wilson_lower: Number(wilsonLower(g.successes, g.n).toFixed(4)), chunk_len: { min: g.chunkMin, max: g.chunkMax, mean: Math.round(g.chunkSum / g.n) },
        steps: g.steps, models: [...g.models], first_seen: g.first, last_seen: g.last, excluded: g.excluded,
      },
      record_ids: g.recordIds,
      examples: o.sanitize ? [] : await Promise.all(g.examples.map(maskSensitive)),
    });
  }
  return {
    file: {
      schema_version: 1, kind: 'pattern', generated_at: deps.now, window: deps.window,
      params: { min_repeat: o.minRepeat, min_unique_questions: o.minUniqueQuestions, min_chunk_len: o.minChunkLen, sanitize: o.sanitize },
      scanned: { files: stats.files, records: stats.records, invalid: stats.invalid, excluded },
      skipped, near_misses: nearMisses, candidates,
    },
    dropped,
  };
}
