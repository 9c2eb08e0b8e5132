// `g7 run`: one truck, end to end, and the state machine around it (SPEC 5-7).
//
// The journal is the record. Per card: evidence is written, then one `card_result` line is appended; a
// crash before that line means the card runs again (outputs are atomic, worker answers come from the cache),
// so no result is lost or counted twice. After each bundle and at every stop the run's evidence pack is
// rewritten and sealed, the state file updated, and everything committed with G7-* trailers.
import path from 'node:path';
import { hostname } from 'node:os';
import { readFile } from 'node:fs/promises';
import type { FactoryState, JournalEvent, PacketSlot, VerifyReport, WorkPack, CardResult } from '../contracts/types.gen.js';
import { G7Error } from '../contracts/errors.js';
import { packetFile, workPackFile, type Layout } from '../ssot/layout.js';
import { toRepoPath } from '../ssot/paths.js';
import { fileExists } from '../plan/backlog.js';
import { packDayFiles, readPacket, latestBacklogDay } from '../truck/packets.js';
import { OPS_120PLUS120, TRUCKS, type TruckName } from '../truck/pack.js';
import { appendJournal, repairJournal, readTruckProgress, readRunResults, readJournal, readDay } from './journal.js';
import { readState, writeState } from './state.js';
import { acquireLock, LockBusyError } from './lock.js';
import { listRuns, nextRunId, runDir, verifyRun, writeRunEvidence } from './evidence.js';
import { runCard } from './card.js';
import { writeReworkPack } from './rework.js';
import type { FactoryDeps } from './deps.js';
import { faultPoint } from '../host/faults.js';
import { checkModels } from '../worker/preflight.js';

export type RunState = FactoryState['state'];

export interface RunOptions {
  truck?: TruckName | undefined;
  lanes?: number[] | undefined;
  commit: boolean;
  push: boolean;
}

export interface RunOutcome {
  code: 'OK' | 'NOTHING' | 'FAIL_STOP' | 'RECOVERABLE' | 'REFUSED' | 'BUSY';
  state: RunState;
  runId?: string | undefined;
  passed: number;
  failed: number;
  evidence?: string | undefined;
  message: string;
}

interface ActiveRun {
  id: string;
  day: string;
  truck: TruckName;
  lanes: number[] | undefined;
  startedAt: string;
  log: string[];
  warnings: string[];
  /** This run's card results, as journaled: read once at the start, kept in step with every append. */
  results: Map<string, JournalEvent>;
}

const EXIT_FOR: Record<RunState, number | undefined> = { READY: 0, FAIL_STOP: 4, RECOVERABLE: 5, RUNNING: undefined };

/** Builds the verify report of a run from its journaled results (one entry per card) and the cards' summaries. */
async function buildReport(deps: FactoryDeps, run: ActiveRun, state: RunState, slots: PacketSlot[]): Promise<{ report: VerifyReport; outputs: string[] }> {
  const results = run.results;
  const cards: CardResult[] = [];
  const outputs: string[] = [];
  for (const s of slots) {
    const e = results.get(s.card.id);
    if (!e) continue;
    const file = path.join(runDir(deps.layout, run.id), 'cards', `${String(s.slot).padStart(3, '0')}_${s.card.id}`, 'summary.json');
    try {
      cards.push(JSON.parse(await readFile(file, 'utf8')) as CardResult);
    } catch {
      // A SKIP has no card folder; its reason is in the journal.
      cards.push({ id: s.card.id, slot: s.slot, lane: s.card.lane, type: s.card.type, status: e.status ?? 'SKIP', attempts: 0, accept: [], failfast: [], triage: null, duration_ms: 0, tokens: { in: 0, out: 0 }, cost_usd: 0, outputs: [], detail: e.detail ?? '' });
    }
    for (const o of e.outputs ?? []) outputs.push(o.path);
  }
  const count = (st: string) => cards.filter((c) => c.status === st).length;
  const tokens = cards.reduce((t, c) => ({ in: t.in + c.tokens.in, out: t.out + c.tokens.out }), { in: 0, out: 0 });
  const report: VerifyReport = {
    schema_version: 1, run_id: run.id, day: run.day, truck: run.truck, started_at: run.startedAt, finished_at: deps.now(), state,
    counts: { passed: count('PASS'), failed: count('FAIL'), skipped: count('SKIP'), pending: slots.length - cards.length },
    cost_usd: Number(cards.reduce((a, c) => a + c.cost_usd, 0).toFixed(6)), tokens, cards,
  };
  return { report, outputs };
}

function gitPaths(deps: FactoryDeps, outputs: string[]): string[] {
  const ssotRel = toRepoPath(deps.layout.repoRoot, deps.layout.ssotDir);
  return [ssotRel, ...outputs.filter((o) => !o.startsWith(ssotRel + '/'))];
}

/** Seals the evidence, writes the state, commits (and pushes). */
async function checkpoint(deps: FactoryDeps, opts: RunOptions, run: ActiveRun, slots: PacketSlot[], state: FactoryState, bundle: number | undefined): Promise<void> {
  const { report, outputs } = await buildReport(deps, run, state.state, slots);
  const digest = await writeRunEvidence(deps.layout, { report, stdout: run.log.join('\n') + '\n', stderr: run.warnings.join('\n') + (run.warnings.length ? '\n' : ''), exitCode: EXIT_FOR[state.state], outputs }, deps.redact, deps.now());
  state.updated_at = deps.now();
  state.heartbeat_at = state.updated_at;
  faultPoint('checkpoint.state');
  await writeState(deps.layout, state);
  if (!opts.commit || !deps.git) return;
  const where = bundle ? `bundle ${bundle}/${OPS_120PLUS120.bundles}` : 'stop';
  const subject = `g7: ${run.id} truck ${run.truck} ${where}: ${state.state}, ${report.counts.passed} passed, ${report.counts.failed} failed`;
  const trailers = {
    'G7-Run': run.id, 'G7-Day': run.day, 'G7-Truck': run.truck, 'G7-Bundle': bundle ?? state.bundle ?? 0, 'G7-State': state.state,
    'G7-Passed': report.counts.passed, 'G7-Failed': report.counts.failed, 'G7-Manifest': `sha256:${digest}`,
  };
  try {
    await deps.git.commitPaths(gitPaths(deps, outputs), subject, trailers);
    if (opts.push) await deps.git.pushWithRetry(deps.config.git.remote, deps.config.git.branch ?? (await deps.git.currentBranch()));
  } catch (err) {
    // The files are the record; a failed commit or push is reported, and the next run commits them.
    const msg = `git: ${(err as Error).message}`;
    run.warnings.push(msg);
    deps.warn(msg);
  }
}

async function pickTruck(deps: FactoryDeps, opts: RunOptions, state: FactoryState): Promise<{ day: string; truck: TruckName } | string> {
  // The truck at hand first: after a stop, a resume or a lanes-only run, it is not finished yet.
  if (!opts.truck && state.day && state.truck) {
    const progress = await readTruckProgress(deps.layout);
    if (!progress.get(`${state.day}/${state.truck}`)?.finished) return { day: state.day, truck: state.truck };
  }
  const day = await latestBacklogDay(deps.layout);
  if (!day) return 'no backlog yet: compile a day plan (g7 plan compile ssot/plans/dayplan_YYYYMMDD.yaml)';
  if (!(await fileExists(packetFile(deps.layout, day, 'A')))) await packDayFiles(deps.layout, day, deps.display);
  const progress = await readTruckProgress(deps.layout);
  for (const t of opts.truck ? [opts.truck] : TRUCKS) {
    if (progress.get(`${day}/${t}`)?.finished) continue;
    const file = packetFile(deps.layout, day, t);
    if (!(await fileExists(file))) continue;
    if ((await readPacket(file)).length === 0) continue;
    return { day, truck: t };
  }
  return `nothing to run: both trucks of ${day} are finished or empty`;
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
  try {
    if (lock.tookOverFrom) deps.warn(`took over the lock of pid ${lock.tookOverFrom.pid}, which is gone`);
    const cut = await repairJournal(deps.layout);
    if (cut) deps.warn(`journal: removed a torn last line (${cut} bytes) left by an interrupted write`);
    let state = await readState(deps.layout, deps.display, deps.now());

    if (state.state === 'FAIL_STOP') {
      const files = state.last_stop?.files.join(', ') ?? '';
      return { code: 'REFUSED', state: 'FAIL_STOP', runId: state.run_id ?? undefined, ...none, message: `FAIL_STOP since ${state.last_stop?.at ?? '?'}: ${state.last_stop?.reason ?? ''}\n  read: ${files}\n  then: g7 resume` };
    }

    let run: ActiveRun;
    if (state.state === 'RUNNING' && state.run_id && state.day && state.truck) {
      // The owner is gone (we hold the lock): continue its run at the first unfinished card.
      run = { id: state.run_id, day: state.day, truck: state.truck, lanes: opts.lanes, startedAt: state.owner?.started_at ?? deps.now(), log: [], warnings: [], results: await readRunResults(deps.layout, state.run_id) };
      deps.log(`resuming ${run.id} (truck ${run.truck} of ${run.day}) after an interrupted run`);
      const stopped = await journaledStop(deps.layout, run.id);
      if (stopped) {
        state = { ...state, state: stopped, owner: null };
        const slots = await readPacket(packetFile(deps.layout, run.day, run.truck));
        await checkpoint(deps, opts, run, slots, state, undefined);
        return { code: stopped === 'READY' ? 'OK' : stopped === 'RUNNING' ? 'RECOVERABLE' : stopped, state: stopped, runId: run.id, ...none, message: `${run.id} had already stopped (${stopped}); its evidence is sealed` };
      }
    } else {
      const pick = await pickTruck(deps, opts, state);
      if (typeof pick === 'string') return { code: 'NOTHING', state: state.state, ...none, message: pick };
      // Evidence gate: the previous run must have left a complete pack that verifies.
      const runs = await listRuns(deps.layout);
      const prev = runs.at(-1);
      if (prev) {
        const v = await verifyRun(deps.layout, prev, deps.display);
        if (!v.ok || !v.complete) {
          const why = !v.complete ? 'is not complete' : `does not verify (${v.problems.length} problem(s), first: ${v.problems[0]?.file}: ${v.problems[0]?.message})`;
          return { code: 'REFUSED', state: state.state, runId: prev, ...none, message: `the evidence pack of ${prev} ${why}; the next truck does not depart.\n  check: g7 verify ${prev}` };
        }
      }
      // The models the truck's cards need must exist and have a price: a typo fails here, not hours in.
      await checkModels(deps.config, deps.worker, deps.display(deps.layout.factoryFile), (await readPacket(packetFile(deps.layout, pick.day, pick.truck))).map((s) => s.card));
      const id = nextRunId(runs);
      run = { id, day: pick.day, truck: pick.truck, lanes: opts.lanes, startedAt: deps.now(), log: [], warnings: [], results: new Map() };
      await appendJournal(deps.layout, [{ ts: deps.now(), event: 'run_start', run: id, day: run.day, truck: run.truck, ...(opts.lanes ? { lanes: opts.lanes } : {}) }]);
      deps.log(`${id}: truck ${run.truck} of ${run.day} departs`);
    }
    state = { ...state, state: 'RUNNING', day: run.day, truck: run.truck, run_id: run.id, owner: { host: hostname(), pid: process.pid, started_at: run.startedAt }, heartbeat_at: deps.now(), updated_at: deps.now() };
    await writeState(deps.layout, state);
    return await driveTruck(deps, opts, run, state);
  } finally {
    await lock.release();
  }
}

async function journaledStop(layout: Layout, runId: string): Promise<RunState | undefined> {
  let st: RunState | undefined;
  await readJournal(layout, (e) => {
    if (e.run === runId && e.event === 'run_stop') st = e.state;
  });
  return st;
}

async function loadPack(deps: FactoryDeps, id: string | undefined): Promise<WorkPack | undefined> {
  if (!id) return undefined;
  try {
    return JSON.parse(await readFile(workPackFile(deps.layout, id), 'utf8')) as WorkPack;
  } catch {
    throw new G7Error('PATH', [{ file: deps.display(workPackFile(deps.layout, id)), rule: 'pack.missing', message: `work pack ${id} not found` }]);
  }
}

async function driveTruck(deps: FactoryDeps, opts: RunOptions, run: ActiveRun, state: FactoryState): Promise<RunOutcome> {
  const log = (line: string) => {
    run.log.push(deps.redact(line));
    deps.log(line);
  };
  const allSlots = await readPacket(packetFile(deps.layout, run.day, run.truck));
  const slots = run.lanes ? allSlots.filter((s) => run.lanes!.includes(s.card.lane)) : allSlots;
  const { outcomes, outputs: outputsOf } = await readDay(deps.layout, run.day);
  const done = run.results;
  const journalResult = async (e: JournalEvent) => {
    await appendJournal(deps.layout, [e]);
    done.set(e.card!, e);
  };
  const evidenceRoot = toRepoPath(deps.layout.repoRoot, runDir(deps.layout, run.id));
  let passed = 0;
  let failed = 0;
  const total = slots.length;
  const pendingBatches: string[] = [];

  const stop = async (next: RunState, reason: string, extra: Partial<NonNullable<FactoryState['last_stop']>> = {}): Promise<RunOutcome> => {
    const files = [`${evidenceRoot}/verify_report.json`, ...(extra.files ?? [])];
    state = { ...state, state: next, owner: null, last_stop: next === 'READY' ? null : { at: deps.now(), reason, card: extra.card ?? null, triage: extra.triage ?? null, transient: extra.transient ?? false, files } };
    log(`${run.id}: ${next} — ${reason}`);
    // A run over some lanes only does not finish the truck: the other lanes still have to run.
    await appendJournal(deps.layout, [{ ts: deps.now(), event: 'run_stop', run: run.id, day: run.day, truck: run.truck, state: next, detail: reason.slice(0, 500), ...(run.lanes ? { lanes: run.lanes } : {}) }]);
    await checkpoint(deps, opts, run, slots, state, undefined);
    const code = next === 'READY' ? 'OK' : next === 'FAIL_STOP' ? 'FAIL_STOP' : 'RECOVERABLE';
    return { code, state: next, runId: run.id, passed, failed, evidence: evidenceRoot, message: reason };
  };

  for (let bundle = 1; bundle <= OPS_120PLUS120.bundles; bundle++) {
    const inBundle = slots.filter((s) => s.bundle === bundle);
    if (inBundle.length === 0) continue;
    let ran = false;
    for (const slot of inBundle) {
      const card = slot.card;
      const prior = done.get(card.id);
      if (prior) {
        if (prior.status === 'PASS') passed++;
        continue;
      }
      if (outcomes.get(card.id)?.status === 'PASS') {
        log(`[${slot.slot}/${total}] ${card.id} already done in ${outcomes.get(card.id)!.run}`);
        continue;
      }
      const missing = card.deps.find((d) => outcomes.get(d)?.status !== 'PASS');
      if (missing) {
        const why = outcomes.get(missing)?.status === 'FAIL' ? `dep ${missing} failed` : `dep ${missing} is not done (not in the lanes run, or skipped)`;
        await journalResult({ ts: deps.now(), event: 'card_result', run: run.id, day: run.day, truck: run.truck, card: card.id, slot: slot.slot, bundle, status: 'SKIP', detail: why });
        log(`[${slot.slot}/${total}] ${card.id} SKIP: ${why}`);
        continue;
      }
      ran = true;
      const depOutputs = card.deps.flatMap((d) => (outputsOf.get(d) ?? []).map((o) => ({ card: d, ...o })));
      const pending = state.batches?.find((b) => b.card === card.id)?.name;
      const outcome = await runCard(deps, run, slot, await loadPack(deps, card.pack), depOutputs, pending);
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
      if (outcome.failure?.triage.transient) {
        // Not a final result: the card runs again when the truck resumes.
        const t = outcome.failure.triage;
        return stop('RECOVERABLE', `${card.id}: ${t.class} (transient): ${t.reason}`, { card: card.id, triage: t.class, transient: true, files: [`${evidenceRoot}/${s.detail}`] });
      }
      const ev: JournalEvent = { ts: deps.now(), event: 'card_result', run: run.id, day: run.day, truck: run.truck, card: card.id, slot: slot.slot, bundle, status: s.status, attempt: s.attempts };
      if (s.status === 'PASS') ev.outputs = outcome.outputs;
      else ev.triage = outcome.failure!.triage.class;
      await journalResult(ev);
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
      return stop('FAIL_STOP', `${card.id} failed twice: ${t.class}: ${t.reason}`, { card: card.id, triage: t.class, transient: false, files: [toRepoPath(deps.layout.repoRoot, rework), evidenceDir] });
    }
    if (ran) {
      await appendJournal(deps.layout, [{ ts: deps.now(), event: 'bundle_done', run: run.id, day: run.day, truck: run.truck, bundle }]);
      state = { ...state, bundle };
      log(`${run.id}: bundle ${bundle}/${OPS_120PLUS120.bundles} done`);
      await checkpoint(deps, opts, run, slots, state, bundle);
    }
  }
  if (pendingBatches.length)
    return stop('RECOVERABLE', `${pendingBatches.length} card(s) wait for batch jobs (${pendingBatches.join(', ')}); the next run collects them`, { card: pendingBatches[0]!, triage: 'API', transient: true });
  return stop('READY', `truck ${run.truck} of ${run.day} finished: ${passed} passed`);
}
