// Phases R and F up to the local commit: apply one candidate to its skill docstring, run the static checks
// and the reproduction check, then (only with --confirm) commit the change on its own branch
// `skill/docstring-{engine}-{axis-slug}-{YYYYMMDD}` with a `[CORELOOP-R]` / `[CORELOOP-F]` subject and
// trailers naming the candidate. The commit is built with git plumbing from HEAD: the working tree and the
// checked-out branch are never touched, and one `git revert` of it restores the file byte for byte.
// The draft pull request goes through a seam that the forge adapter fills; nothing here ever merges.
import path from 'node:path';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { G7Error, UsageError, type Problem } from '../contracts/errors.js';
import { Git } from '../git/git.js';
import type { Candidate } from './candidates.js';
import { appendBullet, loadSkill, parseTarget, removeBullet, staticChecks, SkillError, type EditResult, type SkillDoc } from './skill/doc.js';
import type { Bullet } from './skill/bullets.js';
import { axisSlug } from './slug.js';
import { pullMarker } from './history.js';

export type Phase = 'R' | 'F';

export interface ReproductionResult {
  /** False when no case could be replayed (the note says why): the change is then judged from the evidence alone. */
  ran: boolean;
  passed: boolean;
  /** The per-case table (Markdown) for the pull request. */
  table: string;
  note: string;
}

/** The replay of recorded cases with the current docstring (arm A) and with the change (arm B): reproduce.ts. */
export interface ReproductionCheck {
  run(c: Candidate, before: SkillDoc, after: SkillDoc): Promise<ReproductionResult>;
}

export interface PullRequestPlan {
  head: string;
  base: string;
  title: string;
  body: string;
  draft: true;
  labels: string[];
}

/** Pushes the branch and opens the draft PR (pulls.ts). Implementations must never enable auto-merge. */
export interface PullRequests {
  /** `failed`: it was tried (a token and a repository were there) and the push or GitHub said no. */
  /** `note`: opened, with something a person should know (it was open already; a label did not go on). */
  openDraft(pr: PullRequestPlan): Promise<{ url: string; note?: string } | { notOpened: string; failed?: boolean }>;
}

/** Without a forge: the branch stays local and the person is told how to go on. */
export function pullRequestsNotAvailable(why: string): PullRequests {
  return {
    async openDraft(pr) {
      return { notOpened: `${why}; push the branch (git push origin ${pr.head}) and open a draft PR from it by hand, labelled coreloop` };
    },
  };
}

export interface PromoteDeps {
  repoRoot: string;
  git: Git;
  /** The environment git runs with (the temporary index of the commit is added to it). */
  env: Record<string, string | undefined>;
  now: string;
  reproduction: ReproductionCheck;
  /** A person's explicit `--no-replay`: commit even when no recorded case could be replayed (the PR says so). */
  allowUnreplayed: boolean;
  pullRequests: PullRequests;
  /**
   * Where the commit puts the evidence a reviewer checks, relative to the repository (the candidate as the
   * file had it, the reproduction table): `ssot/audit/reproductions`. The pull request carries it with the change.
   */
  evidenceDir: string;
}

export interface PromoteResult {
  status: 'dry-run' | 'committed' | 'already-applied' | 'already-on-branch';
  target: string;
  branch: string;
  diff: string;
  pr: PullRequestPlan;
  commit?: string | undefined;
  prResult?: { url: string; note?: string } | { notOpened: string; failed?: boolean } | undefined;
  reproduction: { ran: boolean; passed: boolean; note: string; table: string };
  reason?: string;
}

function bulletOf(c: Candidate, now: string): Bullet {
  return { id: c.bullet.id, text: c.bullet.text, provenance: { candidate: c.id, records: c.record_ids, recordsTotal: c.evidence.records, model: c.reflection?.model ?? c.evidence.models[0] ?? 'unknown', date: now.slice(0, 10) } };
}

function edit(c: Candidate, now: string): (doc: SkillDoc) => Promise<EditResult> {
  return c.action === 'retire' ? (doc) => removeBullet(doc, c.bullet.id) : (doc) => appendBullet(doc, c.section, bulletOf(c, now));
}

/** The evidence the proposing commit carries: `<evidenceDir>/<date>-<candidate key>.json`. */
export function evidenceFile(evidenceDir: string, c: Candidate, now: string): string {
  return path.posix.join(evidenceDir.split(path.sep).join('/'), `${now.slice(0, 10)}-${c.key}.json`);
}

export function branchName(c: Candidate, now: string): string {
  return `skill/docstring-${axisSlug(c.engine, 20)}-${axisSlug(c.axis)}-${now.slice(0, 10).replace(/-/g, '')}`;
}

function subject(c: Candidate, phase: Phase): string {
  const file = path.basename(parseTarget(c.target!).file) + (parseTarget(c.target!).symbol ? `::${parseTarget(c.target!).symbol}` : '');
  const what = c.action === 'retire' ? `retire ${c.bullet.id}` : `${c.section}: ${c.bullet.text}`;
  const s = `[CORELOOP-${phase}] ${file} ${what}`;
  return s.length > 72 ? `${s.slice(0, 71)}…` : s;
}

function trailers(c: Candidate, phase: Phase): Record<string, string> {
  return {
    'G7-Coreloop': phase, 'G7-Candidate': c.id, 'G7-Candidate-Key': c.key, 'G7-Bullet': c.bullet.id, 'G7-Action': c.action,
    'G7-Target': c.target!, 'G7-Section': c.section, 'G7-Engine': c.engine, 'G7-Axis': c.axis,
  };
}

function prBody(c: Candidate, candidateFile: string, checks: Problem[], repro: ReproductionResult, diff: string, evidence: string): string {
  const e = c.evidence;
  return [
    `Coreloop ${c.action === 'retire' ? `proposes retiring \`${c.bullet.id}\` from` : `proposes a ${c.section} bullet for`} \`${c.target}\`.`,
    '',
    c.action === 'retire' ? `Why: ${c.bullet.text}` : `> - ${c.bullet.text}`,
    '',
    ...(c.reflection ? [`Written by the reflector (${c.reflection.model}) from ${c.reflection.cases.length} recorded case(s): ${c.reflection.cases.map((id) => `\`${id}\``).join(', ')}${c.reflection.why ? `; its reason: ${c.reflection.why}` : ''}.`, ''] : []),
    `Candidate \`${c.id}\` (key \`${c.key}\`) from \`${candidateFile}\`: ${e.records} records, ${e.unique_questions} different inputs, ` +
      `success ${e.successes}/${e.records}, 95% lower bound ${(e.wilson_lower * 100).toFixed(0)}%${e.signal ? `; failure ${e.signal.type} (${e.signal.cause})` : ''}; kind of work \`${c.category_hash}\`.`,
    '',
    `Static checks: ${checks.length === 0 ? 'passed (only docstring bytes changed, the file parses, applying again changes nothing, the budget holds, the shape is no worse)' : checks.map((p) => p.message).join('; ')}.`,
    `Reproduction check: ${repro.ran ? (repro.passed ? `passed (${repro.note})` : `FAILED: ${repro.note}`) : `${repro.note}; proposed unchecked with --no-replay`}.`,
    ...(repro.table ? ['', repro.table] : []),
    '',
    `The commit carries the evidence with the change: \`${evidence}\` holds the candidate as mined and this reproduction table, so they stay what this pull request cites.`,
    '',
    '```diff',
    diff.trimEnd(),
    '```',
    '',
    'A person merges this; coreloop never enables auto-merge. To undo after merging: `git revert` the commit.',
    '',
    pullMarker({ phase: c.section === 'Guide' && c.action === 'append' ? 'R' : 'F', key: c.key, bullet: c.bullet.id, engine: c.engine, axis: c.axis, action: c.action, target: c.target! }),
  ].join('\n');
}

async function unifiedDiff(before: Buffer, after: Buffer, file: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'g7-diff-'));
  try {
    const name = path.basename(file);
    await mkdir(path.join(dir, 'a'));
    await mkdir(path.join(dir, 'b'));
    await writeFile(path.join(dir, 'a', name), before);
    await writeFile(path.join(dir, 'b', name), after);
    const r = await new Git(dir).run(['diff', '--no-index', '--no-color', '--no-prefix', '-U3', `a/${name}`, `b/${name}`], { allowFail: true });
    return r.stdout.replace(/^diff --git .*\n(index .*\n)?/, '').replace(/^--- a\/.*$/m, `--- a/${file}`).replace(/^\+\+\+ b\/.*$/m, `+++ b/${file}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Commits `files` (repository path → new content) on top of HEAD, without touching the index or working tree. */
async function commitOnBranch(git: Git, env: Record<string, string | undefined>, files: [string, Buffer][], branch: string, message: string): Promise<string> {
  const tmp = await mkdtemp(path.join(tmpdir(), 'g7-promote-'));
  try {
    const g = new Git(git.cwd, { ...env, GIT_INDEX_FILE: path.join(tmp, 'index') });
    const blobFile = path.join(tmp, 'blob');
    await writeFile(path.join(tmp, 'message'), message);
    await g.run(['read-tree', 'HEAD']);
    for (const [file, bytes] of files) {
      await writeFile(blobFile, bytes);
      const mode = (await g.run(['ls-tree', 'HEAD', '--', file])).stdout.split(/\s/)[0] || '100644';
      const blob = (await g.run(['hash-object', '-w', `--path=${file}`, blobFile])).stdout.trim();
      await g.run(['update-index', '--add', '--cacheinfo', `${mode},${blob},${file}`]);
    }
    const tree = (await g.run(['write-tree'])).stdout.trim();
    const made = await g.run(['commit-tree', tree, '-p', 'HEAD', '-F', path.join(tmp, 'message')], { allowFail: true });
    if (made.code !== 0) {
      if (/user\.email|user\.name|identity/i.test(made.stderr)) throw new UsageError('git does not know who commits: set git config user.name and user.email (a workflow sets them before g7 coreloop), then run again');
      throw new Error(`git commit-tree failed: ${made.stderr.trim()}`);
    }
    const commit = made.stdout.trim();
    // Create only: a branch that exists is never moved.
    await g.run(['update-ref', `refs/heads/${branch}`, commit, '0'.repeat(40)]);
    return commit;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/**
 * The candidate key at the tip of a branch, here or on origin (a workflow's fresh checkout has only the
 * remote's); null when the branch exists in neither place.
 */
async function branchTipKey(git: Git, branch: string): Promise<string | undefined | null> {
  for (const ref of [`refs/heads/${branch}`, `refs/remotes/origin/${branch}`]) {
    const r = await git.run(['log', '-1', '--format=%(trailers:key=G7-Candidate-Key,valueonly)', ref, '--'], { allowFail: true });
    if (r.code === 0) return r.stdout.trim() || undefined;
  }
  return null;
}

/**
 * Another coreloop branch that edits the same file and is not merged into HEAD (here or on origin): two open
 * proposals for one file would conflict, and a person reviews one change of a skill at a time.
 */
async function openBranchOnFile(git: Git, file: string, key: string): Promise<string | undefined> {
  const refs = (await git.run(['for-each-ref', '--format=%(refname)', 'refs/heads/skill/docstring-*', 'refs/remotes/origin/skill/docstring-*'], { allowFail: true })).stdout.split('\n').filter(Boolean);
  for (const ref of refs) {
    const t = (await git.run(['log', '-1', '--format=%(trailers:key=G7-Target,valueonly,separator=)%x1f%(trailers:key=G7-Candidate-Key,valueonly,separator=)', ref, '--'], { allowFail: true })).stdout.trim().split('\x1f');
    if (!t[0] || parseTarget(t[0]).file !== file || t[1]?.trim() === key) continue;
    if ((await git.run(['merge-base', '--is-ancestor', ref, 'HEAD'], { allowFail: true })).code === 0) continue;
    return ref.replace(/^refs\/(heads|remotes)\//, '');
  }
  return undefined;
}

/**
 * `g7 coreloop verify`: the candidate applied in memory, the static checks, then the reproduction check.
 * Nothing is written. Static check failures refuse it like a failed replay.
 */
export async function verifyCandidate(repoRoot: string, c: Candidate, now: string, reproduction: ReproductionCheck): Promise<ReproductionResult> {
  if (!c.target) throw new UsageError(`${c.id} has no skill target: add skills: { ${c.engine.toUpperCase()}: <file or file::symbol> } to factory.yaml and run the mining again`);
  const target = parseTarget(c.target);
  let bytes: Buffer;
  try {
    bytes = await readFile(path.resolve(repoRoot, target.file));
  } catch {
    throw new UsageError(`the skill target ${target.file} does not exist`);
  }
  try {
    const before = await loadSkill(target, bytes);
    const result = await edit(c, now)(before);
    if (!result.changed) return { ran: false, passed: true, table: '', note: `nothing to check: ${result.reason}` };
    const checks = await staticChecks(before, result.doc, edit(c, now));
    if (checks.length) return { ran: true, passed: false, table: checks.map((p) => `- ${p.message} [${p.rule}]`).join('\n'), note: 'the static checks failed' };
    return await reproduction.run(c, before, result.doc);
  } catch (err) {
    if (err instanceof SkillError) throw new G7Error('SCHEMA', [err.problem], { summary: `${c.id} cannot be applied to ${c.target}` });
    throw err;
  }
}

export async function promoteCandidate(deps: PromoteDeps, c: Candidate, candidateFile: string, phase: Phase, confirm: boolean): Promise<PromoteResult> {
  if (phase === 'R' && (c.action !== 'append' || c.section !== 'Guide')) throw new UsageError(`${c.id} is a ${c.section} ${c.action}: use g7 coreloop refine --candidate … --id ${c.id}`);
  if (phase === 'F' && c.section === 'Guide' && c.action === 'append') throw new UsageError(`${c.id} is a Guide bullet: use g7 coreloop promote --candidate … --id ${c.id}`);
  if (!c.target) throw new UsageError(`${c.id} has no skill target: add skills: { ${c.engine.toUpperCase()}: <file or file::symbol> } to factory.yaml and run the mining again`);
  const git = deps.git;
  if (!(await git.isRepo())) throw new UsageError(`${deps.repoRoot} is not a git repository: coreloop changes are proposed as commits`);
  const target = parseTarget(c.target);
  const abs = path.resolve(deps.repoRoot, target.file);
  if (path.relative(deps.repoRoot, abs).startsWith('..')) throw new UsageError(`the skill target ${c.target} is outside the repository`);
  const rel = path.relative(deps.repoRoot, abs).split(path.sep).join('/');
  const dirty = await git.run(['status', '--porcelain', '--', rel]);
  if (dirty.stdout.trim() !== '') throw new UsageError(`${rel} has changes that are not committed; commit or stash them first (the change is built on HEAD)`);
  let bytes: Buffer;
  try {
    bytes = await readFile(abs);
  } catch {
    throw new UsageError(`the skill target ${rel} does not exist`);
  }
  let before: SkillDoc;
  let result: EditResult;
  try {
    before = await loadSkill(target, bytes);
    result = await edit(c, deps.now)(before);
  } catch (err) {
    if (err instanceof SkillError) throw new G7Error('SCHEMA', [err.problem], { summary: `${c.id} cannot be applied to ${c.target}; nothing was changed` });
    throw err;
  }
  const branch = branchName(c, deps.now);
  const pr = (body: string): PullRequestPlan => ({ head: branch, base: '', title: subject(c, phase), body, draft: true, labels: ['coreloop'] });
  const none = { ran: false, passed: true, note: 'not needed', table: '' };
  if (!result.changed) return { status: 'already-applied', target: c.target, branch, diff: '', pr: pr(''), reproduction: none, reason: result.reason };
  const checks = await staticChecks(before, result.doc, edit(c, deps.now));
  if (checks.length > 0) throw new G7Error('SCHEMA', checks, { summary: `${c.id}: the static checks failed; nothing was committed` });
  // Already proposed (a dispatched job again, maybe from a fresh clone without the store): nothing to check or ask.
  if (confirm)
    for (let i = 1, name = branch; ; name = `${branch}-${++i}`) {
      const tip = await branchTipKey(git, name);
      if (tip === null) break;
      if (tip === c.key) return { status: 'already-on-branch', target: c.target, branch: name, diff: await unifiedDiff(bytes, result.bytes, rel), pr: { ...pr(''), head: name }, reproduction: { ...none, note: 'checked when it was proposed' } };
    }
  const repro = await deps.reproduction.run(c, before, result.doc);
  if (repro.ran && !repro.passed) throw new G7Error('TEST', [{ file: c.target, rule: 'coreloop.reproduction', message: `${repro.note}\n${repro.table}` }], { summary: `${c.id} was refused by the reproduction check; nothing was committed` });
  // Fail closed: a change nobody could check is not proposed, unless a person says so explicitly.
  if (!repro.ran && !deps.allowUnreplayed)
    throw new G7Error('TEST', [{ file: c.target, rule: 'coreloop.reproduction', message: `${repro.note}\n(with --no-replay a person may propose it unchecked; the pull request then says so)` }], { summary: `${c.id} could not be checked on recorded cases; nothing was committed` });
  const diff = await unifiedDiff(bytes, result.bytes, rel);
  const evidence = evidenceFile(deps.evidenceDir, c, deps.now);
  const plan = pr(prBody(c, candidateFile, checks, repro, diff, evidence));
  plan.base = (await git.currentBranch()) || 'main';
  const reproduction = { ran: repro.ran, passed: repro.passed, note: repro.note, table: repro.table };
  if (!confirm) return { status: 'dry-run', target: c.target, branch, diff, pr: plan, reproduction };
  // One open proposal per file: a person reviews one change of a skill at a time, and two would conflict.
  const open = await openBranchOnFile(git, target.file, c.key);
  if (open) throw new G7Error('TEST', [{ file: c.target, rule: 'coreloop.open-branch', message: `${open} proposes a change to ${target.file} that is not merged: one open coreloop proposal per file (merge it, or delete the branch once its pull request is closed, then run again)` }], { summary: `${c.id} was not proposed: ${target.file} has an open coreloop branch; nothing was committed` });
  let name = branch;
  for (let i = 2; ; i++) {
    const tip = await branchTipKey(git, name);
    if (tip === null) break;
    if (tip === c.key) return { status: 'already-on-branch', target: c.target, branch: name, diff, pr: { ...plan, head: name }, reproduction };
    name = `${branch}-${i}`;
  }
  const message = `${plan.title}\n\n${c.bullet.text}\n\nEvidence: ${candidateFile} ${c.id}; reproduction check: ${repro.ran ? (repro.passed ? 'passed' : 'failed') : 'not run'}.\n\n${Object.entries(trailers(c, phase)).map(([k, v]) => `${k}: ${v}`).join('\n')}\n`;
  const record = { schema_version: 1, candidate_file: candidateFile, candidate: c, reproduction, proposed_at: deps.now, branch: name };
  const commit = await commitOnBranch(git, deps.env, [[rel, result.bytes], [evidence, Buffer.from(JSON.stringify(record, null, 2) + '\n')]], name, message);
  const final = { ...plan, head: name };
  const prResult = await deps.pullRequests.openDraft(final);
  return { status: 'committed', target: c.target, branch: name, diff, pr: final, commit, prResult, reproduction };
}
