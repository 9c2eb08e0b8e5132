// Which truck departs next. The truck at hand first (a stop, a resume or a lanes-only run left it
// unfinished); otherwise the newest day's current round: packed when it has not been, repacked when the
// backlog changed since (trucks that departed are kept as they are), and once both of its trucks are
// finished, the next round is packed from what is left. Before the first truck of a round departs, a day
// plan whose strike list has grown is compiled again, so what this night's TAG cards marked is struck by
// STRIKE cards in a later round of the same night.
//
// `decideNext` is the one place that says what a `g7 run` does with a state: `g7 run` acts on it, and
// `g7 status` / `g7 morning` ask it with `dryRun` (nothing packed, compiled or written) and print it, so
// the two cannot disagree.
import { hostname } from 'node:os';
import type { FactoryState } from '../contracts/types.gen.js';
import { readTruckProgress, truckKey } from '../ssot/journal.js';
import { compileToBacklog, grownSources } from '../plan/write.js';
import { latestBacklogDay, listRounds, openTrucks, packRound, roundIsStale, viewRound } from '../truck/packets.js';
import { TRUCKS, type TruckName } from '../truck/pack.js';
import type { FactoryDeps } from './deps.js';
import { alive } from '../host/alive.js';
import { STALLS_TO_FAIL_STOP } from './state.js';
import { evidenceGate, unpushedGate, type ClosedGate, type PushIntent } from './gates.js';
import type { Git } from '../git/git.js';

/** What `nextTruck` needs; a dry run needs no config (it compiles nothing). */
export type NextDeps = Pick<FactoryDeps, 'layout' | 'display' | 'log' | 'warn' | 'now'> & { config?: FactoryDeps['config'] };

export interface TruckAtHand {
  day: string;
  round: number;
  truck: TruckName;
  /** Dry run only: the round would be packed (or repacked) first, and why. */
  packs?: string;
}

/** Compiles the day plan again when a `lines:` source grew. True when the backlog changed. */
async function recompileIfGrown(deps: NextDeps, day: string, dryRun: boolean): Promise<boolean> {
  const grown = await grownSources(deps.layout, day);
  if (!grown) return false;
  if (dryRun || !deps.config) return true; // it would compile again, and the round be packed from that
  const what = grown.grown.map((g) => `${g.path} grew from ${g.before} to ${g.now} lines`).join(', ');
  try {
    const w = await compileToBacklog(grown.plan, { ...deps, config: deps.config }, { replace: true });
    deps.log(`${what}: compiled ${deps.display(grown.plan)} again (${w.diff})${w.backup ? `; the previous backlog is kept as ${deps.display(w.backup)}` : ''}`);
    return w.written !== 'unchanged';
  } catch (err) {
    deps.warn(`${what}, but ${deps.display(grown.plan)} did not compile again: ${(err as Error).message.split('\n')[0]}; the backlog is packed as it is`);
    return false;
  }
}

export async function nextTruck(deps: NextDeps, state: FactoryState, only: TruckName | undefined, opts: { dryRun?: boolean } = {}): Promise<TruckAtHand | string> {
  const { layout } = deps;
  const dryRun = opts.dryRun ?? false;
  if (!only && state.day && state.truck) {
    const round = state.round ?? 1;
    const progress = await readTruckProgress(layout, state.day);
    if (!progress.get(truckKey(state.day, round, state.truck))?.finished) return { day: state.day, round, truck: state.truck };
  }
  const day = await latestBacklogDay(layout);
  if (!day) return 'no backlog yet: compile a day plan (g7 plan compile ssot/plans/dayplan_YYYYMMDD.yaml)';
  let round = (await listRounds(layout, day)).at(-1) ?? 1;
  for (;;) {
    let view = await viewRound(layout, day, round, await readTruckProgress(layout, day));
    const departed = TRUCKS.some((t) => view.trucks[t].departed);
    const recompiled = !departed && (await recompileIfGrown(deps, day, dryRun));
    if (recompiled || (TRUCKS.some((t) => !view.trucks[t].departed) && (await roundIsStale(layout, day, view)))) {
      const fresh = !view.report;
      const report = await packRound(layout, day, round, deps.display, { skipIfEmpty: fresh, dryRun });
      if (!report.written) {
        const held = (await viewRound(layout, day, round - 1, new Map())).report?.held.length ?? 0;
        return `nothing to run: ${day} is done after ${round - 1} round(s)${held ? `; ${held} card(s) are held back (g7 status)` : ''}`;
      }
      const why = fresh ? 'packed' : departed ? 'repacked around the truck that departed (the backlog changed)' : 'repacked (the backlog changed)';
      if (dryRun) {
        // Nothing was written: the trucks as the packing would load them.
        const loaded = TRUCKS.filter((t) => report.trucks[t].cards > 0 && !view.trucks[t].finished);
        const pick = only ? loaded.find((t) => t === only) : loaded[0];
        if (pick) return { day, round, truck: pick, packs: why };
        if (loaded.length > 0) return `truck ${only} of round ${round} of ${day} is finished or empty; truck ${loaded[0]} is not: run it first`;
        round++;
        continue;
      }
      deps.log(`round ${round} of ${day} ${why}: truck A ${report.trucks.A.cards} card(s), truck B ${report.trucks.B.cards}`);
      view = await viewRound(layout, day, round, await readTruckProgress(layout, day));
    }
    const open = openTrucks(view);
    const pick = only ? open.find((t) => t === only) : open[0];
    if (pick) return { day, round, truck: pick };
    if (open.length > 0) return `truck ${only} of round ${round} of ${day} is finished or empty; truck ${open[0]} is not: run it first`;
    round++;
  }
}

/** What the next `g7 run` does with a state. */
export type NextStep =
  | { kind: 'fail_stop' }
  | { kind: 'waiting'; until: string }
  /** RUNNING, and its owner is gone (the caller holds the lock, or the pid is dead on this host). */
  | { kind: 'interrupted' }
  /** RUNNING, and its owner may still be working: status only (a run that got the lock sees `interrupted`). */
  | { kind: 'running' }
  | { kind: 'nothing'; message: string }
  | { kind: 'depart'; at: TruckAtHand };

/**
 * The decision `g7 run` takes, in its order: FAIL_STOP refuses; RECOVERABLE before its retry_after waits;
 * an interrupted run continues; otherwise the next truck departs, or there is nothing to run.
 * `lockHeld`: the caller holds state/run.lock, so a RUNNING state's owner is gone.
 */
export async function decideNext(deps: NextDeps, state: FactoryState, opts: { only?: TruckName | undefined; dryRun?: boolean; lockHeld: boolean }): Promise<NextStep> {
  if (state.state === 'FAIL_STOP') return { kind: 'fail_stop' };
  const retryAfter = state.state === 'RECOVERABLE' ? state.last_stop?.retry_after : undefined;
  if (retryAfter && Date.parse(retryAfter) > Date.parse(deps.now())) return { kind: 'waiting', until: retryAfter };
  if (state.state === 'RUNNING' && state.run_id && state.day && state.truck) {
    const ownerGone = opts.lockHeld || (state.owner?.host === hostname() && !alive(state.owner.pid));
    return ownerGone ? { kind: 'interrupted' } : { kind: 'running' };
  }
  const pick = await nextTruck(deps, state, opts.only, { dryRun: opts.dryRun ?? false });
  return typeof pick === 'string' ? { kind: 'nothing', message: pick } : { kind: 'depart', at: pick };
}

/** What the next `g7 run` will do, as `g7 status` says it. */
export interface RunForecast {
  says: string;
  /** A truck departs (or an interrupted one resumes). */
  departs: boolean;
  /** The exit code of a run that does not depart (undefined: it departs, or it depends on who holds the lock). */
  exit: number | undefined;
}

/** What a status asks beyond the state: how the run would push, and git (for the evidence gate). */
export interface ForecastOptions {
  lanes?: number[] | undefined;
  /** Unset: the refused-push gate is not asked (the caller says it on its own). */
  intent?: PushIntent | undefined;
  git?: Git | undefined;
}

/**
 * The sentence `g7 status` and `g7 morning` print for what the next `g7 run` does (or what a person must do
 * first). `lanes`: the state's run is a lane run with these lanes (its lanes.json), not merged yet.
 */
export async function nextStep(deps: NextDeps, state: FactoryState, lanes?: number[]): Promise<string> {
  return (await forecastRun(deps, state, { lanes })).says;
}

/**
 * What the next `g7 run` does, asked in the order `g7 run` asks: the refused-push gate, then the state
 * (decideNext), then, for a truck that departs, the evidence gate (gates.ts).
 */
export async function forecastRun(deps: NextDeps, state: FactoryState, opts: ForecastOptions = {}): Promise<RunForecast> {
  const refuses = (g: ClosedGate): RunForecast => ({ says: `the next \`g7 run\` refuses (exit ${g.exit}): ${g.message}`, departs: false, exit: g.exit });
  const unpushed = opts.intent ? unpushedGate(state, opts.intent) : undefined;
  if (unpushed) return refuses(unpushed);
  const next = await decideNext(deps, state, { dryRun: true, lockHeld: false });
  if (next.kind === 'depart') {
    const closed = await evidenceGate(deps.layout, deps.display, opts.git);
    if (closed) return refuses(closed);
  }
  const says = sayNext(next, state, opts.lanes);
  const pushesFirst = state.unpushed && opts.intent?.pushing ? `it pushes the evidence the remote refused (${state.unpushed.reason}) first, and departs only if that lands; then ` : '';
  const departs = next.kind === 'depart' || next.kind === 'interrupted';
  return { says: departs && pushesFirst ? `${pushesFirst}${says}` : says, departs, exit: next.kind === 'fail_stop' ? 6 : next.kind === 'nothing' || next.kind === 'waiting' ? 0 : undefined };
}

function sayNext(next: NextStep, state: FactoryState, lanes: number[] | undefined): string {
  const stop = state.last_stop;
  const stalls = state.stalled ? ` (${state.stalled} resume(s) in a row without progress; at ${STALLS_TO_FAIL_STOP} it stops FAIL_STOP)` : '';
  switch (next.kind) {
    case 'fail_stop':
      return `${stop?.hint ? `fix: ${stop.hint}; then` : 'read the files above, fix the cause, then'} run \`g7 resume\` (or \`g7 resume --skip ${stop?.card ?? 'CARD'} --reason "…"\` to drop the card); until then \`g7 run\` refuses (exit 6)`;
    case 'waiting':
      return `waits until ${next.until}; the first \`g7 run\` after that resumes at ${stop?.card ?? 'the stopped card'} by itself${stalls}`;
    case 'interrupted':
      return `interrupted (pid ${state.owner?.pid ?? '?'} is gone): the next \`g7 run\` resumes ${state.run_id} at the first card without a result`;
    case 'running':
      if (lanes) return `lanes ${lanes.join(', ')} of ${state.run_id} run as jobs of a matrix; \`g7 lanes merge\` seals the run (the next \`g7 run\` merges it first by itself)`;
      return 'a run is in progress (on another machine, or here: see the owner)';
    case 'nothing':
      return `the next \`g7 run\` has ${next.message}`;
    case 'depart': {
      const { day, round, truck, packs } = next.at;
      const what = `round ${round} truck ${truck} of ${day}${packs ? ` (${packs} first)` : ''}`;
      return state.state === 'RECOVERABLE' ? `the next \`g7 run\` resumes at ${stop?.card ?? 'the stopped card'} by itself: ${what}${stalls}` : `the next \`g7 run\` departs with ${what}`;
    }
  }
}
