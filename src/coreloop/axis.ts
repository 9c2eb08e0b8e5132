// Phase A: a proposal to give an engine a new axis, written only as a Markdown file for people, and only
// when the history earns it: at least 3 merged R bullets and 2 merged F caveats on that engine and axis,
// the first R merge at least 30 days old. Never code: a person and an AI pair design the axis from here.
import path from 'node:path';
import { access } from 'node:fs/promises';
import { writeFileAtomic } from '../ssot/atomic.js';
import type { CoreloopCommit, History } from './history.js';
import { axisSlug } from './slug.js';

export interface AxisThresholds {
  minRMerges: number;
  minFCaveats: number;
  minAgeDays: number;
}

export interface AxisVerdict {
  engine: string;
  axis: string;
  r: CoreloopCommit[];
  f: CoreloopCommit[];
  firstR: string | undefined;
  ageDays: number;
  /** Why not, one line per threshold that does not hold; empty when the proposal may be written. */
  missing: string[];
}

export function judgeAxis(h: History, engine: string, axis: string, t: AxisThresholds, now: Date): AxisVerdict {
  const reverted = (sha: string) => h.reverts.some((r) => sha.startsWith(r.reverted));
  const mine = (c: CoreloopCommit) => (c.trailers['G7-Engine'] ?? '').toLowerCase() === engine.toLowerCase() && axisSlug(c.trailers['G7-Axis'] ?? '') === axisSlug(axis) && c.trailers['G7-Action'] !== 'retire' && !reverted(c.sha);
  const r = h.merged.filter((c) => c.phase === 'R' && mine(c));
  const f = h.merged.filter((c) => c.phase === 'F' && mine(c));
  const firstR = r[0]?.mergedAt;
  const ageDays = firstR ? Math.floor((now.getTime() - Date.parse(firstR)) / 86400e3) : 0;
  const missing: string[] = [];
  if (r.length < t.minRMerges) missing.push(`merged R bullets: ${r.length} < ${t.minRMerges}`);
  if (f.length < t.minFCaveats) missing.push(`merged F caveats: ${f.length} < ${t.minFCaveats}`);
  if (ageDays < t.minAgeDays) missing.push(firstR ? `first R merge is ${ageDays} days old < ${t.minAgeDays}` : 'no R merge yet');
  return { engine, axis, r, f, firstR, ageDays, missing };
}

export function proposalFile(auditDir: string, v: AxisVerdict, now: Date): string {
  return path.join(auditDir, 'proposals', `${now.toISOString().slice(0, 10)}-${axisSlug(v.engine, 20)}-${axisSlug(v.axis)}.md`);
}

export function renderProposal(v: AxisVerdict, now: Date): string {
  const line = (c: CoreloopCommit) => `- ${c.text || c.subject} (\`${c.trailers['G7-Bullet'] ?? '?'}\`, ${c.sha.slice(0, 10)}, merged ${c.mergedAt.slice(0, 10)})`;
  return [
    `# Proposal: a "${v.axis}" axis for the ${v.engine} engine`,
    '',
    `Written by \`g7 coreloop propose-axis\` on ${now.toISOString().slice(0, 10)}. This is a proposal for people: coreloop writes no code for it.`,
    '',
    '| threshold | value |',
    '|---|---|',
    `| merged Guide bullets (R) | ${v.r.length} |`,
    `| merged Caveats (F) | ${v.f.length} |`,
    `| first R merge | ${v.firstR ? `${v.firstR.slice(0, 10)} (${v.ageDays} days ago)` : 'none yet'} |`,
    '',
    '## What the factory learned (Guide)',
    '',
    ...v.r.map(line),
    '',
    '## What went wrong (Caveats)',
    '',
    ...v.f.map(line),
    '',
    '## Next, by hand',
    '',
    '1. Decide whether this is a real axis of the engine or a rule that belongs in a work pack.',
    '2. If it is: design it with an AI pair (an override key if needed, a public function or an enum value), with a docstring of all nine sections and tests of its own.',
    '3. Open an ordinary pull request (no `[CORELOOP-` marking): a person reviews and merges it.',
    '',
  ].join('\n');
}

/** Writes the proposal; an existing proposal file of the same day is left as it is. */
export async function writeProposal(file: string, text: string): Promise<'written' | 'exists'> {
  try {
    await access(file);
    return 'exists';
  } catch {
    await writeFileAtomic(file, text);
    return 'written';
  }
}
