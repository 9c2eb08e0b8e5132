// Phase F: recurring failures. Failure signals (error, violation, chunk_len < 200, extreme flags, failed
// overrides) are grouped by kind of work and cause; a group seen at least min-failures times becomes a
// Caveat candidate. Bullets named in audit records (skill_bullets) get their helpful/harmful counts, and a
// bullet that failed more often than it helped is proposed for retirement.
import type { AuditRecord } from '../contracts/types.gen.js';
import type { Candidate, CoreloopCandidates } from './candidates.js';
import { candidateKey } from './candidates.js';
import { maskSensitive } from './sanitize/detect.js';
import { auditFiles } from '../ssot/audit-store.js';
import { engineAxis, forEachRecord, signalsOf, wilsonLower, type Signal } from './records.js';
import { propose, targetOf, type MineDeps, type PatternResult } from './pattern.js';

export interface RefineOptions {
  minFailures: number;
  /** Signal types or causes to leave out, e.g. transient_network, rate_limit. */
  excludeTypes: string[];
  sanitize: boolean;
}

interface FailureGroup {
  category: string;
  signal: Signal;
  tool: string | undefined;
  n: number;
  questions: Set<string>;
  models: Set<string>;
  skills: Set<string>;
  recordIds: string[];
  examples: string[];
  first: string;
  last: string;
}

interface BulletCount {
  helpful: number;
  harmful: number;
  category: string;
  tool: string | undefined;
  skills: Set<string>;
  recordIds: string[];
  models: Set<string>;
  first: string;
  last: string;
}

const ADVICE: Record<string, string> = {
  schema: 'answer in exactly the shape Returns describes, with nothing around it',
  finish: 'keep the answer short enough to finish within the output limit',
  safety: 'quote less of the source text and describe it instead',
  short_chunk: 'a chunk this short rarely carries enough to judge: say so in the answer instead of guessing',
  violation: 'stay inside what the work pack allows',
  override: 'do not rely on this override',
  auth: 'this is a configuration problem of the key, not of the prompt',
  budget: 'spend fewer tokens per call',
  accept: 'the answers had the right shape but the accept rule did not hold: give what that rule checks, or ask a person to fix the rule',
  other: 'check the failing cases before trying this again',
};

function caveatText(g: FailureGroup, engine: string, axis: string, withAxis: boolean): string {
  const work = withAxis ? `${engine.toUpperCase()} work on ${axis}` : `This ${engine.toUpperCase()} work`;
  const what = g.signal.type === 'short_chunk' ? 'was asked about chunks under 200 characters' : `failed with ${g.signal.type.replace('_', ' ')} (${g.signal.cause}: ${g.signal.detail})`;
  return `${work} ${what} in ${g.n} recorded cases (${g.questions.size} different inputs): ${ADVICE[g.signal.cause] ?? ADVICE[g.signal.type] ?? ADVICE.other}.`;
}

export async function mineFailures(deps: MineDeps, o: RefineOptions): Promise<PatternResult> {
  const files = await auditFiles(deps.audit, deps.window);
  const groups = new Map<string, FailureGroup>();
  const bullets = new Map<string, BulletCount>();
  const excluded: Record<string, number> = {};
  const skip = new Set(o.excludeTypes);
  const onRecord = (r: AuditRecord) => {
    const all = signalsOf(r);
    const kept = all.filter((s) => !skip.has(s.type) && !skip.has(s.cause));
    for (const s of all) if (!kept.includes(s)) excluded[s.cause] = (excluded[s.cause] ?? 0) + 1;
    const tool = r.tool_calls[0]?.name;
    for (const s of kept) {
      const key = `${r.category_hash}\u0000${s.type}\u0000${s.cause}\u0000${s.detail}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { category: r.category_hash, signal: s, tool, n: 0, questions: new Set(), models: new Set(), skills: new Set(), recordIds: [], examples: [], first: r.ts, last: r.ts }));
      g.n++;
      if (g.questions.size < 256) g.questions.add(r.question_hash);
      if (r.model && g.models.size < 8) g.models.add(r.model);
      if (r.skill_used && g.skills.size < 4) g.skills.add(r.skill_used);
      if (g.recordIds.length < 50) g.recordIds.push(r.request_id);
      if (g.examples.length < 3 && typeof r.question === 'string' && r.question && !g.examples.includes(r.question)) g.examples.push(r.question);
      if (r.ts < g.first) g.first = r.ts;
      if (r.ts > g.last) g.last = r.ts;
    }
    for (const id of r.skill_bullets ?? []) {
      let b = bullets.get(id);
      if (!b) bullets.set(id, (b = { helpful: 0, harmful: 0, category: r.category_hash, tool, skills: new Set(), recordIds: [], models: new Set(), first: r.ts, last: r.ts }));
      if (kept.length === 0 && all.length === 0) b.helpful++;
      else if (kept.length > 0) b.harmful++;
      if (r.skill_used && b.skills.size < 4) b.skills.add(r.skill_used);
      if (kept.length > 0 && b.recordIds.length < 50) b.recordIds.push(r.request_id);
      if (r.model && b.models.size < 8) b.models.add(r.model);
      if (r.ts < b.first) b.first = r.ts;
      if (r.ts > b.last) b.last = r.ts;
    }
  };
  const stats = await forEachRecord(files, deps.window, onRecord, deps.display);
  if (stats.replays) excluded.replay = stats.replays;
  const date = deps.now.slice(0, 10);
  const candidates: Candidate[] = [];
  const skipped: CoreloopCandidates['skipped'] = [];
  const nearMisses: CoreloopCandidates['near_misses'] = [];
  const dropped: PatternResult['dropped'] = [];
  const next = () => `cx-${date}-${String(candidates.length + 1).padStart(3, '0')}`;
  const ordered = [...groups.values()].sort((a, b) => b.n - a.n || a.category.localeCompare(b.category));
  for (const g of ordered) {
    if (g.n < o.minFailures) {
      if (nearMisses.length < 20) nearMisses.push({ category_hash: g.category, tool_sequence_hash: `${g.signal.type}:${g.signal.cause}`, records: g.n, unique_questions: g.questions.size, success_rate: 0, reason: `${g.n} failure(s) < ${o.minFailures}` });
      continue;
    }
    const p = await propose(deps, 'C', ['caveat', g.category, g.signal.type, g.signal.cause, g.signal.detail], g.category, g.tool, g.skills, g.examples, (withAxis, engine, axis) => caveatText(g, engine, axis, withAxis));
    if ('skip' in p) skipped.push({ key: p.key, reason: p.skip });
    if ('drop' in p) dropped.push({ key: p.key, reason: p.drop });
    if (!('text' in p)) continue;
    const { key, engine, axis, target, bulletId, text } = p;
    candidates.push({
      id: next(), key, action: 'append', section: 'Caveats', target, engine, axis, category_hash: g.category, tool_sequence_hash: null,
      bullet: { id: bulletId, text },
      evidence: {
        records: g.n, unique_questions: g.questions.size, successes: 0, success_rate: 0, wilson_lower: 0,
        models: [...g.models], first_seen: g.first, last_seen: g.last, signal: g.signal,
      },
      record_ids: g.recordIds,
      examples: o.sanitize ? [] : await Promise.all(g.examples.map(maskSensitive)),
    });
  }
  for (const [id, b] of [...bullets.entries()].sort()) {
    if (b.harmful < o.minFailures || b.harmful <= b.helpful) continue;
    const key = candidateKey('retire', id);
    const { engine, axis } = engineAxis(b.category, b.tool);
    const target = targetOf(b.skills, engine, deps.skills);
    const seen = await deps.known(key, '', target); // by key only: the bullet being present is the point
    if (seen) {
      skipped.push({ key, reason: seen });
      continue;
    }
    const n = b.helpful + b.harmful;
    candidates.push({
      id: next(), key, action: 'retire', section: id.startsWith('G-') ? 'Guide' : 'Caveats', target, engine, axis, category_hash: b.category, tool_sequence_hash: null,
      bullet: { id, text: `with ${id} in the prompt, ${b.harmful} of ${n} recorded cases failed and ${b.helpful} passed` },
      evidence: { records: n, unique_questions: 0, successes: b.helpful, success_rate: b.helpful / n, wilson_lower: Number(wilsonLower(b.helpful, n).toFixed(4)), models: [...b.models], first_seen: b.first, last_seen: b.last, helpful: b.helpful, harmful: b.harmful },
      record_ids: b.recordIds,
      examples: [],
    });
  }
  const file: CoreloopCandidates = {
    schema_version: 1, kind: 'refine', generated_at: deps.now, window: deps.window,
    params: { min_failures: o.minFailures, exclude_types: o.excludeTypes, sanitize: o.sanitize },
    scanned: { files: stats.files, records: stats.records, invalid: stats.invalid, excluded },
    skipped, near_misses: nearMisses, candidates,
  };
  return { file, dropped };
}
