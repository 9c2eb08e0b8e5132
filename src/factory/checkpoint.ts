// A checkpoint, after every bundle and at every stop: the run's evidence is sealed, the state written, and
// both committed with G7-* trailers, then pushed. The one place a run's evidence pack is sealed and handed
// to git, and (deliverEvidence) the one push path. A push the remote refuses is parked on the side branch
// g7/unpushed/<run> and remembered on the run: the truck stops, no later checkpoint of this process tries
// again, and the next job (any clone) lands the side branch before it departs.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { CardResult, FactoryState, JournalEvent, PacketSlot, VerifyReport } from '../contracts/types.gen.js';
import { toRepoPath } from '../ssot/paths.js';
import { OPS_120PLUS120, type TruckName } from '../truck/pack.js';
import { PushRefused, type Git, type Trailers } from '../git/git.js';
import { parkHead, parkedBranch } from '../git/unpushed.js';
import { forgetWritten, keepWrittenIn, noteWrite, writtenFiles } from '../ssot/written.js';
import type { Layout } from '../ssot/layout.js';
import { faultPoint } from '../host/faults.js';
import { cardDir, writeRunEvidence, type EvidenceLedger } from './evidence.js';
import { writeState } from './state.js';
import { pushAnswers, pushAuditLog } from './store-sync.js';
import type { RunLog } from './runlog.js';
import type { FactoryDeps } from './deps.js';

export interface ActiveRun {
  id: string;
  day: string;
  round: number;
  truck: TruckName;
  lanes: number[] | undefined;
  startedAt: string;
  log: RunLog;
  /** This run's card results, as journaled: read once at the start, kept in step with every append. */
  results: Map<string, JournalEvent>;
  /** The summaries of the cards with a result, kept as they finish (read once from the pack for cards an earlier process ran). */
  summaries: Map<string, CardResult>;
  /** The digest of every file of the run's evidence pack: what a checkpoint seals without reading the pack again. */
  ledger: EvidenceLedger;
  /** A card got a result (PASS or FAIL) in this process: what tells a resume that made progress from one that did not. */
  progressed: boolean;
  /** Set when the remote refused a push: why. */
  pushRefused?: string | undefined;
  /** Where the refused commits were parked on the remote (g7/unpushed/<run>); null when that failed too. */
  parked?: string | null | undefined;
}

/** A push the remote refused: why, and the side branch that holds the commits (null: none could be pushed). */
export interface Undelivered {
  reason: string;
  message: string;
  parked: string | null;
}

/**
 * The push path: HEAD to the evidence branch (races rebased, transient failures retried); refused → HEAD
 * parked on g7/unpushed/<run> of the same remote, where the next job finds it. Undefined when delivered.
 */
export async function deliverEvidence(deps: FactoryDeps, run: string): Promise<Undelivered | undefined> {
  const remote = deps.config.git.remote;
  try {
    await deps.git!.pushWithRetry(remote, await pushBranch(deps));
    return undefined;
  } catch (err) {
    if (!(err instanceof PushRefused)) throw err;
    deps.warn(err.message);
    const failed = await parkHead(deps.git!, remote, run);
    if (failed) {
      deps.warn(`git push to ${remote} ${parkedBranch(run)} failed too: ${failed}`);
      return { reason: err.reason, message: err.message, parked: null };
    }
    deps.warn(`the refused commits are parked on ${remote} ${parkedBranch(run)}: the next g7 run --push (any clone of ${remote}) lands them before it departs`);
    return { reason: err.reason, message: err.message, parked: parkedBranch(run) };
  }
}

export interface CheckpointOptions {
  commit: boolean;
  push: boolean;
}

/** Builds the verify report of a run from its journaled results (one entry per card) and the cards' summaries. */
async function buildReport(deps: FactoryDeps, run: ActiveRun, state: FactoryState['state'], slots: PacketSlot[]): Promise<{ report: VerifyReport; outputs: string[] }> {
  const cards: CardResult[] = [];
  const outputs: string[] = [];
  for (const s of slots) {
    const e = run.results.get(s.card.id);
    if (!e) continue;
    let summary = run.summaries.get(s.card.id);
    if (!summary) {
      try {
        summary = JSON.parse(await readFile(path.join(cardDir(deps.layout, run.id, s.slot, s.card.id), 'summary.json'), 'utf8')) as CardResult;
      } catch {
        // A SKIP has no card folder; its reason is in the journal.
        summary = { id: s.card.id, slot: s.slot, lane: s.card.lane, type: s.card.type, status: e.status ?? 'SKIP', attempts: 0, accept: [], failfast: [], triage: null, duration_ms: 0, tokens: { in: 0, out: 0 }, cost_usd: 0, outputs: [], detail: e.detail ?? '' };
      }
      run.summaries.set(s.card.id, summary);
    }
    cards.push(summary);
    for (const o of e.outputs ?? []) outputs.push(o.path);
  }
  const count = (st: string) => cards.filter((c) => c.status === st).length;
  const tokens = cards.reduce((t, c) => ({ in: t.in + c.tokens.in, out: t.out + c.tokens.out }), { in: 0, out: 0 });
  const report: VerifyReport = {
    schema_version: 1, run_id: run.id, day: run.day, round: run.round, truck: run.truck, started_at: run.startedAt, finished_at: deps.now(), state,
    counts: { passed: count('PASS'), failed: count('FAIL'), skipped: count('SKIP'), pending: slots.length - cards.length },
    cost_usd: Number(cards.reduce((a, c) => a + c.cost_usd, 0).toFixed(6)), tokens, cards,
  };
  return { report, outputs };
}

/**
 * Commits what this process wrote (and what a killed one before it wrote and never committed): its files
 * under the SSOT, and the cards' outputs outside it, by name, nothing else. Returns the files committed
 * (empty when nothing changed). Throws when git does; the files then stay pending for the next commit.
 */
export async function commitWritten(git: Git, layout: Layout, outputs: string[], subject: string, trailers: Trailers, opts: { maintenance?: boolean } = {}): Promise<string[]> {
  const ssot = layout.ssotDir + path.sep;
  const noted = writtenFiles();
  const files = noted.filter((abs) => abs.startsWith(ssot)).map((abs) => toRepoPath(layout.repoRoot, abs));
  // An output outside the SSOT may come from a card's own command, which g7 does not see writing it.
  const ssotRel = toRepoPath(layout.repoRoot, layout.ssotDir);
  for (const o of outputs) if (!o.startsWith(ssotRel + '/') && !o.startsWith('../')) files.push(o);
  const committed = await git.commitFiles(files, subject, trailers, opts);
  // Committed, ignored by git, or outside what a commit of the SSOT covers: no longer pending.
  forgetWritten(noted);
  return committed;
}

/** From now on, every file this process writes is kept on a list in git's folder, until it is committed. */
export async function keepWrittenFiles(git: Git): Promise<void> {
  keepWrittenIn(await git.gitPath('g7-written'));
}

/** One line naming what a person changed under the SSOT and the run left uncommitted (none: undefined). */
export async function leftUncommitted(git: Git, layout: Layout, also: string[] = []): Promise<string | undefined> {
  const ssotRel = toRepoPath(layout.repoRoot, layout.ssotDir);
  const ours = new Set([...writtenFiles().map((abs) => toRepoPath(layout.repoRoot, abs)), ...also]);
  const left = (await git.uncommitted(ssotRel)).filter((f) => !ours.has(f) && !/(^|\/)state\/run\.lock$/.test(f) && !/(^|\/)\.[^/]*\.tmp-[^/]*$/.test(f));
  if (left.length === 0) return undefined;
  const shown = left.slice(0, 3).join(', ') + (left.length > 3 ? `, and ${left.length - 3} more` : '');
  return `left uncommitted under ${ssotRel}/ (not written by g7; commit them yourself): ${left.length} path${left.length === 1 ? '' : 's'}: ${shown}`;
}

/** The run's log, appended to as the run goes: in every commit of the run. */
function runLogFiles(deps: FactoryDeps, run: ActiveRun): string[] {
  return ['stdout.txt', 'stderr.txt'].map((n) => toRepoPath(deps.layout.repoRoot, path.join(run.ledger.dir, n)));
}

/** The branch the evidence goes to: git.branch, else the branch checked out (HEAD when detached: refused by the push). */
export async function pushBranch(deps: FactoryDeps): Promise<string> {
  return deps.config.git.branch ?? (await deps.git!.currentBranch());
}

/** Seals the evidence, writes the state, commits (and pushes). `exitCode` is the run's, once it has stopped. */
export async function checkpoint(deps: FactoryDeps, opts: CheckpointOptions, run: ActiveRun, slots: PacketSlot[], state: FactoryState, bundle: number | undefined, exitCode: number | undefined): Promise<void> {
  const { report, outputs } = await buildReport(deps, run, state.state, slots);
  // Said in the run's log (before it is sealed) at the stop: one scan of the SSOT per run.
  if (opts.commit && deps.git && bundle === undefined) {
    const left = await leftUncommitted(deps.git, deps.layout, runLogFiles(deps, run));
    if (left) deps.log(left);
  }
  run.log.flush();
  const digest = await writeRunEvidence(deps.layout, run.ledger, { report, exitCode, outputs }, deps.now());
  state.updated_at = deps.now();
  state.heartbeat_at = state.updated_at;
  faultPoint('checkpoint.state');
  await writeState(deps.layout, state);
  if (!opts.commit || !deps.git) return;
  const where = bundle ? `bundle ${bundle}/${OPS_120PLUS120.bundles}` : 'stop';
  const lane = deps.layout.lane?.run === run.id ? deps.layout.lane.lane : undefined;
  const subject = `g7: ${run.id}${lane ? ` lane ${lane}` : ''} round ${run.round} truck ${run.truck} ${where}: ${state.state}, ${report.counts.passed} passed, ${report.counts.failed} failed`;
  const trailers = {
    'G7-Run': run.id, 'G7-Day': run.day, 'G7-Round': run.round, 'G7-Truck': run.truck, 'G7-Bundle': bundle ?? state.bundle ?? 0, 'G7-State': state.state,
    'G7-Passed': report.counts.passed, 'G7-Failed': report.counts.failed, 'G7-Manifest': `sha256:${digest}`, ...(lane ? { 'G7-Lane': lane } : {}),
  };
  try {
    // Between bundles git starts no gc or maintenance of its own; the commit at the stop lets it.
    for (const f of runLogFiles(deps, run)) noteWrite(path.join(deps.layout.repoRoot, f));
    await commitWritten(deps.git, deps.layout, outputs, subject, trailers, { maintenance: bundle === undefined });
  } catch (err) {
    // The files are the record; a failed commit is reported, and the next run commits them.
    deps.warn(`git: ${(err as Error).message}`);
    return;
  }
  if (!opts.push) return;
  // The answers and the audit records first: they travel on their own branches, also when the evidence
  // push is refused.
  await pushAnswers(deps, run.id);
  await pushAuditLog(deps, run.id);
  if (run.pushRefused) {
    // No second try on the branch; the side branch gets what was committed since it was parked (the stop).
    if (run.parked) {
      const failed = await parkHead(deps.git, deps.config.git.remote, run.id);
      if (failed) {
        deps.warn(`git push to ${deps.config.git.remote} ${run.parked} failed: ${failed}; the last commits of ${run.id} are only in this clone`);
        run.parked = null;
      }
    }
    return;
  }
  const refused = await deliverEvidence(deps, run.id);
  if (refused) {
    run.pushRefused = refused.reason;
    run.parked = refused.parked;
  }
}
