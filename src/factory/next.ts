// Which truck departs next. The truck at hand first (a stop, a resume or a lanes-only run left it
// unfinished); otherwise the newest day's current round: packed when it has not been, repacked when the
// backlog changed since (trucks that departed are kept as they are), and once both of its trucks are
// finished, the next round is packed from what is left. Before the first truck of a round departs, a day
// plan whose strike list has grown is compiled again, so what this night's TAG cards marked is struck by
// STRIKE cards in a later round of the same night.
import type { FactoryState } from '../contracts/types.gen.js';
import { readTruckProgress, truckKey } from '../ssot/journal.js';
import { compileToBacklog, grownSources } from '../plan/write.js';
import { latestBacklogDay, listRounds, openTrucks, packRound, roundIsStale, viewRound } from '../truck/packets.js';
import { TRUCKS, type TruckName } from '../truck/pack.js';
import type { FactoryDeps } from './deps.js';

export interface TruckAtHand {
  day: string;
  round: number;
  truck: TruckName;
}

/** Compiles the day plan again when a `lines:` source grew. True when the backlog changed. */
async function recompileIfGrown(deps: FactoryDeps, day: string): Promise<boolean> {
  const grown = await grownSources(deps.layout, day);
  if (!grown) return false;
  const what = grown.grown.map((g) => `${g.path} grew from ${g.before} to ${g.now} lines`).join(', ');
  try {
    const w = await compileToBacklog(grown.plan, deps, { replace: true });
    deps.log(`${what}: compiled ${deps.display(grown.plan)} again (${w.diff})${w.backup ? `; the previous backlog is kept as ${deps.display(w.backup)}` : ''}`);
    return w.written !== 'unchanged';
  } catch (err) {
    deps.warn(`${what}, but ${deps.display(grown.plan)} did not compile again: ${(err as Error).message.split('\n')[0]}; the backlog is packed as it is`);
    return false;
  }
}

export async function nextTruck(deps: FactoryDeps, state: FactoryState, only: TruckName | undefined): Promise<TruckAtHand | string> {
  const { layout } = deps;
  if (!only && state.day && state.truck) {
    const round = state.round ?? 1;
    const progress = await readTruckProgress(layout);
    if (!progress.get(truckKey(state.day, round, state.truck))?.finished) return { day: state.day, round, truck: state.truck };
  }
  const day = await latestBacklogDay(layout);
  if (!day) return 'no backlog yet: compile a day plan (g7 plan compile ssot/plans/dayplan_YYYYMMDD.yaml)';
  let round = (await listRounds(layout, day)).at(-1) ?? 1;
  for (;;) {
    let view = await viewRound(layout, day, round, await readTruckProgress(layout));
    const departed = TRUCKS.some((t) => view.trucks[t].departed);
    const recompiled = !departed && (await recompileIfGrown(deps, day));
    if (recompiled || (TRUCKS.some((t) => !view.trucks[t].departed) && (await roundIsStale(layout, day, view)))) {
      const fresh = !view.report;
      const report = await packRound(layout, day, round, deps.display, { skipIfEmpty: fresh });
      if (!report.written) {
        const held = (await viewRound(layout, day, round - 1, new Map())).report?.held.length ?? 0;
        return `nothing to run: ${day} is done after ${round - 1} round(s)${held ? `; ${held} card(s) are held back (g7 status)` : ''}`;
      }
      const why = fresh ? 'packed' : departed ? 'repacked around the truck that departed (the backlog changed)' : 'repacked (the backlog changed)';
      deps.log(`round ${round} of ${day} ${why}: truck A ${report.trucks.A.cards} card(s), truck B ${report.trucks.B.cards}`);
      view = await viewRound(layout, day, round, await readTruckProgress(layout));
    }
    const open = openTrucks(view);
    const pick = only ? open.find((t) => t === only) : open[0];
    if (pick) return { day, round, truck: pick };
    if (open.length > 0) return `truck ${only} of round ${round} of ${day} is finished or empty; truck ${open[0]} is not: run it first`;
    round++;
  }
}
