// `g7 run`: one truck, end to end, and the state machine around it (SPEC 5-7).
//
// The journal is the record. Per card: evidence is written, then one `card_result` line is appended; a
// crash before that line means the card runs again (outputs are atomic, worker answers come from the cache),
// so no result is lost or counted twice. After each bundle and at every stop the run's evidence pack is
// sealed, the state file updated, and everything committed with G7-* trailers (checkpoint.ts).
//
// Before a truck departs: evidence an earlier job parked on a side branch (g7/unpushed/<run>, its push
// refused) is landed, and what is committed is pushed (a refused push stops everything here: the evidence
// reaches the remote or the job fails); a FAIL_STOP waits for a person; a RECOVERABLE stop waits for its
// retry_after without writing anything. A RECOVERABLE truck that makes no progress on three resumes in a
// row escalates to FAIL_STOP. The stop signal (SIGINT/SIGTERM) is a clean stop at the next card.
import { hostname } from 'node:os';
import type { FactoryState, JournalEvent, WorkCard } from '../contracts/types.gen.js';
import { packetFile, type Layout } from '../ssot/layout.js';
import { toRepoPath } from '../ssot/paths.js';
import { readWorkPack } from '../ssot/workpack.js';
import { appendJournal, repairJournal, readRunResults, readJournalDay, readDay } from '../ssot/journal.js';
import { readPacket } from '../truck/packets.js';
import { OPS_120PLUS120, type TruckName } from '../truck/pack.js';
import { cardSha256 } from '../plan/serialize.js';
import { deleteParked, fetchParked, landParked } from '../git/unpushed.js';
import { pullAnswers } from './store-sync.js';
import { readState, writeState, STALLS_TO_FAIL_STOP } from './state.js';
import { acquireLock, LockBusyError } from './lock.js';
import { EvidenceLedger, listRuns, nextRunId, runDir } from './evidence.js';
import { evidenceGate, unpushedGate } from './gates.js';
import { runCard } from './card.js';
import { writeReworkPack } from './rework.js';
import { decideNext } from './next.js';
import { RunLog } from './runlog.js';
import { checkpoint, deliverEvidence, keepWrittenFiles, pushBranch, type ActiveRun } from './checkpoint.js';
import { stoppable, stopReason, IN_FLIGHT_GRACE_MS, type StoppableWorker } from './cancel.js';
import type { Triage } from './triage.js';
import type { FactoryDeps } from './deps.js';
import { faultPoint } from '../host/faults.js';
import { checkModels } from '../worker/preflight.js';
import { departLanes, openLaneRun } from './lanes.js';
import { mergeLanes, unmergedLaneRun } from './lanes-merge.js';
import { dropBackup, leftBackups, restoreBackup } from '../ssot/worktree-backup.js';

export type RunState = FactoryState['state'];

export interface RunOptions {
  truck?: TruckName | undefined;
  lanes?: number[] | undefined;
  commit: boolean;
  push: boolean;
  /** `--no-push` said on purpose: evidence a refused push left does not hold the truck back (a factory without a remote). */
  unpushedOk?: boolean | undefined;
  /** Depart as a lane run (the prepare job of a lane matrix): number and plan the run, run no card (lanes.ts). */
  prepareLanes?: boolean | undefined;
  /**
   * The job's time budget (`--max-minutes`, the action's `max-minutes`): no bundle starts that would not end
   * before `until` (its length estimated from the longest bundle so far); the truck stops RECOVERABLE there.
   */
  timeBudget?: TimeBudget | undefined;
  /**
   * Where this clone lives when it is a job's: a GitHub-hosted runner is discarded after the job, a self-hosted
   * one's next checkout resets the branch to the remote's. Undefined: a person's clone, which stays.
   */
  clone?: 'github-hosted' | 'self-hosted' | undefined;
}

export interface TimeBudget {
  minutes: number;
  /** ISO time the budget runs out, on the deps' clock. */
  until: string;
}

/** A budget of `minutes` from `startMs` (the entry point's clock: the step's or the command's start). */
export function timeBudgetFrom(minutes: number, startMs: number): TimeBudget {
  return { minutes, until: new Date(startMs + minutes * 60_000).toISOString() };
}

export interface RunOutcome {
  /**
   * OK: the truck finished; NOTHING: no truck to run; WAITING: RECOVERABLE before its retry_after (nothing
   * written); REFUSED: did not depart; BUSY: another run holds the lock; UNPUSHED: the remote refused the
   * evidence; CANCELLED: stopped by a signal, cleanly.
   */
  code: 'OK' | 'NOTHING' | 'WAITING' | 'FAIL_STOP' | 'RECOVERABLE' | 'REFUSED' | 'BUSY' | 'UNPUSHED' | 'CANCELLED';
  state: RunState;
  runId?: string | undefined;
  passed: number;
  failed: number;
  evidence?: string | undefined;
  message: string;
  /** RECOVERABLE: no run before this time. */
  retryAfter?: string | undefined;
  /** Why the evidence is not on the remote, when a push was refused. */
  unpushed?: string | undefined;
  /** The side branch on the remote that holds the refused commits (g7/unpushed/<run>), when they could be parked there. */
  parked?: string | undefined;
  /** The signal that stopped the run. */
  signal?: string | undefined;
  /** A lane run's prepare job: the lanes that have cards to run. */
  lanes?: number[] | undefined;
  /** RECOVERABLE at a bundle boundary because the job's time budget would run out in the next bundle. */
  outOfTime?: boolean | undefined;
}

/** When a transient cause says nothing about when it clears (a 5xx, a timeout, a batch still running): the wait before the next try. */
export const DEFAULT_RETRY_AFTER_MS = 10 * 60_000;

const EXIT_FOR: Record<RunState, number | undefined> = { READY: 0, FAIL_STOP: 4, RECOVERABLE: 5, RUNNING: undefined };
const signalExit = (signal: string) => (signal === 'SIGTERM' ? 143 : 130);

/** Why a truck stopped, for the stall count: only a transient card failure can stall a truck. */
type StopKind = 'done' | 'fail' | 'transient' | 'batch' | 'cancel' | 'unpushed' | 'time';

const laterBy = (now: string, ms: number) => new Date(Date.parse(now) + ms).toISOString();

/**
 * Before anything departs: lands what earlier jobs parked on side branches, then pushes what is committed
 * (parking it again when the remote still refuses). Returns why the evidence is not on the branch, if it is not.
 */
async function deliverBeforeDeparture(deps: FactoryDeps): Promise<string | undefined> {
  const git = deps.git!;
  const remote = deps.config.git.remote;
  let landed;
  try {
    landed = await landParked(git, await fetchParked(git, remote));
  } catch (err) {
    return (err as Error).message; // the remote cannot be read: departing would run parked cards again
  }
  const branch = await pushBranch(deps);
  if (landed.merged.length) deps.log(`landed the evidence parked on ${remote} ${landed.merged.map((p) => p.branch).join(', ')} (its push to ${branch} had been refused)`);
  if (landed.problem) return `${landed.problem}; merge it into ${branch} by hand (git fetch ${remote} ${landed.problem.split(' ')[0]} && git merge FETCH_HEAD), then run again`;
  // Read after landing: the parked commits carry the state of the run they hold.
  const state = await readState(deps.layout, deps.display, deps.now());
  const refused = await deliverEvidence(deps, state.run_id ?? 'departure');
  if (refused) {
    await writeState(deps.layout, { ...state, unpushed: { since: state.unpushed?.since ?? deps.now(), reason: refused.reason, parked: refused.parked }, updated_at: deps.now() });
    return `${refused.message}${refused.parked ? `\n  the commits are parked on ${remote} ${refused.parked}` : ''}`;
  }
  // Answers other jobs recorded (a hosted runner's store went with its runner): never paid for again.
  await pullAnswers(deps);
  const left = await deleteParked(git, remote, landed.landed);
  for (const p of left) deps.warn(`could not delete the landed side branch ${p} (its commits are on ${branch}; the next job tries again)`);
  if (state.unpushed) {
    deps.log(`pushed the evidence committed since ${state.unpushed.since}, which the remote had refused (${state.unpushed.reason})`);
    await writeState(deps.layout, { ...state, unpushed: null, updated_at: deps.now() });
  }
  return undefined;
}

export async function runFactory(deps: FactoryDeps, opts: RunOptions): Promise<RunOutcome> {
  const none = { passed: 0, failed: 0 };
  let lock;
  try {
    lock = await acquireLock(deps.layout.lockFile, deps.now());
  } catch (err) {
    if (err instanceof LockBusyError) return { code: 'BUSY', state: 'RUNNING', ...none, message: err.message };
    throw err;
  }
  // Lines printed before the run exists (the lock, the journal, packing a round) belong to its log too.
  const early: { warning: boolean; line: string }[] = [];
  const pre: FactoryDeps = {
    ...deps,
    log: (line) => (early.push({ warning: false, line }), deps.log(line)),
    warn: (line) => (early.push({ warning: true, line }), deps.warn(line)),
  };
  try {
    // Kept also under --no-commit: what this run writes is committed by the next run that commits.
    if (deps.git) await keepWrittenFiles(deps.git);
    if (lock.tookOverFrom) pre.warn(`took over the lock of pid ${lock.tookOverFrom.pid}, which is gone`);
    // The evidence reaches the remote or nothing departs: what earlier runs committed (or parked) goes first.
    if (opts.push && deps.git) {
      const refused = await deliverBeforeDeparture(pre);
      if (refused) {
        const st = await readState(deps.layout, deps.display, deps.now());
        return { code: 'UNPUSHED', state: st.state, runId: st.run_id ?? undefined, ...none, message: `${refused}\n  the evidence is not on the remote branch, so no truck departs; let the factory push (README: "Branch protection and the ruleset"), then run again`, unpushed: refused, ...(st.unpushed?.parked ? { parked: st.unpushed.parked } : {}) };
      }
    }
    let state = await readState(deps.layout, deps.display, deps.now());
    const cut = await repairJournal(deps.layout, state.day);
    if (cut) pre.warn(`journal: removed a torn last line (${cut} bytes) left by an interrupted write`);
    const unpushed = unpushedGate(state, { pushing: opts.push && deps.git !== undefined, unpushedOk: opts.unpushedOk });
    if (unpushed) return { code: unpushed.code, state: state.state, runId: state.run_id ?? undefined, ...none, message: unpushed.message, unpushed: state.unpushed?.reason };
    if (state.unpushed && opts.unpushedOk && !opts.push) {
      pre.warn(`--no-push: the evidence committed since ${state.unpushed.since} is not on the remote (${state.unpushed.reason}); departing without it, and the state forgets it`);
      state = { ...state, unpushed: null };
      await writeState(deps.layout, { ...state, updated_at: deps.now() });
    }
    if (deps.stop.aborted) return { code: 'CANCELLED', state: state.state, ...none, message: `stopped by ${stopReason(deps.stop)} before a truck departed`, signal: stopReason(deps.stop) };

    // One lane of a lane run: the prepare job has departed; the lane runs its cards into its part of the run.
    if (deps.layout.lane) {
      const lane = await openLaneRun(pre);
      if (!('run' in lane)) return lane;
      return await drive(deps, opts, lane.run, lane.state, lane.resumedFrom, early);
    }
    // A lane run whose merge job never ran (cancelled, its runner lost): merged now, so nothing it did is lost.
    const unmerged = await unmergedLaneRun(deps.layout, state);
    if (unmerged) {
      pre.warn(`${unmerged} is a lane run that was not merged (its merge job did not run): merging it first`);
      await mergeLanes(pre, unmerged, opts);
      state = await readState(deps.layout, deps.display, deps.now());
    }

    // What to do is decided in one place (next.ts), the same one `g7 status` asks.
    const decision = await decideNext(pre, state, { only: opts.truck, lockHeld: true });
    if (decision.kind === 'fail_stop') {
      const s = state.last_stop;
      const files = s?.files.join(', ') ?? '';
      return { code: 'REFUSED', state: 'FAIL_STOP', runId: state.run_id ?? undefined, ...none, message: `FAIL_STOP since ${s?.at ?? '?'}: ${s?.reason ?? ''}${s?.hint ? `\n  fix: ${s.hint}` : ''}\n  read: ${files}\n  then: g7 resume` };
    }
    if (decision.kind === 'waiting')
      return { code: 'WAITING', state: 'RECOVERABLE', runId: state.run_id ?? undefined, ...none, retryAfter: decision.until, message: `RECOVERABLE until ${decision.until}: ${state.last_stop?.reason ?? ''}\n  nothing to do before then (no run, no commit); the first g7 run after it resumes at ${state.last_stop?.card ?? 'the stopped card'}` };

    let run: ActiveRun;
    const resumedFrom: RunState = state.state;
    const open = (id: string, why: string) => RunLog.open(runDir(deps.layout, id), deps.redact, { at: deps.now(), why });
    if (decision.kind === 'interrupted' && state.run_id && state.day && state.truck) {
      // The owner is gone (we hold the lock): continue its run at the first unfinished card.
      const id = state.run_id;
      run = { id, day: state.day, round: state.round ?? 1, truck: state.truck, lanes: opts.lanes, startedAt: state.owner?.started_at ?? deps.now(), log: open(id, 'resumes the run after an interruption'), results: await readRunResults(deps.layout, id, state.day), summaries: new Map(), ledger: new EvidenceLedger(runDir(deps.layout, id)), progressed: false };
      pre.log(`resuming ${run.id} (round ${run.round} truck ${run.truck} of ${run.day}) after an interrupted run`);
      // The journal says the process before stopped without a clean stop (killed, or its runner lost): the morning report shows it.
      const gone = state.owner ? `pid ${state.owner.pid} on ${state.owner.host}` : 'the process before';
      await appendJournal(deps.layout, [{ ts: deps.now(), event: 'run_resumed', run: id, day: run.day, round: run.round, truck: run.truck, detail: `${gone} stopped without a clean stop (killed, or its runner was lost); last heartbeat ${state.heartbeat_at ?? 'unknown'}; resumed by pid ${process.pid} on ${hostname()}` }]);
      const stopped = await journaledStop(deps.layout, run.id, run.day);
      if (stopped) {
        writeEarly(run.log, early);
        state = { ...state, state: stopped, owner: null };
        const slots = await readPacket(packetFile(deps.layout, run.day, run.round, run.truck));
        await checkpoint(deps, opts, run, slots, state, undefined, EXIT_FOR[stopped]);
        run.log.close();
        return { code: stopped === 'READY' ? 'OK' : stopped === 'RUNNING' ? 'RECOVERABLE' : stopped, state: stopped, runId: run.id, ...none, message: `${run.id} had already stopped (${stopped}); its evidence is sealed` };
      }
    } else {
      if (decision.kind !== 'depart') return { code: 'NOTHING', state: state.state, ...none, message: decision.kind === 'nothing' ? decision.message : `nothing to run (${decision.kind})` };
      const pick = decision.at;
      // Evidence gate: the previous run must have left a complete pack that verifies.
      const closed = await evidenceGate(deps.layout, deps.display, deps.git);
      if (closed) return { code: closed.code, state: state.state, runId: closed.runId, ...none, message: closed.message };
      const runs = await listRuns(deps.layout);
      // The models the truck's cards need must exist and have a price: a typo fails here, not hours in.
      await checkModels(deps.config, deps.worker, deps.display(deps.layout.factoryFile), (await readPacket(packetFile(deps.layout, pick.day, pick.round, pick.truck))).map((s) => s.card), pre.warn);
      const id = nextRunId(runs);
      const why = state.state === 'RECOVERABLE' ? `resumes the truck after RECOVERABLE (${state.last_stop?.reason ?? ''})` : 'departs';
      if (opts.prepareLanes) return await departLanes(deps, opts, { id, ...pick, why }, state, early);
      run = { id, day: pick.day, round: pick.round, truck: pick.truck, lanes: opts.lanes, startedAt: deps.now(), log: open(id, why), results: new Map(), summaries: new Map(), ledger: new EvidenceLedger(runDir(deps.layout, id)), progressed: false };
      await appendJournal(deps.layout, [{ ts: deps.now(), event: 'run_start', run: id, day: run.day, round: run.round, truck: run.truck, ...(opts.lanes ? { lanes: opts.lanes } : {}) }]);
      pre.log(`${id}: round ${run.round} truck ${run.truck} of ${run.day} departs`);
    }
    return await drive(deps, opts, run, state, resumedFrom, early);
  } finally {
    await lock.release();
  }
}

/** The truck (or one lane of it) is under way: the state says RUNNING, and its log gets every line. */
async function drive(deps: FactoryDeps, opts: RunOptions, run: ActiveRun, state: FactoryState, resumedFrom: RunState, early: { warning: boolean; line: string }[]): Promise<RunOutcome> {
  writeEarly(run.log, early);
  // The bundles done are the run's own: a new run starts with none (a resumed one keeps its count).
  const bundle = state.run_id === run.id ? state.bundle : null;
  state = { ...state, state: 'RUNNING', day: run.day, round: run.round, truck: run.truck, run_id: run.id, owner: { host: hostname(), pid: process.pid, started_at: run.startedAt }, bundle, heartbeat_at: deps.now(), updated_at: deps.now() };
  await writeState(deps.layout, state);
  // From here on, everything the run prints goes to its log as well, and the worker stops with the run.
  const runDeps: FactoryDeps = {
    ...deps,
    worker: stoppable(deps.worker, deps.stop),
    log: (line) => (run.log.line(line), deps.log(line)),
    warn: (line) => (run.log.warning(line), deps.warn(line)),
  };
  try {
    return await driveTruck(runDeps, opts, run, state, resumedFrom);
  } finally {
    run.log.close();
  }
}

/**
 * A process killed while a card's change was in the working tree left the card's backup: put the files back
 * before anything runs (the card runs again on the originals). A backup whose card is journaled PASS is only
 * stale (killed between the journal line and its removal): that change stays.
 */
async function undoKilledChanges(deps: FactoryDeps, outcomes: Map<string, { status: string }>): Promise<void> {
  for (const card of await leftBackups(deps.layout)) {
    if (outcomes.get(card)?.status === 'PASS') {
      await dropBackup(deps.layout, card);
      continue;
    }
    const files = await restoreBackup(deps.layout, card);
    if (files?.length) deps.warn(`${card} was interrupted with its change in the working tree: put back ${files.length} file(s) as they were (${files.slice(0, 3).join(', ')}${files.length > 3 ? ', …' : ''}); the card runs again`);
  }
}

function writeEarly(log: RunLog, early: { warning: boolean; line: string }[]): void {
  for (const e of early) (e.warning ? log.warning(e.line) : log.line(e.line));
  early.length = 0;
}

async function journaledStop(layout: Layout, runId: string, day: string): Promise<RunState | undefined> {
  let st: RunState | undefined;
  await readJournalDay(layout, day, (e) => {
    if (e.run === runId && e.event === 'run_stop') st = e.state;
  });
  return st;
}

async function driveTruck(deps: FactoryDeps, opts: RunOptions, run: ActiveRun, state: FactoryState, resumedFrom: RunState): Promise<RunOutcome> {
  const log = deps.log;
  const worker = deps.worker as StoppableWorker;
  const allSlots = await readPacket(packetFile(deps.layout, run.day, run.round, run.truck));
  const slots = run.lanes ? allSlots.filter((s) => run.lanes!.includes(s.card.lane)) : allSlots;
  const { outcomes, outputs: outputsOf } = await readDay(deps.layout, run.day);
  const done = run.results;
  const journalResult = async (e: JournalEvent) => {
    await appendJournal(deps.layout, [e]);
    done.set(e.card!, e);
  };
  const evidenceRoot = toRepoPath(deps.layout.repoRoot, runDir(deps.layout, run.id));
  await undoKilledChanges(deps, outcomes);
  let passed = 0;
  let failed = 0;
  const total = slots.length;
  const pendingBatches: string[] = [];
  // A line for every card: results journaled before an interruption whose log line died with the process.
  for (const s of slots) {
    const e = done.get(s.card.id);
    if (e && !run.log.before.includes(`] ${s.card.id} `)) log(`[${s.slot}/${total}] ${s.card.id} ${e.status} (recorded before the interruption)`);
  }

  const stop = async (
    next: RunState,
    reason: string,
    kind: StopKind,
    extra: { card?: WorkCard; cardId?: string; triage?: Triage; files?: string[]; retryAfter?: string; excerpts?: { attempt: number; reason: string; excerpt: string }[]; slot?: number } = {},
  ): Promise<RunOutcome> => {
    const files = [`${evidenceRoot}/verify_report.json`, ...(extra.files ?? [])];
    // A resume from RECOVERABLE that got no card further counts; the third in a row is a FAIL_STOP.
    let stalled = state.stalled ?? 0;
    if (kind === 'transient') stalled = resumedFrom === 'RECOVERABLE' && !run.progressed ? stalled + 1 : 0;
    else if (next !== 'RECOVERABLE' || kind === 'time') stalled = 0; // a time stop follows a bundle that ran
    if (kind === 'transient' && stalled >= STALLS_TO_FAIL_STOP && extra.card && extra.triage) {
      const note = `Stopped RECOVERABLE ${stalled} times in a row without a card getting further (${extra.triage.reason}): the cause does not clear by itself.`;
      // The cause's own fix stays; "it resumes by itself" does not hold any more: a person must `g7 resume`.
      const causeFix = (extra.triage.hint ?? '').split('; ').filter((c) => c && !/resumes at this card/.test(c)).map((c) => `${c}; `).join('');
      extra = { ...extra, triage: { ...extra.triage, transient: false, hint: `${causeFix}it did not clear over ${stalled} runs, so the factory waits for a person` } };
      const rework = await writeReworkPack(deps.layout, { created_at: deps.now(), run: run.id, day: run.day, truck: run.truck, slot: extra.slot ?? 0, card: extra.card!, triage: extra.triage!, attempts: extra.excerpts ?? [], evidence: extra.files ?? [] }, note);
      files.push(toRepoPath(deps.layout.repoRoot, rework));
      next = 'FAIL_STOP';
      reason = `no progress on ${stalled} resumes in a row: ${reason}`;
      stalled = 0;
    }
    const stoppedAt = deps.now(); // one reading: the default retry_after is exactly the backoff after the stop
    const retryAfter = next === 'RECOVERABLE' ? (extra.retryAfter ?? laterBy(stoppedAt, DEFAULT_RETRY_AFTER_MS)) : null;
    const t = extra.triage;
    state = {
      ...state, state: next, owner: null, stalled,
      last_stop: next === 'READY' ? null : { at: stoppedAt, reason, card: extra.card?.id ?? extra.cardId ?? null, triage: t?.class ?? null, transient: next === 'RECOVERABLE', retry_after: retryAfter, hint: t?.hint ?? null, files },
    };
    log(`${run.id}: ${next} — ${reason}`);
    if (next !== 'READY') run.log.warning(`${run.id}: ${next} — ${reason}`);
    if (retryAfter && kind !== 'cancel' && kind !== 'unpushed') log(`${run.id}: the first g7 run after ${retryAfter} resumes at ${extra.card?.id ?? 'this truck'}`);
    // A run over some lanes only does not finish the truck: the other lanes still have to run.
    await appendJournal(deps.layout, [{ ts: deps.now(), event: 'run_stop', run: run.id, day: run.day, round: run.round, truck: run.truck, state: next, detail: reason.slice(0, 500), ...(run.lanes ? { lanes: run.lanes } : {}) }]);
    const signal = kind === 'cancel' ? stopReason(deps.stop) : undefined;
    await checkpoint(deps, opts, run, slots, state, undefined, signal ? signalExit(signal) : EXIT_FOR[next]);
    if (run.pushRefused) {
      // After the commit, so it stays here: the state says the evidence is not on the remote.
      state.unpushed = { since: state.unpushed?.since ?? deps.now(), reason: run.pushRefused, parked: run.parked ?? null };
      await writeState(deps.layout, state);
    }
    const code = signal ? 'CANCELLED' : run.pushRefused ? 'UNPUSHED' : next === 'READY' ? 'OK' : next === 'FAIL_STOP' ? 'FAIL_STOP' : 'RECOVERABLE';
    const remote = deps.config.git.remote;
    const where = run.parked
      ? `it is parked on ${remote} ${run.parked}: the next g7 run --push, from any clone of ${remote}, lands it before it departs`
      : opts.clone
        ? `it is committed only in this job's clone (parking it on ${remote} failed too), which ${opts.clone === 'github-hosted' ? 'GitHub discards with the runner after the job' : `the next job's checkout resets to ${remote}'s branch`}: only a git bundle of its commits carries it away`
        : `it is committed only in this clone (parking it on ${remote} failed too): the next g7 run --push from this clone pushes it before it departs`;
    const message = run.pushRefused ? `${reason}\n  the evidence is NOT on the remote branch: ${run.pushRefused}\n  ${where}` : reason;
    return { code, state: next, runId: run.id, passed, failed, evidence: evidenceRoot, message, ...(retryAfter ? { retryAfter } : {}), ...(run.pushRefused ? { unpushed: run.pushRefused } : {}), ...(run.parked ? { parked: run.parked } : {}), ...(signal ? { signal } : {}), ...(kind === 'time' ? { outOfTime: true } : {}) };
  };

  const cancel = async (card: WorkCard, slot: number): Promise<RunOutcome> => {
    const signal = stopReason(deps.stop);
    log(`${signal}: stopping cleanly at ${card.id} (slot ${slot}): no new card, no new model call`);
    const { inFlight } = await worker.settle(IN_FLIGHT_GRACE_MS);
    if (inFlight > 0) deps.warn(`${inFlight} model call(s) still in flight after ${IN_FLIGHT_GRACE_MS / 1000} s; their answers are not in the cache`);
    return stop('RECOVERABLE', `stopped by ${signal} at ${card.id} (slot ${slot}); the next g7 run resumes there`, 'cancel', { card, retryAfter: deps.now() });
  };

  // How long the bundles this process ran took, checkpoint and push included: the estimate of the next one.
  let longestBundleMs = 0;
  let lastBundle = 0;
  for (let bundle = 1; bundle <= OPS_120PLUS120.bundles; bundle++) {
    const inBundle = slots.filter((s) => s.bundle === bundle);
    if (inBundle.length === 0) continue;
    const budget = opts.timeBudget;
    const first = inBundle.find((s) => !done.has(s.card.id));
    if (budget && first && longestBundleMs > 0) {
      const leftMs = Date.parse(budget.until) - Date.parse(deps.now());
      if (longestBundleMs > leftMs) {
        const min = (ms: number) => `${(Math.max(0, ms) / 60_000).toFixed(1)} min`;
        return stop('RECOVERABLE', `stopped after bundle ${lastBundle}: the job's time budget (max-minutes ${budget.minutes}) has ${min(leftMs)} left and a bundle has taken up to ${min(longestBundleMs)}; the next job resumes at bundle ${bundle} (${first.card.id})`, 'time', { cardId: first.card.id, retryAfter: deps.now() });
      }
    }
    const bundleStart = Date.parse(deps.now());
    let ran = false;
    for (const slot of inBundle) {
      const card = slot.card;
      const prior = done.get(card.id);
      if (prior) {
        if (prior.status === 'PASS') passed++;
        continue;
      }
      if (deps.stop.aborted) return cancel(card, slot.slot);
      const already = outcomes.get(card.id);
      if (already?.status === 'PASS') {
        log(`[${slot.slot}/${total}] ${card.id} already done in ${already.run}`);
        continue;
      }
      if (already?.status === 'SKIP') {
        const why = `skipped by a person: ${already.detail ?? ''}`;
        await journalResult({ ts: deps.now(), event: 'card_result', run: run.id, day: run.day, round: run.round, truck: run.truck, card: card.id, slot: slot.slot, bundle, status: 'SKIP', detail: why });
        log(`[${slot.slot}/${total}] ${card.id} SKIP: ${why}`);
        continue;
      }
      const missing = card.deps.find((d) => outcomes.get(d)?.status !== 'PASS');
      if (missing) {
        const st = outcomes.get(missing)?.status;
        const why = st === 'FAIL' ? `dep ${missing} failed` : st === 'SKIP' ? `dep ${missing} was skipped by a person` : `dep ${missing} is not done (not in the lanes run, or skipped)`;
        await journalResult({ ts: deps.now(), event: 'card_result', run: run.id, day: run.day, round: run.round, truck: run.truck, card: card.id, slot: slot.slot, bundle, status: 'SKIP', detail: why });
        log(`[${slot.slot}/${total}] ${card.id} SKIP: ${why}`);
        continue;
      }
      ran = true;
      const depOutputs = card.deps.flatMap((d) => (outputsOf.get(d) ?? []).map((o) => ({ card: d, ...o })));
      const pending = state.batches?.find((b) => b.card === card.id)?.name;
      const outcome = await runCard(deps, run, slot, async () => (card.pack ? readWorkPack(deps.layout, card.pack, deps.display) : undefined), depOutputs, pending);
      const s = outcome.summary;
      // A batch job, once collected or abandoned, is no longer the state's business.
      state = { ...state, batches: (state.batches ?? []).filter((b) => b.card !== card.id) };
      if (outcome.failure?.batchName) {
        // Not a failure: the answers come later. Go on with cards that do not wait for this one.
        state.batches = [...(state.batches ?? []), { name: outcome.failure.batchName, card: card.id, submitted_at: deps.now(), state: 'PENDING' }];
        pendingBatches.push(card.id);
        log(`[${slot.slot}/${total}] ${card.id} waits for batch ${outcome.failure.batchName}`);
        continue;
      }
      // Cut short by the stop signal: not a result; the card runs again when the truck resumes.
      if (deps.stop.aborted && s.status !== 'PASS') return cancel(card, slot.slot);
      if (outcome.failure?.triage.transient) {
        // Not a final result: the card runs again when the truck resumes, after its retry_after.
        const t = outcome.failure.triage;
        const evidence = `${evidenceRoot}/${s.detail}`;
        return stop('RECOVERABLE', `${card.id}: ${t.class} (transient): ${t.reason}`, 'transient', { card, slot: slot.slot, triage: t, files: [evidence], ...(t.retry_after ? { retryAfter: t.retry_after } : {}), excerpts: outcome.failure.excerpts });
      }
      const ev: JournalEvent = { ts: deps.now(), event: 'card_result', run: run.id, day: run.day, round: run.round, truck: run.truck, card: card.id, slot: slot.slot, bundle, status: s.status, attempt: s.attempts };
      if (s.status === 'PASS') {
        ev.outputs = outcome.outputs;
        ev.card_sha256 = cardSha256(card);
      } else ev.triage = outcome.failure!.triage.class;
      await journalResult(ev);
      if (s.status === 'PASS' && card.type === 'PATCH') await dropBackup(deps.layout, card.id); // journaled: the change stays
      run.summaries.set(card.id, s);
      faultPoint('card.journaled'); // recorded, but its log line not written yet
      run.progressed = true;
      outcomes.set(card.id, { status: s.status === 'PASS' ? 'PASS' : 'FAIL', run: run.id, detail: undefined });
      outputsOf.set(card.id, outcome.outputs);
      log(`[${slot.slot}/${total}] ${card.id} ${s.status}${s.attempts > 1 ? ' after rework' : ''} ${s.duration_ms} ms`);
      if (s.status === 'PASS') {
        passed++;
        continue;
      }
      failed++;
      const t = outcome.failure!.triage;
      const evidenceDir = `${evidenceRoot}/${s.detail}`;
      const rework = await writeReworkPack(deps.layout, { created_at: deps.now(), run: run.id, day: run.day, truck: run.truck, slot: slot.slot, card, triage: t, attempts: outcome.failure!.excerpts, evidence: [evidenceDir] });
      return stop('FAIL_STOP', `${card.id} failed twice: ${t.class}: ${t.reason}`, 'fail', { card, triage: t, files: [toRepoPath(deps.layout.repoRoot, rework), evidenceDir] });
    }
    if (ran) {
      await appendJournal(deps.layout, [{ ts: deps.now(), event: 'bundle_done', run: run.id, day: run.day, round: run.round, truck: run.truck, bundle }]);
      state = { ...state, bundle };
      log(`${run.id}: bundle ${bundle}/${OPS_120PLUS120.bundles} done`);
      await checkpoint(deps, opts, run, slots, state, bundle, undefined);
      longestBundleMs = Math.max(longestBundleMs, Date.parse(deps.now()) - bundleStart);
      lastBundle = bundle;
      // The remote refused the evidence: produce no more of it that could not be delivered.
      if (run.pushRefused) return stop('RECOVERABLE', `stopped after bundle ${bundle}: the remote refused the push`, 'unpushed', { retryAfter: deps.now() });
    }
  }
  if (pendingBatches.length)
    // A batch job says nothing about when it finishes: every later scheduled run polls it (no wait).
    return stop('RECOVERABLE', `${pendingBatches.length} card(s) wait for batch jobs (${pendingBatches.join(', ')}); the next run collects them`, 'batch', { cardId: pendingBatches[0]!, retryAfter: deps.now(), triage: { class: 'API', transient: true, reason: 'batch pending' } });
  // A lane finishes only its part of the truck; the merge job's stop says whether the truck finished.
  const lane = deps.layout.lane?.lane;
  if (lane !== undefined) return stop('READY', `lane ${lane} of round ${run.round} truck ${run.truck} of ${run.day} done: ${passed} passed`, 'done');
  return stop('READY', `round ${run.round} truck ${run.truck} of ${run.day} finished: ${passed} passed`, 'done');
}
