// `g7 status`: where the factory stands, read from the files alone, and what to do next.
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Layout } from '../ssot/layout.js';
import { backlogFile, compileStampFile, packetFile, packReportFile } from '../ssot/layout.js';
import { readState } from '../factory/state.js';
import { forecastRun, type RunForecast } from '../factory/next.js';
import { loadConfig, type Config } from '../ssot/config.js';
import { G7Error } from '../contracts/errors.js';
import { repositoryGate } from '../factory/gates.js';
import { Git } from '../git/git.js';
import { readDay, readRunResults, readTruckProgress } from '../ssot/journal.js';
import { latestBacklogDay, listRounds, openTrucks, readPacket, viewRound } from '../truck/packets.js';
import { OPS_120PLUS120 } from '../truck/pack.js';
import { grownSources } from '../plan/write.js';
import { fileExists } from '../plan/backlog.js';
import { EXIT } from './exit.js';
import type { Common } from './factory.js';
import { nowIso } from '../host/clock.js';

/** Where the newest day stands: its round, the cards left in it and after it, and how many rounds that is. */
async function dayStanding(layout: Layout, day: string): Promise<DayStanding | undefined> {
  const round = (await listRounds(layout, day)).at(-1);
  if (round === undefined) return undefined;
  const view = await viewRound(layout, day, round, await readTruckProgress(layout, day));
  const { outcomes } = await readDay(layout, day);
  let inRound = 0;
  for (const t of openTrucks(view)) for (const s of await readPacket(packetFile(layout, day, round, t))) if (!outcomes.has(s.card.id)) inRound++;
  const after = (view.report?.deferred.noRoom ?? 0) + (view.report?.deferred.waiting ?? 0);
  const perRound = OPS_120PLUS120.trucksPerRound * OPS_120PLUS120.slots;
  const mtime = async (f: string) => (await stat(f).catch(() => undefined))?.mtimeMs ?? 0;
  const changed = (await mtime(backlogFile(layout, day))) > (await mtime(packReportFile(layout, day, round)));
  const grown = await grownSources(layout, day);
  return { day, round, inRound, after, rounds: (inRound > 0 ? 1 : 0) + Math.ceil(after / perRound), held: view.report?.held.length ?? 0, changed, grown: grown?.grown.map((g) => `${g.path} grew from ${g.before} to ${g.now} lines`).join(', ') };
}

/**
 * The day's plan (as its compile stamp names it) priced as `g7 plan estimate` prices it, in one line: what the
 * cards left will cost, the trucks and nights, whether it fits. No network: no countTokens sample here.
 */
async function priceDay(c: Common, config: Config, day: string): Promise<{ line: string; usd?: number; requests?: number; tokens_in?: number; tokens_out?: number; trucks?: number; nights?: number; fits?: boolean; advice?: string[]; error?: string } | undefined> {
  let plan: string;
  try {
    plan = path.resolve(c.layout.repoRoot, (JSON.parse(await readFile(compileStampFile(c.layout, day), 'utf8')) as { plan: string }).plan);
  } catch {
    return undefined; // compiled elsewhere or written by hand: there is no plan to price
  }
  const [{ estimatePlan }, { estimateEnv }] = await Promise.all([import('../factory/estimate.js'), import('./plan.js')]);
  try {
    const e = await estimatePlan(plan, await estimateEnv(c.layout, config, () => {}, false));
    const usd = e.worker === 'gemini' ? e.total.usd : e.total.usd_gemini;
    const money = `$${usd < 1 ? usd.toFixed(4) : usd.toFixed(2)}`;
    const line = `${money}${e.worker === 'gemini' ? '' : ' with a key ($0 offline)'} for ${e.total.requests - e.total.cached - e.total.repeats} model request(s) of the ${e.cards} card(s) left (${e.total.tokens_in.toLocaleString('en-US')} tokens in, ${e.total.tokens_out.toLocaleString('en-US')} out), ${e.trucks.count} truck(s), ${e.nights.count} night(s); ${e.fits ? 'fits' : `does not fit: ${e.advice[0]}`} (g7 plan estimate ${c.display(plan)})`;
    return { line, usd, requests: e.total.requests - e.total.cached, tokens_in: e.total.tokens_in, tokens_out: e.total.tokens_out, trucks: e.trucks.count, nights: e.nights.count, fits: e.fits, advice: e.advice };
  } catch (err) {
    if (!(err instanceof G7Error)) throw err;
    const why = err.summary ?? err.message;
    return { line: `not available: ${why} (g7 plan estimate ${c.display(plan)} says more)`, error: why };
  }
}

interface DayStanding {
  day: string;
  round: number;
  /** Cards of the round's unfinished trucks without a result yet. */
  inRound: number;
  /** Cards the round's packing left for later rounds. */
  after: number;
  /** Rounds still to run, this one included (at least: cards waiting on deps may need more). */
  rounds: number;
  held: number;
  /** The backlog changed since the round was packed: the next run repacks. */
  changed: boolean;
  /** A `lines:` source (the strike list) grew since the plan was compiled: the next round compiles it again. */
  grown: string | undefined;
}

export async function statusCommand(c: Common): Promise<number> {
  const now = nowIso();
  const state = await readState(c.layout, c.display, now);
  let progress: { done: number; total: number } | undefined;
  const round = state.round ?? 1;
  if (state.run_id && state.day && state.truck && (await fileExists(packetFile(c.layout, state.day, round, state.truck)))) {
    const total = (await readPacket(packetFile(c.layout, state.day, round, state.truck))).length;
    const done = [...(await readRunResults(c.layout, state.run_id, state.day)).values()].length;
    progress = { done, total };
  }
  const latest = await latestBacklogDay(c.layout);
  const standing = latest ? await dayStanding(c.layout, latest) : undefined;
  const lanePlan = state.state === 'RUNNING' && state.run_id ? await (await import('../factory/lanes.js')).readLanePlan(c.layout, state.run_id) : undefined;
  // The gates `g7 run` passes, asked the same way: the configuration, the refused push, the evidence.
  let config: Config | undefined;
  let configProblem: string | undefined;
  try {
    config = await loadConfig(c.layout, c.display);
  } catch (err) {
    if (!(err instanceof G7Error)) throw err;
    configProblem = err.message;
  }
  const git = new Git(c.layout.repoRoot);
  const repo = await git.isRepo();
  const deps = { layout: c.layout, display: c.display, log: () => {}, warn: () => {}, now: nowIso };
  const closed = config ? repositoryGate(c.display(c.layout.repoRoot), repo, config.git.commit) : undefined;
  const noRepo = closed && `${closed.why}\n  → ${closed.fix}`;
  const forecast: RunForecast = configProblem
    ? { says: `the next \`g7 run\` refuses (exit ${EXIT.INVALID_INPUT}): ${configProblem}`, departs: false, exit: EXIT.INVALID_INPUT }
    : noRepo
      ? { says: `the next \`g7 run\` refuses (exit ${EXIT.USAGE}): ${noRepo}`, departs: false, exit: EXIT.USAGE }
      : await forecastRun(deps, state, { lanes: lanePlan?.lanes.map((l) => l.lane), intent: { pushing: config!.git.push }, git: repo ? git : undefined });
  const next = forecast.says;
  const code = configProblem ? EXIT.INVALID_INPUT : EXIT.OK;
  const priced = config && latest && (!standing || standing.inRound + standing.after > 0) ? await priceDay(c, config, latest) : undefined;
  if (c.json) {
    c.io.out(JSON.stringify({ ...state, progress, day: standing ?? null, estimate: priced ?? null, next, next_run: { departs: forecast.departs, exit: forecast.exit ?? null } }));
    return code;
  }
  c.io.out(`state: ${state.state}${state.run_id ? `  run: ${state.run_id}` : ''}${state.truck ? `  round ${round} truck ${state.truck} of ${state.day}` : ''}`);
  if (progress) c.io.out(`progress: ${progress.done}/${progress.total} cards of this run have a result`);
  if (standing) {
    const left = standing.inRound + standing.after;
    c.io.out(
      `day ${standing.day}: round ${standing.round}; ${left === 0 ? 'no cards left' : `${left} card(s) left (${standing.inRound} in this round, ${standing.after} after it) ≈ ${standing.rounds} round(s) of 120+120`}` +
        `${standing.held ? `; ${standing.held} held back` : ''}${standing.changed ? '; the backlog changed since this round was packed: the next `g7 run` repacks' : ''}`,
    );
    if (standing.grown) c.io.out(`strike list: ${standing.grown} since the plan was compiled; the next round compiles it again first`);
  }
  if (priced) c.io.out(`estimate: ${priced.line}`);
  if (state.owner) c.io.out(`owner: pid ${state.owner.pid} on ${state.owner.host} since ${state.owner.started_at}`);
  for (const b of state.batches ?? []) c.io.out(`batch: ${b.name} for ${b.card}, submitted ${b.submitted_at}; the next run collects it`);
  if (state.last_stop) {
    c.io.out(`last stop: ${state.last_stop.at}: ${state.last_stop.reason}`);
    if (state.last_stop.triage) c.io.out(`triage: ${state.last_stop.triage}${state.last_stop.transient ? ' (transient)' : ''}`);
    if (state.last_stop.hint) c.io.out(`fix: ${state.last_stop.hint}`);
    c.io.out('read:');
    for (const f of state.last_stop.files) c.io.out(`  ${f}`);
  }
  if (state.unpushed) c.io.out(`remote: the evidence committed since ${state.unpushed.since} is NOT on the remote (${state.unpushed.reason})`);
  c.io.out(`next: ${next}`);
  return code;
}
