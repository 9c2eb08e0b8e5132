// `g7 coreloop status` and `shape`: counts per phase from the SSOT's files and git history, the stability
// gate that decides how much may run by itself, and the nine-section shape of a skill target.
import path from 'node:path';
import { readFile, readdir } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import type { Problem } from '../contracts/errors.js';
import type { Layout } from '../ssot/layout.js';
import { auditFiles, auditPlace } from '../ssot/audit-store.js';
import { readDecisions } from './candidates.js';
import { stabilityGate, type Gate, type History } from './history.js';
import { checkShape, loadSkill, parseTarget, SkillError } from './skill/doc.js';

export async function shapeOf(repoRoot: string, spec: string): Promise<{ target: string; problems: Problem[] }> {
  const target = parseTarget(spec);
  let bytes: Buffer;
  try {
    bytes = await readFile(path.resolve(repoRoot, target.file));
  } catch {
    return { target: spec, problems: [{ file: spec, rule: 'file.missing', message: 'file not found', hint: 'check the path (relative to the repository root)' }] };
  }
  try {
    return { target: spec, problems: checkShape(await loadSkill(target, bytes)) };
  } catch (err) {
    if (err instanceof SkillError) return { target: spec, problems: [err.problem] };
    throw err;
  }
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) n++;
  return n;
}

async function names(dir: string, re: RegExp): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => re.test(n)).sort();
}

const SHOWN = 5;
const short = (sha: string) => (/^[0-9a-f]{40}$/.test(sha) ? sha.slice(0, 7) : sha);

/** The commits a figure counted, newest first: ` (abc1234, def5678 +3)`. */
function shas(list: string[]): string {
  if (!list.length) return '';
  return ` (${list.slice(0, SHOWN).map(short).join(', ')}${list.length > SHOWN ? ` +${list.length - SHOWN}` : ''})`;
}

const HOW = { revert: 'reverted', 'revert-merge': 'its merge reverted', removed: 'bullet id removed' } as const;

function leaves(gate: Gate): string {
  const r = gate.counted.reverts;
  if (!r.length) return '';
  const shown = r.slice(-SHOWN).reverse().map((x) => `${short(x.reverted)} ${HOW[x.how]} by ${short(x.sha)}`);
  return ` (${shown.join(', ')}${r.length > SHOWN ? ` +${r.length - SHOWN}` : ''})`;
}

export interface CoreloopStatus {
  observe: { days: number; records: number };
  pattern: { files: number; latest: string | null; candidates: number };
  promote: { merged: number; open: number; rejected: number; closed: number };
  refine: { files: number; merged: number; open: number };
  axis: { proposals: number };
  gate: Gate;
  lines: string[];
}

export async function coreloopStatus(layout: Layout, h: History, now: Date): Promise<CoreloopStatus> {
  const since = new Date(now.getTime() - 30 * 86400e3).toISOString().slice(0, 10);
  const files = await auditFiles(auditPlace(layout), { since: `${since}T00:00:00.000Z`, until: now.toISOString() });
  const days = [...new Set(files.map((f) => f.day))];
  let records = 0;
  for (const f of files) records += await countLines(f.path);
  const cands = await names(path.join(layout.auditDir, 'candidates'), /-candidates\.json$/);
  let latestCount = 0;
  if (cands.length) latestCount = (JSON.parse(await readFile(path.join(layout.auditDir, 'candidates', cands.at(-1)!), 'utf8')) as { candidates: unknown[] }).candidates.length;
  const cx = await names(path.join(layout.auditDir, 'counterexamples'), /-counterexamples\.json$/);
  const proposals = await names(path.join(layout.auditDir, 'proposals'), /\.md$/);
  const rejected = (await readDecisions(layout.auditDir)).size;
  const gate = stabilityGate(h, now);
  const s = {
    observe: { days: days.length, records },
    pattern: { files: cands.length, latest: cands.at(-1) ?? null, candidates: latestCount },
    promote: { merged: h.merged.filter((c) => c.phase === 'R').length, open: h.open.filter((o) => o.phase === 'R').length, rejected, closed: h.closed.length },
    refine: { files: cx.length, merged: h.merged.filter((c) => c.phase === 'F').length, open: h.open.filter((o) => o.phase === 'F').length },
    axis: { proposals: proposals.length },
    gate,
  };
  const lines = [
    `O observe   ${s.observe.records} records in the last 30 days (${s.observe.days} day files)`,
    `P pattern   ${s.pattern.files} candidate file(s)${s.pattern.latest ? `; the newest, ${s.pattern.latest}, holds ${s.pattern.candidates}` : ''}`,
    `R promote   ${s.promote.merged} merged, ${s.promote.open} open (skill/docstring-* branches and draft PRs), ${s.promote.rejected} candidate(s) rejected, ${s.promote.closed} PR(s) closed without merging`,
    `F refine    ${s.refine.files} counterexample file(s), ${s.refine.merged} merged, ${s.refine.open} open`,
    `A axis      ${s.axis.proposals} proposal(s) (always by hand)`,
    `gate        ${gate.consecutiveCleanR} consecutive clean R merges${shas(gate.counted.cleanR)}, ${gate.revertsLast3Months} revert(s) in 3 months${leaves(gate)}, ${gate.shapeRegressions} shape regression(s)${shas(gate.counted.shapeRegressions)}`,
    `forge       ${h.forgeNote ?? `GitHub consulted: ${h.open.filter((o) => o.url).length} open and ${h.closed.length} closed coreloop PR(s) seen`}`,
    `tier        ${gate.tier} (${['everything by hand', 'a nightly job writes candidates', 'a nightly job may open Guide-append draft PRs'][gate.tier]}); ${gate.next}`,
  ];
  return { ...s, lines };
}
