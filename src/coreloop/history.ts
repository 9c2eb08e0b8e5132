// What coreloop has done, read from git history alone: `[CORELOOP-R]`/`[CORELOOP-F]` commits that reached
// the checked-out branch (through a merge commit, a squash or a rebase), the reverts of them, the branches
// still open, and whether a merged change made a docstring's shape worse. Status, the stability gate,
// propose-axis and the "already merged or proposed" check of the miners all stand on this. The forge adds
// what git alone cannot tell: pull requests still open, closed without merging (a person said no), and
// merges that never reached this clone's history.
import type { Git } from '../git/git.js';
import type { Forge } from '../forge/forge.js';
import { checkShape, loadSkill, parseTarget, SkillError } from './skill/doc.js';

export interface CoreloopCommit {
  sha: string;
  phase: 'R' | 'F';
  subject: string;
  /** The first paragraph of the body: the bullet's text (or why it was retired). */
  text: string;
  trailers: Record<string, string>;
  /** When it reached the branch: the merge commit's date, or its own for a squash or rebase. */
  mergedAt: string;
  /** The first-parent commit that brought it in (the merge, or itself). */
  via: string;
}

/** One way a merged coreloop commit's bullet left the branch. */
export interface Revert {
  /** The commit that made it leave (the revert, or the commit that removed the bullet id). */
  sha: string;
  date: string;
  /** The coreloop commit whose bullet left (full sha, or the abbreviation a revert message gave). */
  reverted: string;
  /** `revert`: its commit was reverted; `revert-merge`: the merge that brought it in was (`git revert -m 1`); `removed`: a later commit removed its bullet id. */
  how: 'revert' | 'revert-merge' | 'removed';
}

/** What a coreloop pull request's body carries about its candidate (an HTML comment, invisible on GitHub). */
export interface PullMarker {
  phase: 'R' | 'F';
  key: string;
  bullet: string;
  engine: string;
  axis: string;
  action: string;
  target: string;
}

const MARKER = /<!-- g7-coreloop: (\{.*?\}) -->/;

export function pullMarker(m: PullMarker): string {
  return `<!-- g7-coreloop: ${JSON.stringify(m)} -->`;
}

export function readPullMarker(body: string): PullMarker | undefined {
  const m = MARKER.exec(body);
  if (!m) return undefined;
  try {
    const v = JSON.parse(m[1]!) as PullMarker;
    return typeof v.key === 'string' && (v.phase === 'R' || v.phase === 'F') ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A coreloop pull request on the forge. */
export interface CoreloopPull {
  number: number;
  url: string;
  title: string;
  state: 'open' | 'merged' | 'closed';
  /** When it was merged or closed; when it was opened, while open. */
  at: string;
  marker: PullMarker | undefined;
}

export interface History {
  merged: CoreloopCommit[];
  reverts: Revert[];
  open: { branch: string; sha: string; key: string | undefined; phase: string | undefined; url?: string | undefined }[];
  /** Pull requests closed without merging: a person's no. Empty without a forge. */
  closed: CoreloopPull[];
  /** Why the forge was not consulted (no token, no GitHub remote, an error), when it was not. */
  forgeNote?: string | undefined;
  /** Merged changes after which their target's shape had more problems than before. */
  shapeRegressions: { sha: string; target: string; before: number; after: number }[];
}

const US = '\x1f';
const RS = '\x1e';
const FORMAT = `%H${US}%P${US}%cI${US}%s${US}%b${US}%(trailers:only,unfold)${RS}`;

interface LogEntry {
  sha: string;
  parents: string[];
  date: string;
  subject: string;
  body: string;
  trailers: Record<string, string>;
}

async function log(git: Git, args: string[]): Promise<LogEntry[]> {
  const r = await git.run(['log', `--format=${FORMAT}`, ...args], { allowFail: true });
  if (r.code !== 0) return [];
  const out: LogEntry[] = [];
  for (const rec of r.stdout.split(RS)) {
    const [sha, parents, date, subject, body, trailerText] = rec.replace(/^\n/, '').split(US);
    if (!sha) continue;
    const trailers: Record<string, string> = {};
    for (const line of (trailerText ?? '').split('\n')) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
      if (m) trailers[m[1]!] = m[2]!;
    }
    out.push({ sha, parents: (parents ?? '').split(' ').filter(Boolean), date: date!, subject: subject!, body: body ?? '', trailers });
  }
  return out;
}

const PHASE = /^\[CORELOOP-([RF])\]/;

function asCoreloop(e: LogEntry, via: LogEntry): CoreloopCommit | undefined {
  if (e.parents.length > 1) return undefined; // a merge titled like its PR: the commits it brings count
  const m = PHASE.exec(e.subject) ?? (e.trailers['G7-Coreloop'] ? [, e.trailers['G7-Coreloop']] : null);
  if (!m || (m[1] !== 'R' && m[1] !== 'F')) return undefined;
  const text = e.body.split(/\n\s*\n/)[0]!.trim();
  return { sha: e.sha, phase: m[1], subject: e.subject, text, trailers: e.trailers, mergedAt: via.date, via: via.sha };
}

async function blobText(git: Git, rev: string, file: string): Promise<string | undefined> {
  const r = await git.run(['cat-file', 'blob', `${rev}:${file}`], { allowFail: true });
  return r.code === 0 ? r.stdout : undefined;
}

async function shapeCount(text: string | undefined, spec: string): Promise<number | undefined> {
  if (text === undefined) return undefined;
  try {
    return checkShape(await loadSkill(parseTarget(spec), Buffer.from(text, 'utf8'))).length;
  } catch (err) {
    if (err instanceof SkillError) return undefined;
    throw err;
  }
}

/**
 * The first-parent commit after `c` arrived that took its bullet id out of its target file, when the id is
 * no longer there at HEAD (a retirement, a hand edit, a revert git did not name).
 */
async function bulletRemoval(git: Git, c: CoreloopCommit): Promise<{ sha: string; date: string } | undefined> {
  const id = c.trailers['G7-Bullet'];
  const target = c.trailers['G7-Target'];
  if (!id || !target || c.trailers['G7-Action'] === 'retire' || !/^[0-9a-f]{7,40}$/.test(c.via)) return undefined;
  const file = parseTarget(target).file;
  const now = await blobText(git, 'HEAD', file);
  if (now !== undefined && now.includes(id)) return undefined;
  const changes = await log(git, ['--first-parent', `-S${id}`, `${c.via}..HEAD`, '--', file]);
  const last = changes[0];
  return last ? { sha: last.sha, date: last.date } : undefined;
}

export async function readHistory(git: Git): Promise<History> {
  const h: History = { merged: [], reverts: [], open: [], closed: [], shapeRegressions: [] };
  if (!(await git.isRepo())) return h;
  const head = await git.run(['rev-parse', '--verify', '-q', 'HEAD'], { allowFail: true });
  if (head.code !== 0) return h;
  const firstParent = await log(git, ['--first-parent', 'HEAD']);
  // Oldest first, each commit with the first-parent commit that brought it in.
  const arrived: { e: LogEntry; via: LogEntry }[] = [];
  for (const e of firstParent.reverse()) {
    if (e.parents.length > 1) for (const inner of (await log(git, [`${e.parents[0]}..${e.sha}`])).reverse()) arrived.push({ e: inner, via: e });
    else arrived.push({ e, via: e });
  }
  for (const { e, via } of arrived) {
    const c = asCoreloop(e, via);
    if (c) h.merged.push(c);
    const rev = /This reverts commit ([0-9a-f]{7,40})/.exec(e.body)?.[1];
    if (!rev) continue;
    // A revert of a merge (`git revert -m 1`) names the merge commit: every coreloop commit it brought leaves.
    const byMerge = h.merged.filter((m) => m.via.startsWith(rev) && !m.sha.startsWith(rev));
    for (const m of byMerge) h.reverts.push({ sha: e.sha, date: via.date, reverted: m.sha, how: 'revert-merge' });
    const own = h.merged.find((m) => m.sha.startsWith(rev));
    if (own || (!byMerge.length && /^Revert "\[CORELOOP-/.test(e.subject))) h.reverts.push({ sha: e.sha, date: via.date, reverted: own?.sha ?? rev, how: 'revert' });
  }
  for (const c of h.merged) {
    if (h.reverts.some((r) => c.sha.startsWith(r.reverted))) continue;
    const removed = await bulletRemoval(git, c);
    if (removed) h.reverts.push({ ...removed, reverted: c.sha, how: 'removed' });
  }
  h.reverts.sort((a, b) => a.date.localeCompare(b.date));
  const refs = await git.run(['for-each-ref', '--format=%(refname:short) %(objectname)', 'refs/heads/skill/docstring-*'], { allowFail: true });
  for (const line of refs.stdout.split('\n').filter(Boolean)) {
    const [branch, sha] = line.split(' ') as [string, string];
    const merged = await git.run(['merge-base', '--is-ancestor', sha, 'HEAD'], { allowFail: true });
    if (merged.code === 0) continue;
    const tip = (await log(git, ['-1', sha]))[0];
    const key = tip?.trailers['G7-Candidate-Key'];
    if (key && h.merged.some((c) => c.trailers['G7-Candidate-Key'] === key)) continue; // squash-merged, branch kept
    h.open.push({ branch, sha, key, phase: tip?.trailers['G7-Coreloop'] });
  }
  const seen = new Set<string>();
  for (const c of h.merged) {
    const target = c.trailers['G7-Target'];
    if (!target || seen.has(`${c.via}|${target}`)) continue;
    seen.add(`${c.via}|${target}`);
    const file = parseTarget(target).file;
    const [before, after] = await Promise.all([shapeCount(await blobText(git, `${c.via}^1`, file), target), shapeCount(await blobText(git, c.via, file), target)]);
    if (before !== undefined && after !== undefined && after > before) h.shapeRegressions.push({ sha: c.sha, target, before, after });
  }
  return h;
}

/** The coreloop pull requests on the forge (head skill/docstring-*), newest first. */
export async function readPulls(forge: Forge): Promise<CoreloopPull[]> {
  // Search, not the list of every pull request: the cost follows coreloop's pull requests, not the repository's.
  const all = await forge.searchPullRequests('skill/docstring-');
  return all.map((p) => ({
    number: p.number,
    url: p.url,
    title: p.title,
    state: p.mergedAt ? 'merged' : p.state === 'open' ? 'open' : 'closed',
    at: p.mergedAt ?? p.closedAt ?? p.createdAt,
    marker: readPullMarker(p.body),
  }));
}

/**
 * History with the forge's view added: a merged pull request whose commit is not in this clone's history
 * counts as merged (by candidate key), open ones as open, and ones closed without merging as closed.
 */
export function withPulls(h: History, pulls: CoreloopPull[]): History {
  const mergedKeys = new Set(h.merged.map((c) => c.trailers['G7-Candidate-Key']).filter(Boolean));
  const openKeys = new Set(h.open.map((o) => o.key).filter(Boolean));
  const merged = [...h.merged];
  const open = [...h.open];
  const closed: CoreloopPull[] = [];
  for (const p of pulls) {
    const m = p.marker;
    const phase = m?.phase ?? (/^\[CORELOOP-F\]/.test(p.title) ? 'F' : 'R');
    if (p.state === 'merged') {
      if (m && mergedKeys.has(m.key)) continue;
      if (m) mergedKeys.add(m.key);
      const trailers: Record<string, string> = m ? { 'G7-Coreloop': m.phase, 'G7-Candidate-Key': m.key, 'G7-Bullet': m.bullet, 'G7-Engine': m.engine, 'G7-Axis': m.axis, 'G7-Action': m.action, 'G7-Target': m.target } : { 'G7-Coreloop': phase };
      merged.push({ sha: `#${p.number}`, phase, subject: p.title, text: p.title.replace(/^\[CORELOOP-[RF]\]\s*/, ''), trailers, mergedAt: p.at, via: p.url });
    } else if (p.state === 'open') {
      if (m && openKeys.has(m.key)) {
        const o = open.find((x) => x.key === m.key);
        if (o) o.url = p.url;
        continue;
      }
      open.push({ branch: `#${p.number}`, sha: '', key: m?.key, phase, url: p.url });
    } else closed.push(p);
  }
  merged.sort((a, b) => a.mergedAt.localeCompare(b.mergedAt));
  return { ...h, merged, open, closed: [...h.closed, ...closed] };
}

export interface Gate {
  consecutiveCleanR: number;
  /** The commits each figure counted, so a person can check them with `git show`. */
  counted: { cleanR: string[]; reverts: Revert[]; shapeRegressions: string[] };
  revertsLast3Months: number;
  shapeRegressions: number;
  firstRMerge: string | undefined;
  /** 0: everything by hand; 1: a nightly job writes candidates; 2: it may also open Guide-append draft PRs. */
  tier: 0 | 1 | 2;
  next: string;
}

export const GATE = { cleanRMerges: 30, revertWindowDays: 90, nightlyAfterDays: 30 } as const;

export function stabilityGate(h: History, now: Date): Gate {
  const isReverted = (sha: string) => h.reverts.some((r) => sha.startsWith(r.reverted));
  const regressed = new Set(h.shapeRegressions.map((r) => r.sha));
  const rs = h.merged.filter((c) => c.phase === 'R');
  const cleanR: string[] = [];
  for (let i = rs.length - 1; i >= 0; i--) {
    if (isReverted(rs[i]!.sha) || regressed.has(rs[i]!.sha)) break;
    cleanR.push(rs[i]!.sha);
  }
  const streak = cleanR.length;
  const since = now.getTime() - GATE.revertWindowDays * 86400e3;
  const recent = h.reverts.filter((r) => Date.parse(r.date) >= since);
  // One revert of a merge that brought in two bullets is one revert.
  const recentReverts = new Set(recent.map((r) => r.sha)).size;
  const first = rs[0]?.mergedAt;
  const aged = first !== undefined && now.getTime() - Date.parse(first) >= GATE.nightlyAfterDays * 86400e3;
  const stable = streak >= GATE.cleanRMerges && recentReverts === 0 && h.shapeRegressions.length === 0;
  const tier = stable && aged ? 2 : aged ? 1 : 0;
  const next =
    tier === 2 ? 'stable: the nightly job may open Guide-append draft PRs; a person still merges every one'
    : tier === 1 ? `tier 2 needs ${GATE.cleanRMerges} consecutive clean R merges (now ${streak}), no revert in ${GATE.revertWindowDays} days (now ${recentReverts}) and no shape regression (now ${h.shapeRegressions.length})`
    : first === undefined ? 'everything by hand until the first R merge has aged 30 days'
    : `everything by hand until ${new Date(Date.parse(first) + GATE.nightlyAfterDays * 86400e3).toISOString().slice(0, 10)} (30 days after the first R merge)`;
  const counted = { cleanR, reverts: recent, shapeRegressions: h.shapeRegressions.map((r) => r.sha) };
  return { consecutiveCleanR: streak, counted, revertsLast3Months: recentReverts, shapeRegressions: h.shapeRegressions.length, firstRMerge: first, tier, next };
}
