// The candidates and counterexamples files (one contract, schemas/coreloop_candidates.schema.json), the
// draft a person reads, and the store of decisions (rejections) that keeps a candidate from coming back.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { Candidate, CoreloopCandidates } from '../contracts/types.gen.js';
import { SchemaError, UsageError } from '../contracts/errors.js';
import { explain } from '../contracts/validate.js';
import { parseJson } from '../ssot/doc.js';
import { appendLines, writeFileAtomic, writeJsonAtomic } from '../ssot/atomic.js';
import { forEachLine } from '../ssot/jsonl.js';
import { findSensitive } from './sanitize/detect.js';

export type { Candidate, CoreloopCandidates };

export function candidateKey(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

export function outputFiles(auditDir: string, kind: 'pattern' | 'refine', date: string): { json: string; draft: string } {
  const [dir, name] = kind === 'pattern' ? ['candidates', 'candidates'] : ['counterexamples', 'counterexamples'];
  return { json: path.join(auditDir, dir, `${date}-${name}.json`), draft: path.join(auditDir, dir, `${date}-draft.md`) };
}

export async function loadCandidates(file: string, shown: string): Promise<CoreloopCandidates> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`${shown} does not exist; run g7 coreloop pattern (or refine) first`);
  }
  const doc = parseJson(text.replace(/^\uFEFF/, ''), shown);
  const problems = explain('coreloop_candidates', doc.value, { file: shown, doc });
  if (problems.length > 0) throw new SchemaError(problems, `${shown} is not a candidates file`);
  return doc.value as CoreloopCandidates;
}

export function findCandidate(file: CoreloopCandidates, id: string, shown: string): Candidate {
  // The key works too: it stays the same when the mining runs again and the numbering changes.
  const c = file.candidates.find((x) => x.id === id || x.key === id);
  if (!c) throw new UsageError(`no candidate ${id} in ${shown}; it has ${file.candidates.map((x) => x.id).join(', ') || 'none'}`);
  return c;
}

/** Bullet text a person may publish: no secret or personal data, and no example input quoted in it. */
export async function bulletProblem(text: string, examples: string[]): Promise<string | undefined> {
  const found = await findSensitive(text);
  if (found.length > 0) return `it would contain ${found.map((f) => f.rule).join(', ')}`;
  const lower = text.toLowerCase();
  for (const q of examples) {
    const s = q.toLowerCase();
    for (let i = 0; i + 20 <= s.length; i += 5) if (lower.includes(s.slice(i, i + 20))) return 'it would quote an input verbatim';
  }
  return undefined;
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

export function renderDraft(f: CoreloopCandidates, jsonShown: string): string {
  const title = f.kind === 'pattern' ? 'Coreloop candidates (Guide)' : 'Coreloop counterexamples (Caveats)';
  const ex = Object.entries(f.scanned.excluded).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ') || 'none';
  const out = [
    `# ${title}, ${f.generated_at.slice(0, 10)}`,
    '',
    `Window ${f.window.since.slice(0, 16)} … ${f.window.until.slice(0, 16)} UTC: ${f.scanned.records} records in ${f.scanned.files} file(s)` +
      `${f.scanned.invalid ? `, ${f.scanned.invalid} unreadable lines` : ''}; left out: ${ex}.`,
    `Rules: ${Object.entries(f.params).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(',') || '-' : v}`).join(', ')}.`,
  ];
  if (f.skipped.length) {
    const by = (r: string) => f.skipped.filter((s) => s.reason === r).length;
    out.push(`Found again and not proposed: ${by('rejected')} rejected, ${by('merged')} merged, ${by('proposed')} already on a branch.`);
  }
  if (f.candidates.length === 0) out.push('', 'No candidates in this window.');
  for (const c of f.candidates) {
    const e = c.evidence;
    const what = c.action === 'retire' ? `retire ${c.bullet.id} from` : `append to ${c.section} of`;
    out.push('', `## ${c.id}: ${what} ${c.target ?? '(no skill configured for this kind of work)'}`, '');
    out.push(c.action === 'retire' ? `Why: ${c.bullet.text}` : `> - ${c.bullet.text}`, '');
    out.push('| evidence | |', '|---|---|');
    out.push(`| kind of work | \`${c.category_hash}\` (engine ${c.engine}, axis ${c.axis}) |`);
    if (c.tool_sequence_hash) out.push(`| steps | ${(e.steps ?? []).join(' → ') || '-'} (\`${c.tool_sequence_hash}\`) |`);
    if (e.signal) out.push(`| failure | ${e.signal.type}, ${e.signal.cause}: ${e.signal.detail} |`);
    out.push(`| records | ${e.records} (${e.unique_questions}${e.unique_questions_capped ? '+' : ''} different inputs) |`);
    out.push(`| success | ${e.successes}/${e.records} = ${pct(e.success_rate)}; 95% lower bound ${pct(e.wilson_lower)} |`);
    if (e.helpful !== undefined) out.push(`| with this bullet in the prompt | ${e.helpful} passed, ${e.harmful ?? 0} failed |`);
    if (e.chunk_len) out.push(`| input length | ${e.chunk_len.min}–${e.chunk_len.max} characters (mean ${Math.round(e.chunk_len.mean)}) |`);
    out.push(`| models | ${e.models.join(', ') || '-'} |`, `| seen | ${e.first_seen.slice(0, 10)} … ${e.last_seen.slice(0, 10)} |`);
    const left = Object.entries(e.excluded ?? {}).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');
    if (left) out.push(`| left out of this group | ${left} |`);
    out.push(`| records (request ids) | ${c.record_ids.slice(0, 5).join(', ')}${c.record_ids.length > 5 ? ` … (${c.record_ids.length} in the JSON)` : ''} |`);
    if (c.examples.length) out.push('', 'Example inputs:', ...c.examples.map((q) => `- \`${q.replace(/`/g, "'").slice(0, 160)}\``));
    const cmd = f.kind === 'pattern' ? 'promote' : 'refine';
    out.push('', `Try it: \`g7 coreloop ${cmd} --candidate ${jsonShown} --id ${c.id}\` (shows the diff; \`--confirm\` commits it on a branch).`);
    out.push(`Not wanted: \`g7 coreloop reject --candidate ${jsonShown} --id ${c.id} --reason "…"\` (it will not be proposed again).`);
  }
  if (f.near_misses.length) {
    out.push('', '## Near misses', '', '| kind of work | steps | records | inputs | success | why not |', '|---|---|---|---|---|---|');
    for (const m of f.near_misses) out.push(`| \`${m.category_hash}\` | \`${m.tool_sequence_hash}\` | ${m.records} | ${m.unique_questions} | ${pct(m.success_rate)} | ${m.reason} |`);
  }
  return out.join('\n') + '\n';
}

/**
 * A same-day rerun's file: every candidate the earlier run wrote stays as it was (a pull request may cite
 * it by id), the new run's candidates with other keys are added after them, numbered on; the window, the
 * figures, the near misses and what was skipped as decided are the new run's.
 */
export function mergeCandidates(earlier: CoreloopCandidates, fresh: CoreloopCandidates): CoreloopCandidates {
  const kept = new Set(earlier.candidates.map((c) => c.key));
  const prefix = fresh.kind === 'pattern' ? 'cand' : 'cx';
  const date = fresh.generated_at.slice(0, 10);
  let n = Math.max(0, ...earlier.candidates.map((c) => Number(/-(\d{3})$/.exec(c.id)?.[1] ?? 0)));
  const added = fresh.candidates.filter((c) => !kept.has(c.key)).map((c) => ({ ...c, id: `${prefix}-${date}-${String(++n).padStart(3, '0')}` }));
  // A candidate decided since (rejected, proposed) stays listed; `skipped` says it was decided.
  return { ...fresh, candidates: [...earlier.candidates, ...added] };
}

/** Writes the candidates file and its draft; an earlier file of the same day is merged into, never overwritten. */
export async function writeCandidates(f: CoreloopCandidates, files: { json: string; draft: string }, display: (p: string) => string): Promise<CoreloopCandidates> {
  const exists = await readFile(files.json).then(() => true, () => false);
  const merged = exists ? mergeCandidates(await loadCandidates(files.json, display(files.json)), f) : f;
  await writeJsonAtomic(files.json, merged);
  await writeFileAtomic(files.draft, renderDraft(merged, display(files.json)));
  return merged;
}

/** `audit/decisions.jsonl`: a person's rejections (and later the forge's verdicts), by candidate key. */
export interface Decision {
  key: string;
  candidate: string;
  decision: 'rejected';
  at: string;
  reason: string;
}

export function decisionsFile(auditDir: string): string {
  return path.join(auditDir, 'decisions.jsonl');
}

export async function readDecisions(auditDir: string): Promise<Map<string, Decision>> {
  const out = new Map<string, Decision>();
  const file = decisionsFile(auditDir);
  try {
    await forEachLine(file, (t) => {
      try {
        const d = JSON.parse(t) as Decision;
        if (d && typeof d.key === 'string') out.set(d.key, d);
      } catch {
        /* a torn last line: the decision was not recorded */
      }
    });
  } catch {
    /* no decisions yet */
  }
  return out;
}

export async function recordDecision(auditDir: string, d: Decision): Promise<void> {
  await appendLines(decisionsFile(auditDir), [JSON.stringify(d)]);
}
