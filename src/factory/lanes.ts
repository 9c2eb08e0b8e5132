// The lane matrix (SPEC 12): one truck spread over runners, as three kinds of job of one workflow run.
//
//  1. prepare (`g7 lanes prepare`): the usual departure (the remote, the state, the evidence gate, the
//     models), then the run is numbered once: runs/run_NNNN/lanes.json names the lanes that have work, the
//     journal says run_start, the state RUNNING; committed and pushed. Every lane job takes the run id from
//     there, so two lanes never number a run.
//  2. one job per lane (`g7 lanes run --run run_NNNN --lane N`), each on its own clone: it runs only its
//     lane's cards and writes only runs/run_NNNN/lanes/N/ (evidence, journal part, state, audit records,
//     spend, strike candidates) and its cards' outputs, so pushes of lanes at once rebase without
//     conflict. It takes 1/N of the model rate limits and budgets (lane-share.ts).
//  3. merge (`g7 lanes merge`, `if: always()`): folds the lane parts into the factory's journal, spend,
//     audit log and strike list, writes the run's verify_report.json over every card of the truck, seals
//     the whole run and sets the state from the lanes' stops. A lane that died leaves its cards without a
//     result: reported pending, the truck not finished, so the next run takes them. Every step can run
//     again after a crash.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CardResult, FactoryState, JournalEvent, LanePlan, PacketSlot, VerifyReport } from '../contracts/types.gen.js';
import { SchemaError, UsageError } from '../contracts/errors.js';
import { explain } from '../contracts/validate.js';
import { parseJson } from '../ssot/doc.js';
import { decodeText } from '../ssot/text.js';
import { appendLines, writeJsonAtomic } from '../ssot/atomic.js';
import { forEachLine } from '../ssot/jsonl.js';
import { appendJournal, readDay, readJournal, readRunResults } from '../ssot/journal.js';
import { laneLayout, packetFile, type Layout } from '../ssot/layout.js';
import { toRepoPath } from '../ssot/paths.js';
import { fileExists } from '../plan/backlog.js';
import { STRIKE_LIST } from '../executors/tag.js';
import { readPacket } from '../truck/packets.js';
import type { TruckName } from '../truck/pack.js';
import { PushRefused } from '../git/git.js';
import { runDir, writeRunEvidence } from './evidence.js';
import { readState, writeState } from './state.js';
import { RunLog } from './runlog.js';
import { acquireLock, LockBusyError } from './lock.js';
import { pushBranch, type ActiveRun } from './checkpoint.js';
import type { FactoryDeps } from './deps.js';
import type { RunOutcome, RunState } from './run.js';

const EXIT_FOR: Record<RunState, number> = { READY: 0, FAIL_STOP: 4, RECOVERABLE: 5, RUNNING: 5 };

export function lanePlanFile(layout: Layout, run: string): string {
  return path.join(layout.runsDir, run, 'lanes.json');
}

/** runs/run_NNNN/lanes.json (schemas/lane_plan.schema.json): undefined when the run is not a lane run. */
export async function readLanePlan(layout: Layout, run: string): Promise<LanePlan | undefined> {
  const file = lanePlanFile(layout, run);
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch {
    return undefined;
  }
  const shown = toRepoPath(layout.repoRoot, file);
  const doc = parseJson(decodeText(bytes, shown), shown);
  const problems = explain('lane_plan', doc.value, { file: shown, doc });
  if (problems.length) throw new SchemaError(problems, `the lane plan of ${run} is invalid; restore it from git (git log -- ${shown})`);
  return doc.value as LanePlan;
}

/** True once the merge has sealed the run: the factory's state moved on from it. */
async function merged(layout: Layout, run: string, display: (p: string) => string, now: string): Promise<boolean> {
  const state = await readState(layout, display, now);
  return state.run_id !== run || (state.state !== 'RUNNING' && (await fileExists(path.join(layout.runsDir, run, 'exitcode.txt'))));
}

/** Commits the SSOT (and outputs) and pushes; returns why the remote refused, if it did. */
async function commitAndPush(deps: FactoryDeps, opts: { commit: boolean; push: boolean }, paths: string[], subject: string, trailers: Record<string, string | number>): Promise<string | undefined> {
  if (!opts.commit || !deps.git) return undefined;
  const ssotRel = toRepoPath(deps.layout.repoRoot, deps.layout.ssotDir);
  await deps.git.commitPaths([ssotRel, ...paths.filter((p) => !p.startsWith(ssotRel + '/'))], subject, trailers);
  if (!opts.push) return undefined;
  try {
    await deps.git.pushWithRetry(deps.config.git.remote, await pushBranch(deps));
  } catch (err) {
    if (!(err instanceof PushRefused)) throw err;
    deps.warn(err.message);
    return err.reason;
  }
  return undefined;
}

/**
 * The prepare job's part of a departure (runFactory has done the checks and numbered the run): plans the
 * lanes of the truck that still have cards to run, records the departure and pushes it.
 */
export async function departLanes(
  deps: FactoryDeps,
  opts: { lanes?: number[] | undefined; commit: boolean; push: boolean },
  run: { id: string; day: string; round: number; truck: TruckName; why: string },
  state: FactoryState,
  early: { warning: boolean; line: string }[],
): Promise<RunOutcome & { lanes: number[] }> {
  const { layout } = deps;
  const slots = await readPacket(packetFile(layout, run.day, run.round, run.truck));
  const { outcomes } = await readDay(layout, run.day);
  const count = new Map<number, number>();
  for (const s of slots) {
    if (opts.lanes && !opts.lanes.includes(s.card.lane)) continue;
    if (outcomes.get(s.card.id)?.status === 'PASS') continue;
    count.set(s.card.lane, (count.get(s.card.lane) ?? 0) + 1);
  }
  const lanes = [...count.keys()].sort((a, b) => a - b);
  const plan: LanePlan = { schema_version: 1, run: run.id, day: run.day, round: run.round, truck: run.truck, created_at: deps.now(), resumed_from: state.state, lanes: lanes.map((lane) => ({ lane, cards: count.get(lane)! })) };
  const log = RunLog.open(runDir(layout, run.id), deps.redact, { at: deps.now(), why: `${run.why} as lanes` });
  try {
    for (const e of early) (e.warning ? log.warning(e.line) : log.line(e.line));
    await writeJsonAtomic(lanePlanFile(layout, run.id), plan);
    await appendJournal(layout, [{ ts: deps.now(), event: 'run_start', run: run.id, day: run.day, round: run.round, truck: run.truck, lanes }]);
    const next: FactoryState = { ...state, state: 'RUNNING', day: run.day, round: run.round, truck: run.truck, run_id: run.id, owner: null, bundle: null, heartbeat_at: deps.now(), updated_at: deps.now() };
    await writeState(layout, next);
    const what = lanes.length ? `lanes ${lanes.map((l) => `${l} (${count.get(l)} card(s))`).join(', ')}` : 'no lane: every card of the truck is done';
    const line = `${run.id}: round ${run.round} truck ${run.truck} of ${run.day} departs as ${what}; each lane takes 1/${Math.max(1, lanes.length)} of the model limits`;
    log.line(line);
    deps.log(line);
    log.flush();
    const refused = await commitAndPush(deps, opts, [], `g7: ${run.id} round ${run.round} truck ${run.truck}: lanes ${lanes.join(',') || 'none'} depart`, {
      'G7-Run': run.id, 'G7-Day': run.day, 'G7-Round': run.round, 'G7-Truck': run.truck, 'G7-State': 'RUNNING', 'G7-Lanes': lanes.join(',') || 'none',
    });
    const evidence = toRepoPath(layout.repoRoot, runDir(layout, run.id));
    if (refused) return { code: 'UNPUSHED', state: 'RUNNING', runId: run.id, passed: 0, failed: 0, evidence, lanes, unpushed: refused, message: `the lane plan of ${run.id} is committed here but NOT on the remote: ${refused}` };
    return { code: 'OK', state: 'RUNNING', runId: run.id, passed: 0, failed: 0, evidence, lanes, message: line };
  } finally {
    log.close();
  }
}

/**
 * One lane's start (deps.layout is the lane's, laneLayout): checks the plan, then opens or continues the
 * lane's part of the run. A string says why there is nothing to do.
 */
export async function openLaneRun(deps: FactoryDeps): Promise<{ run: ActiveRun; state: FactoryState; resumedFrom: RunState } | RunOutcome> {
  const { layout } = deps;
  const part = layout.lane!;
  const none = { passed: 0, failed: 0, runId: part.run };
  const plan = await readLanePlan(layout, part.run);
  if (!plan) return { code: 'REFUSED', state: 'READY', ...none, message: `${part.run} has no lane plan (${toRepoPath(layout.repoRoot, lanePlanFile(layout, part.run))}): the prepare job (g7 lanes prepare) makes it and says which run to use` };
  const mine = plan.lanes.find((l) => l.lane === part.lane);
  if (!mine) return { code: 'NOTHING', state: 'RUNNING', ...none, message: `lane ${part.lane} has no card to run in ${part.run} (its lanes: ${plan.lanes.map((l) => l.lane).join(', ') || 'none'})` };
  const factory = { ...layout, lane: undefined, journalFile: part.factoryJournal, stateFile: part.factoryState };
  if (await merged(factory, part.run, deps.display, deps.now())) return { code: 'NOTHING', state: 'READY', ...none, message: `${part.run} has been merged already: lane ${part.lane}'s cards without a result go to the next run` };
  let started = false;
  let stopped: RunState | undefined;
  await readJournal(layout, (e) => {
    if (e.run !== part.run) return;
    if (e.event === 'run_start' && e.lanes?.length === 1 && e.lanes[0] === part.lane) started = true;
    if (e.event === 'run_stop' && e.lanes?.length === 1 && e.lanes[0] === part.lane) stopped = e.state;
  });
  if (stopped) return { code: 'NOTHING', state: stopped, ...none, message: `lane ${part.lane} of ${part.run} has stopped already (${stopped}); the merge job seals the run` };
  // A lane starts from the state the prepare job left; a lane that runs again (a re-run job) from its own.
  const own = await fileExists(layout.stateFile);
  const base = await readState(own ? layout : factory, deps.display, deps.now());
  const ids = new Set((await readPacket(packetFile(layout, plan.day, plan.round, plan.truck))).filter((s) => s.card.lane === part.lane).map((s) => s.card.id));
  const state: FactoryState = { ...base, batches: (base.batches ?? []).filter((b) => ids.has(b.card)) };
  const why = started ? `continues lane ${part.lane}` : `runs lane ${part.lane} of ${plan.lanes.length}`;
  const run: ActiveRun = {
    id: plan.run, day: plan.day, round: plan.round, truck: plan.truck, lanes: [part.lane], startedAt: deps.now(),
    log: RunLog.open(runDir(layout, plan.run), deps.redact, { at: deps.now(), why }), results: await readRunResults(layout, plan.run), progressed: false,
  };
  if (!started) await appendJournal(layout, [{ ts: deps.now(), event: 'run_start', run: run.id, day: run.day, round: run.round, truck: run.truck, lanes: [part.lane] }]);
  const { rpm, tpm } = deps.config.limits;
  deps.log(`${run.id}: lane ${part.lane} (${mine.cards} card(s)) of round ${run.round} truck ${run.truck} ${started ? 'continues' : 'departs'}; its share of the model limits, 1/${plan.lanes.length}: rpm ${rpm}, tpm ${tpm}, $${deps.config.budget.per_truck_usd.toFixed(2)} of the truck's budget`);
  return { run, state, resumedFrom: plan.resumed_from };
}

/** A lane's part as the merge finds it: its journal lines, its stop, its state. */
interface LaneFound {
  lane: number;
  events: JournalEvent[];
  lines: string[];
  stop: RunState | undefined;
  state: FactoryState | undefined;
}

async function readLanePart(layout: Layout, run: string, lane: number, display: (p: string) => string, now: string): Promise<LaneFound> {
  const ll = laneLayout(layout, run, lane);
  const found: LaneFound = { lane, events: [], lines: [], stop: undefined, state: undefined };
  if (await fileExists(ll.journalFile))
    await forEachLine(ll.journalFile, (text) => {
      if (text.trim() === '') return;
      let e: JournalEvent;
      try {
        e = JSON.parse(text) as JournalEvent;
      } catch {
        return; // a torn tail: the event never happened
      }
      if (e.run !== run) return;
      found.events.push(e);
      found.lines.push(text);
      if (e.event === 'run_stop') found.stop = e.state;
    });
  if (await fileExists(ll.stateFile)) found.state = await readState(ll, display, now);
  return found;
}

/** Appends the lines of `from` that `to` does not hold yet (a merge that runs again adds nothing twice). */
async function foldLines(from: string, to: string): Promise<number> {
  const have = new Set<string>();
  if (await fileExists(to)) await forEachLine(to, (t) => void (t.trim() && have.add(t)));
  const add: string[] = [];
  await forEachLine(from, (t) => {
    if (t.trim() && !have.has(t)) (have.add(t), add.push(t));
  });
  if (add.length) await appendLines(to, add);
  return add.length;
}

/** Appends the strike candidates of `from` whose chunk (`key`) the strike list does not hold yet. */
async function foldStrikes(from: string, to: string): Promise<number> {
  const keyOf = (t: string) => {
    try {
      return (JSON.parse(t) as { key?: string }).key;
    } catch {
      return undefined; // a torn tail
    }
  };
  const have = new Set<string>();
  if (await fileExists(to)) await forEachLine(to, (t) => void (t.trim() && have.add(keyOf(t) ?? t)));
  const add: string[] = [];
  await forEachLine(from, (t) => {
    const key = t.trim() ? keyOf(t) : undefined;
    if (key !== undefined && !have.has(key)) (have.add(key), add.push(t));
  });
  if (add.length) await appendLines(to, add);
  return add.length;
}

/** Adds a lane's spend to the night's, once (the spend file remembers which lane parts it holds). */
async function foldSpend(from: string, to: string, key: string): Promise<void> {
  type SpendFile = { usd: number; tokens_in: number; tokens_out: number; calls: number; lanes_merged?: string[] };
  const lane = JSON.parse(await readFile(from, 'utf8')) as SpendFile;
  let night: SpendFile = { usd: 0, tokens_in: 0, tokens_out: 0, calls: 0 };
  try {
    night = JSON.parse(await readFile(to, 'utf8')) as SpendFile;
  } catch {
    /* the first spend of the night */
  }
  if (night.lanes_merged?.includes(key)) return;
  await writeJsonAtomic(to, { usd: night.usd + lane.usd, tokens_in: night.tokens_in + lane.tokens_in, tokens_out: night.tokens_out + lane.tokens_out, calls: night.calls + lane.calls, lanes_merged: [...(night.lanes_merged ?? []), key] });
}

async function namesIn(dir: string, re: RegExp): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => re.test(n)).sort();
}

/** The card's entry in the report, from its summary in the lane's part (a SKIP has none: from the journal). */
async function cardEntry(layout: Layout, run: string, lane: number, slot: PacketSlot, e: JournalEvent): Promise<CardResult> {
  const prefix = `lanes/${lane}/`;
  const dir = `cards/${String(slot.slot).padStart(3, '0')}_${slot.card.id}`;
  try {
    const c = JSON.parse(await readFile(path.join(layout.runsDir, run, prefix, dir, 'summary.json'), 'utf8')) as CardResult;
    return { ...c, detail: prefix + c.detail };
  } catch {
    return { id: slot.card.id, slot: slot.slot, lane: slot.card.lane, type: slot.card.type, status: e.status ?? 'SKIP', attempts: 0, accept: [], failfast: [], triage: null, duration_ms: 0, tokens: { in: 0, out: 0 }, cost_usd: 0, outputs: [], detail: e.detail ?? '' };
  }
}

/**
 * The merge job: folds every lane's part into the factory's files, seals the run over all of it, sets the
 * state and commits. Safe to run again (after a crash, or a re-run of the workflow): nothing is added twice.
 */
export async function mergeLanes(deps: FactoryDeps, run: string, opts: { commit: boolean; push: boolean }): Promise<RunOutcome> {
  const { layout } = deps;
  const plan = await readLanePlan(layout, run);
  if (!plan) throw new UsageError(`${run} is not a lane run: ${toRepoPath(layout.repoRoot, lanePlanFile(layout, run))} does not exist`);
  const evidence = toRepoPath(layout.repoRoot, runDir(layout, run));
  if (await merged(layout, run, deps.display, deps.now())) return { code: 'NOTHING', state: (await readState(layout, deps.display, deps.now())).state, runId: run, passed: 0, failed: 0, evidence, message: `${run} has been merged already` };
  const log = RunLog.open(runDir(layout, run), deps.redact, { at: deps.now(), why: `merges lanes ${plan.lanes.map((l) => l.lane).join(', ')}` });
  const say = (line: string) => (log.line(line), deps.log(line));
  try {
    const parts: LaneFound[] = [];
    for (const { lane } of plan.lanes) parts.push(await readLanePart(layout, run, lane, deps.display, deps.now()));

    // The journal: each lane's lines, in lane order, each once.
    const have = new Set<string>();
    await readJournal(layout, (e) => void (e.run === run && have.add(JSON.stringify(e))));
    const add = parts.flatMap((p) => p.events).filter((e) => !have.has(JSON.stringify(e)));
    if (add.length) await appendJournal(layout, add);
    // The audit records and the spend of the lanes' model calls, and the strike candidates their TAG cards found.
    for (const p of parts) {
      const dir = laneLayout(layout, run, p.lane).lane!.dir;
      for (const n of await namesIn(path.join(dir, 'ai-ask'), /\.jsonl$/)) await foldLines(path.join(dir, 'ai-ask', n), path.join(layout.auditDir, 'ai-ask', n));
      for (const n of await namesIn(dir, /^spend_\d{8}\.json$/)) await foldSpend(path.join(dir, n), path.join(layout.stateDir, n), `${run}/${p.lane}`);
      if (await fileExists(path.join(dir, STRIKE_LIST))) {
        const added = await foldStrikes(path.join(dir, STRIKE_LIST), path.join(layout.libraryIndexDir, STRIKE_LIST));
        if (added) say(`lane ${p.lane}: ${added} new strike candidate(s) on ${toRepoPath(layout.repoRoot, path.join(layout.libraryIndexDir, STRIKE_LIST))}`);
      }
    }

    // The report over every card of the truck: a card without a result in any lane is pending.
    const slots = await readPacket(packetFile(layout, plan.day, plan.round, plan.truck));
    const results = await readRunResults(layout, run);
    const cards: CardResult[] = [];
    const outputs: string[] = [];
    for (const s of slots) {
      const e = results.get(s.card.id);
      if (!e) continue;
      cards.push(await cardEntry(layout, run, s.card.lane, s, e));
      for (const o of e.outputs ?? []) outputs.push(o.path);
    }
    const count = (st: string) => cards.filter((c) => c.status === st).length;

    // The state: a lane that stopped FAIL_STOP wins, then RECOVERABLE, then a lane that never stopped.
    const state = await readState(layout, deps.display, deps.now());
    const stopOf = (p: LaneFound) => p.state?.last_stop ?? null;
    const failed = parts.find((p) => p.stop === 'FAIL_STOP');
    const waiting = parts.filter((p) => p.stop === 'RECOVERABLE');
    const died = parts.filter((p) => !p.stop);
    for (const p of parts) {
      const mine = slots.filter((s) => s.card.lane === p.lane);
      const got = mine.filter((s) => results.has(s.card.id)).length;
      say(`lane ${p.lane}: ${p.stop ?? 'did not finish (its job died, was cancelled, or its push did not land)'}, ${got} of ${mine.length} card(s) with a result${got < mine.length ? `; ${mine.length - got} go to the next run` : ''}`);
    }
    let next: FactoryState;
    const base = { ...state, owner: null, bundle: null, batches: [...(state.batches ?? []).filter((b) => !slots.some((s) => s.card.id === b.card)), ...parts.flatMap((p) => p.state?.batches ?? [])], updated_at: deps.now(), heartbeat_at: deps.now() };
    if (failed) next = { ...base, state: 'FAIL_STOP', last_stop: stopOf(failed), stalled: 0 };
    else if (waiting.length) {
      const stops = waiting.map(stopOf).filter((s) => s !== null);
      const latest = stops.reduce<(typeof stops)[number] | undefined>((a, s) => (!a || (s.retry_after ?? '') > (a.retry_after ?? '') ? s : a), undefined);
      next = { ...base, state: 'RECOVERABLE', last_stop: latest ?? null, stalled: Math.max(0, ...waiting.map((p) => p.state?.stalled ?? 0)) };
    } else if (died.length) {
      const missing = slots.filter((s) => died.some((p) => p.lane === s.card.lane) && !results.has(s.card.id)).length;
      next = { ...base, state: 'RECOVERABLE', stalled: state.stalled ?? 0, last_stop: { at: deps.now(), reason: `lane(s) ${died.map((p) => p.lane).join(', ')} of ${run} did not finish: ${missing} card(s) have no result; the next run takes them`, card: null, triage: null, transient: true, retry_after: deps.now(), hint: 'read the lane jobs\' logs; nothing to fix when a runner was lost', files: died.map((p) => `${evidence}/lanes/${p.lane}`) } };
    } else next = { ...base, state: 'READY', last_stop: null, stalled: 0 };
    // Lanes the prepare job left out (it was given some lanes only) still have cards: the truck goes on.
    const { outcomes } = await readDay(layout, plan.day);
    const planned = plan.lanes.map((l) => l.lane);
    const leftOut = [...new Set(slots.filter((s) => !planned.includes(s.card.lane) && !results.has(s.card.id) && outcomes.get(s.card.id)?.status !== 'PASS').map((s) => s.card.lane))].sort((a, b) => a - b);
    const reason = next.last_stop?.reason ?? (leftOut.length ? `lanes ${planned.join(', ')} of round ${plan.round} truck ${plan.truck} of ${plan.day} done (${count('PASS')} passed); lanes ${leftOut.join(', ')} were not in this run: the next run takes them` : `round ${plan.round} truck ${plan.truck} of ${plan.day} finished: ${count('PASS')} passed`);
    say(`${run}: ${next.state} — ${reason}`);
    // The run's own stop; a READY one without \`lanes\` finishes the truck.
    await appendJournal(layout, [{ ts: deps.now(), event: 'run_stop', run, day: plan.day, round: plan.round, truck: plan.truck, state: next.state, detail: reason.slice(0, 500), ...(leftOut.length ? { lanes: planned } : {}) }]);

    const report: VerifyReport = {
      schema_version: 1, run_id: run, day: plan.day, round: plan.round, truck: plan.truck, started_at: plan.created_at, finished_at: deps.now(), state: next.state,
      counts: { passed: count('PASS'), failed: count('FAIL'), skipped: count('SKIP'), pending: slots.length - cards.length },
      cost_usd: Number(cards.reduce((a, c) => a + c.cost_usd, 0).toFixed(6)), tokens: cards.reduce((t, c) => ({ in: t.in + c.tokens.in, out: t.out + c.tokens.out }), { in: 0, out: 0 }), cards,
    };
    log.flush();
    const digest = await writeRunEvidence(layout, { report, exitCode: EXIT_FOR[next.state], outputs }, deps.now());
    await writeState(layout, next);
    const refused = await commitAndPush(deps, opts, outputs, `g7: ${run} round ${plan.round} truck ${plan.truck} lanes merged: ${next.state}, ${report.counts.passed} passed, ${report.counts.failed} failed`, {
      'G7-Run': run, 'G7-Day': plan.day, 'G7-Round': plan.round, 'G7-Truck': plan.truck, 'G7-Bundle': 0, 'G7-State': next.state,
      'G7-Passed': report.counts.passed, 'G7-Failed': report.counts.failed, 'G7-Manifest': `sha256:${digest}`, 'G7-Lanes': plan.lanes.map((l) => l.lane).join(',') || 'none',
    });
    if (refused) {
      next.unpushed = { since: deps.now(), reason: refused };
      await writeState(layout, next);
    }
    const code = refused ? 'UNPUSHED' : next.state === 'READY' ? 'OK' : next.state === 'FAIL_STOP' ? 'FAIL_STOP' : 'RECOVERABLE';
    return { code, state: next.state, runId: run, passed: report.counts.passed, failed: report.counts.failed, evidence, message: refused ? `${reason}\n  the merged evidence is committed here but NOT on the remote: ${refused}` : reason, ...(next.last_stop?.retry_after ? { retryAfter: next.last_stop.retry_after } : {}), ...(refused ? { unpushed: refused } : {}) };
  } finally {
    log.close();
  }
}

/** `g7 lanes merge`: under the factory's lock, the named lane run or the one the state names. Undefined: none to merge. */
export async function mergeLaneRun(deps: FactoryDeps, run: string | undefined, opts: { commit: boolean; push: boolean }): Promise<RunOutcome | undefined> {
  let lock;
  try {
    lock = await acquireLock(deps.layout.lockFile, deps.now());
  } catch (err) {
    if (err instanceof LockBusyError) return { code: 'BUSY', state: 'RUNNING', passed: 0, failed: 0, message: err.message };
    throw err;
  }
  try {
    const id = run ?? (await readState(deps.layout, deps.display, deps.now())).run_id ?? undefined;
    if (!id) return undefined;
    if (!run && !(await readLanePlan(deps.layout, id))) return { code: 'NOTHING', state: (await readState(deps.layout, deps.display, deps.now())).state, runId: id, passed: 0, failed: 0, message: `${id}, the run the state names, is not a lane run: nothing to merge` };
    return await mergeLanes(deps, id, opts);
  } finally {
    await lock.release();
  }
}

/** The lane run the factory's state points at, when the merge has not sealed it yet. */
export async function unmergedLaneRun(layout: Layout, state: FactoryState): Promise<string | undefined> {
  if (state.state !== 'RUNNING' || !state.run_id) return undefined;
  return (await readLanePlan(layout, state.run_id)) ? state.run_id : undefined;
}
