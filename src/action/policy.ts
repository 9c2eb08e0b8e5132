// `command: policy`: the block-coreloop-auto-merge check on the pull request (or merge group) event that
// started the job, or, on the schedule, the sweep over every open pull request.
import { readFile } from 'node:fs/promises';
import * as core from '@actions/core';
import { connectForge } from '../forge/connect.js';
import { enforceAutoMergePolicy, sweepAutoMerge, type PolicyOutcome } from '../policy/auto-merge.js';
import { SetupError, type ActionSettings } from './settings.js';
import { writeSummary } from './annotate.js';

/** The events that sweep: the hourly schedule, or a person dispatching the workflow by hand. */
const SWEEP_EVENTS = new Set(['schedule', 'workflow_dispatch']);

function outcomeLines(out: Pick<PolicyOutcome, 'decision' | 'actions' | 'errors'>): string[] {
  const lines: string[] = [];
  if (out.decision?.coreloop.length) lines.push('Coreloop pull request because:', ...out.decision.coreloop.map((r) => `- ${r}`), '');
  if (out.actions.length) lines.push('Done:', ...out.actions.map((a) => `- ${a}`), '');
  if (out.errors.length) lines.push('Did not go through:', ...out.errors.map((e) => `- ${e}`), '');
  return lines;
}

export async function policyCommand(s: ActionSettings): Promise<void> {
  const g = s.github;
  // Fail closed: without its event, its repository or a token this check cannot vouch for anything.
  if (!g.eventPath) throw new SetupError('GITHUB_EVENT_PATH is not set: the policy check runs in a workflow triggered by a pull request event');
  if (!g.repository) throw new SetupError('GITHUB_REPOSITORY is not set');
  if (!s.githubToken) throw new SetupError('input github-token is empty: pass ${{ github.token }} (the default) with pull-requests: write and issues: write');
  let payload: unknown;
  try {
    payload = JSON.parse(await readFile(g.eventPath, 'utf8'));
  } catch (err) {
    throw new SetupError(`cannot read the event payload ${g.eventPath}: ${(err as Error).message}`);
  }
  const forge = await connectForge({ repository: g.repository, token: s.githubToken, apiUrl: g.apiUrl });
  let pass: boolean;
  let summary: string;
  const lines: string[] = [];
  if (SWEEP_EVENTS.has(g.eventName)) {
    const sweep = await sweepAutoMerge(forge, (l) => core.info(l));
    ({ pass, summary } = sweep);
    for (const o of sweep.pulls) lines.push(`### #${o.pr}`, '', o.summary, '', ...outcomeLines(o));
  } else {
    const out = await enforceAutoMergePolicy(forge, g.eventName, payload, (l) => core.info(l), { runAttempt: g.runAttempt });
    ({ pass, summary } = out);
    lines.push(...outcomeLines(out));
  }
  core.setOutput('policy', pass ? 'pass' : 'fail');
  await writeSummary([`## block-coreloop-auto-merge${SWEEP_EVENTS.has(g.eventName) ? ' (sweep)' : ''}: ${pass ? 'pass' : 'FAIL'}`, '', summary, '', ...lines].join('\n'));
  if (!pass) core.setFailed(summary);
  else core.info(summary);
}
