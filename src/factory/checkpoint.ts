// A checkpoint, after every bundle and at every stop: the run's evidence is sealed, the state written, and
// both committed with G7-* trailers, then pushed. The one place a run's evidence pack is sealed and handed
// to git. A push the remote refuses is remembered on the run: the truck stops, and no later checkpoint of
// this process tries again (the next job pushes first, before it departs).
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { CardResult, FactoryState, JournalEvent, PacketSlot, VerifyReport } from '../contracts/types.gen.js';
import { toRepoPath } from '../ssot/paths.js';
import { OPS_120PLUS120, type TruckName } from '../truck/pack.js';
import { PushRefused } from '../git/git.js';
import { faultPoint } from '../host/faults.js';
import { cardDir, writeRunEvidence, type EvidenceLedger } from './evidence.js';
import { writeState } from './state.js';
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

/** What a commit of this SSOT covers: the SSOT folder and the outputs of the run's cards, nothing else. */
function gitPaths(deps: FactoryDeps, outputs: string[]): string[] {
  const ssotRel = toRepoPath(deps.layout.repoRoot, deps.layout.ssotDir);
  return [ssotRel, ...outputs.filter((o) => !o.startsWith(ssotRel + '/'))];
}

/** The branch the evidence goes to: git.branch, else the branch checked out (HEAD when detached: refused by the push). */
export async function pushBranch(deps: FactoryDeps): Promise<string> {
  return deps.config.git.branch ?? (await deps.git!.currentBranch());
}

/** Seals the evidence, writes the state, commits (and pushes). `exitCode` is the run's, once it has stopped. */
export async function checkpoint(deps: FactoryDeps, opts: CheckpointOptions, run: ActiveRun, slots: PacketSlot[], state: FactoryState, bundle: number | undefined, exitCode: number | undefined): Promise<void> {
  const { report, outputs } = await buildReport(deps, run, state.state, slots);
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
    await deps.git.commitPaths(gitPaths(deps, outputs), subject, trailers, { maintenance: bundle === undefined });
  } catch (err) {
    // The files are the record; a failed commit is reported, and the next run commits them.
    deps.warn(`git: ${(err as Error).message}`);
    return;
  }
  if (!opts.push || run.pushRefused) return;
  try {
    await deps.git.pushWithRetry(deps.config.git.remote, await pushBranch(deps));
  } catch (err) {
    if (!(err instanceof PushRefused)) throw err;
    run.pushRefused = err.reason;
    deps.warn(err.message);
  }
}
