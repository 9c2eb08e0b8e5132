// `command: policy`: the block-coreloop-auto-merge check on the pull request event that started the job.
import { readFile } from 'node:fs/promises';
import * as core from '@actions/core';
import { connectForge } from '../forge/connect.js';
import { enforceAutoMergePolicy } from '../policy/auto-merge.js';
import { SetupError, type ActionSettings } from './settings.js';
import { writeSummary } from './annotate.js';

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
  const out = await enforceAutoMergePolicy(forge, g.eventName, payload, (l) => core.info(l));
  core.setOutput('policy', out.pass ? 'pass' : 'fail');
  const lines = [`## block-coreloop-auto-merge: ${out.pass ? 'pass' : 'FAIL'}`, '', out.summary, ''];
  if (out.decision?.coreloop.length) lines.push('Coreloop pull request because:', ...out.decision.coreloop.map((r) => `- ${r}`), '');
  if (out.actions.length) lines.push('Done:', ...out.actions.map((a) => `- ${a}`), '');
  if (out.errors.length) lines.push('Did not go through:', ...out.errors.map((e) => `- ${e}`), '');
  await writeSummary(lines.join('\n'));
  if (!out.pass) core.setFailed(out.summary);
  else core.info(out.summary);
}
