// Chaining (SPEC 9a): a night runs as many trucks as its backlog, window and budget allow, not only as many
// as its cron has jobs. When a truck leaves work (it finished and another truck is due, or it stopped at the
// job's time budget) inside factory.yaml's night and the night's budget, the job dispatches the next run of
// its own workflow: workflow_dispatch, an event GITHUB_TOKEN may start a run with (`actions: write`).
// That run waits in the factory's concurrency group until this job is gone, then departs. Whatever the
// answer, the evidence is already pushed: a chain that does not start leaves the night to the cron.
import * as core from '@actions/core';
import type { FactoryDeps } from '../factory/deps.js';
import type { RunOutcome } from '../factory/run.js';
import { readState } from '../factory/state.js';
import { decideNext } from '../factory/next.js';
import type { Config } from '../ssot/config.js';
import { nightEndsAt } from '../ssot/night.js';
import { Budget } from '../worker/gemini/budget.js';
import type { ActionSettings } from './settings.js';

/** A guard against a loop, not a plan: a 7-hour night of trucks that take at least ten minutes has fewer links. */
export const MAX_CHAIN_LINKS = 48;

export interface ChainOutcome {
  chained: boolean;
  /** What was dispatched, or why nothing was. */
  reason: string;
}

const not = (reason: string): ChainOutcome => ({ chained: false, reason });

/** Why a step that ended this way starts no next run (undefined: it may). */
function stoppedWhy(out: RunOutcome): string | undefined {
  if (out.code === 'OK' || (out.code === 'RECOVERABLE' && out.outOfTime)) return undefined;
  if (out.code === 'NOTHING') return out.message.split('\n')[0]!;
  const until = out.retryAfter && (out.code === 'RECOVERABLE' || out.code === 'WAITING') ? ` until ${out.retryAfter}` : '';
  return `the step ended ${out.code}${until}: only a truck that finished, or stopped at max-minutes, starts the next run`;
}

/**
 * Why a run that a chain started departs nothing: its clock is past the night's end (it waited in GitHub's queue
 * or behind a person's run). Undefined when it may depart: inside the night, or not started by a chain.
 */
export function pastTheNight(s: ActionSettings, config: Config, now: string): string | undefined {
  if (s.chainLink === 0) return undefined;
  if (nightEndsAt(config.night, new Date(now))) return undefined;
  return `the night ended (${config.night.start}–${config.night.end} ${config.night.tz}, factory.yaml night) before this run, link ${s.chainLink} of tonight's chain, started at ${now}: nothing departs; the next night's scheduled job takes the truck`;
}

/** Dispatches the next run of this workflow when the night has work, time and money left for it. */
export async function chainNextRun(s: ActionSettings, deps: FactoryDeps, config: Config, out: RunOutcome, onRemote: boolean): Promise<ChainOutcome> {
  if (!s.chain) return not('input chain is false');
  if (s.dryRun) return not('a dry run starts no other run');
  const stopped = stoppedWhy(out);
  if (stopped) return not(stopped);
  if (!onRemote) return not('the evidence of this job is not on the remote');
  const now = deps.now();
  const night = config.night;
  const ends = nightEndsAt(night, new Date(now));
  if (!ends) return not(`outside the night (${night.start}–${night.end} ${night.tz}, factory.yaml night): the next scheduled job goes on`);
  const next = await decideNext(deps, await readState(deps.layout, deps.display, now), { dryRun: true, lockHeld: false });
  if (next.kind === 'nothing') return not(next.message);
  if (next.kind !== 'depart') return not(`the next g7 run would not depart (${next.kind})`);
  const spent = await new Budget(deps.layout.stateDir, config.budget, () => now.slice(0, 10).replace(/-/g, '')).nightSpend();
  if (spent.usd >= config.budget.per_night_usd) return not(`tonight's budget is spent ($${spent.usd.toFixed(2)} of budget.per_night_usd $${config.budget.per_night_usd.toFixed(2)})`);
  if (s.chainLink >= MAX_CHAIN_LINKS) return not(`this run is link ${s.chainLink} of tonight's chain, the most one chain makes (${MAX_CHAIN_LINKS}): the next scheduled job goes on`);
  const workflow = s.github.workflowFile;
  if (!workflow) return not('GITHUB_WORKFLOW_REF names no workflow file to dispatch');
  if (!s.github.branch) return not('the run is not on a branch (GITHUB_REF): nothing to dispatch on');
  if (!s.githubToken || !s.github.repository) return not('no github-token to dispatch with');
  const link = s.chainLink + 1;
  try {
    const { connectForge } = await import('../forge/connect.js');
    const forge = await connectForge({ repository: s.github.repository, token: s.githubToken, apiUrl: s.github.apiUrl });
    const url = await forge.dispatchWorkflow({ workflow, ref: s.github.branch, inputs: { chain: String(link) } });
    return { chained: true, reason: `dispatched ${workflow} on ${s.github.branch} for round ${next.at.round} truck ${next.at.truck} of ${next.at.day}: link ${link} of tonight's chain, the night ends ${ends.toISOString()}${url ? ` (${url})` : ''}` };
  } catch (err) {
    core.warning(`chaining: ${(err as Error).message}`);
    return not(`the dispatch of ${workflow} was refused: ${(err as Error).message}`);
  }
}
