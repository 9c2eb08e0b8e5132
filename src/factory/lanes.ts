// The lane matrix (SPEC 12): one truck spread over runners, as three kinds of job of one workflow run.
//
//  1. prepare (`g7 lanes prepare`): the usual departure (the remote, the state, the evidence gate, the
//     models), then the run is numbered once: runs/run_NNNN/lanes.json names the lanes that have work, the
//     journal says run_start, the state RUNNING; committed and pushed. Every lane job takes the run id from
//     there, so two lanes never number a run.
//  2. one job per lane (`g7 lanes run --run run_NNNN --lane N`), each on its own clone: it runs only its
//     lane's cards and writes only its evidence (runs/run_NNNN/lanes/N/), its records (state/lanes/
//     run_NNNN/N/: journal part, state, audit records, spend, strike candidates) and its cards' outputs,
//     so pushes of lanes at once rebase without conflict. It takes 1/N of the model rate limits and
//     budgets (lane-share.ts).
//  3. merge (`g7 lanes merge`, `if: always()`): lanes-merge.ts.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FactoryState, LanePlan } from '../contracts/types.gen.js';
import { SchemaError } from '../contracts/errors.js';
import { explain } from '../contracts/validate.js';
import { parseJson } from '../ssot/doc.js';
import { decodeText } from '../ssot/text.js';
import { writeJsonAtomic } from '../ssot/atomic.js';
import { appendJournal, readDay, readJournalDay, readRunResults } from '../ssot/journal.js';
import { packetFile, type Layout } from '../ssot/layout.js';
import { toRepoPath } from '../ssot/paths.js';
import { fileExists } from '../plan/backlog.js';
import { readPacket } from '../truck/packets.js';
import type { TruckName } from '../truck/pack.js';
import { EvidenceLedger, runDir } from './evidence.js';
import { readState, writeState } from './state.js';
import { RunLog } from './runlog.js';
import { commitWritten, deliverEvidence, type ActiveRun } from './checkpoint.js';
import type { FactoryDeps } from './deps.js';
import type { RunOutcome, RunState } from './run.js';


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
export async function merged(layout: Layout, run: string, display: (p: string) => string, now: string): Promise<boolean> {
  const state = await readState(layout, display, now);
  return state.run_id !== run || (state.state !== 'RUNNING' && (await fileExists(path.join(layout.runsDir, run, 'exitcode.txt'))));
}

/**
 * Commits the SSOT (and outputs) and pushes; returns why the remote refused, if it did. Refused commits are
 * parked on g7/unpushed/<run> (a lane's on g7/unpushed/<run>-lane-<n>: lanes push at once).
 */
export async function commitAndPush(deps: FactoryDeps, opts: { commit: boolean; push: boolean }, paths: string[], subject: string, trailers: Record<string, string | number>): Promise<{ message: string; parked?: string | undefined } | undefined> {
  if (!opts.commit || !deps.git) return undefined;
  await commitWritten(deps.git, deps.layout, paths, subject, trailers);
  if (!opts.push) return undefined;
  const lane = deps.layout.lane;
  const refused = await deliverEvidence(deps, lane ? `${lane.run}-lane-${lane.lane}` : String(trailers['G7-Run']));
  return refused ? { message: `${refused.reason}${refused.parked ? `; parked on ${deps.config.git.remote} ${refused.parked}, which the next job lands` : ''}`, parked: refused.parked ?? undefined } : undefined;
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
    if (refused) return { code: 'UNPUSHED', state: 'RUNNING', runId: run.id, passed: 0, failed: 0, evidence, lanes, unpushed: refused.message, ...(refused.parked ? { parked: refused.parked } : {}), message: `the lane plan of ${run.id} is committed here but NOT on the remote: ${refused.message}` };
    return { code: 'OK', state: 'RUNNING', runId: run.id, passed: 0, failed: 0, evidence, lanes, message: line };
  } finally {
    log.close();
  }
}

/**
 * One lane's start (deps.layout is the lane's, laneLayout): checks the plan, then opens or continues the
 * lane's part of the run, or says (as an outcome) why there is nothing to do.
 */
export async function openLaneRun(deps: FactoryDeps): Promise<{ run: ActiveRun; state: FactoryState; resumedFrom: RunState } | RunOutcome> {
  const { layout } = deps;
  const part = layout.lane!;
  const none = { passed: 0, failed: 0, runId: part.run };
  const plan = await readLanePlan(layout, part.run);
  if (!plan) return { code: 'REFUSED', state: 'READY', ...none, message: `${part.run} has no lane plan (${toRepoPath(layout.repoRoot, lanePlanFile(layout, part.run))}): the prepare job (g7 lanes prepare) makes it and says which run to use` };
  const mine = plan.lanes.find((l) => l.lane === part.lane);
  if (!mine) return { code: 'NOTHING', state: 'RUNNING', ...none, message: `lane ${part.lane} has no card to run in ${part.run} (its lanes: ${plan.lanes.map((l) => l.lane).join(', ') || 'none'})` };
  const factory = { ...layout, lane: undefined, stateFile: part.factoryState };
  if (await merged(factory, part.run, deps.display, deps.now())) return { code: 'NOTHING', state: 'READY', ...none, message: `${part.run} has been merged already: lane ${part.lane}'s cards without a result go to the next run` };
  let started = false;
  let stopped: RunState | undefined;
  await readJournalDay(layout, plan.day, (e) => {
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
    log: RunLog.open(runDir(layout, plan.run), deps.redact, { at: deps.now(), why }), results: await readRunResults(layout, plan.run, plan.day), summaries: new Map(), ledger: new EvidenceLedger(runDir(layout, plan.run)), progressed: false,
  };
  if (!started) await appendJournal(layout, [{ ts: deps.now(), event: 'run_start', run: run.id, day: run.day, round: run.round, truck: run.truck, lanes: [part.lane] }]);
  const { rpm, tpm } = deps.config.limits;
  deps.log(`${run.id}: lane ${part.lane} (${mine.cards} card(s)) of round ${run.round} truck ${run.truck} ${started ? 'continues' : 'departs'}; its share of the model limits, 1/${plan.lanes.length}: rpm ${rpm}, tpm ${tpm}, $${deps.config.budget.per_truck_usd.toFixed(2)} of the truck's budget`);
  return { run, state, resumedFrom: plan.resumed_from };
}
