// `command: run`: one truck, its evidence committed and pushed, then the outputs, the job summary, an
// annotation per failed card and a check run on the evidence commit. The lane matrix's steps go the same
// way: `prepare-lanes` departs and plans the run (output `lanes`, the matrix), `lane` runs one lane into its
// part of the run, `merge-lanes` seals the run over all lanes (src/factory/lanes.ts).
//
// Annotations must point at files that exist where GitHub looks for them. A workflow-command annotation is
// shown against the commit the run checked out, where the evidence does not exist yet: it points at the
// card's line in the backlog (there when the backlog was committed before). The check run is created on the
// pushed evidence commit, and its annotations point at the evidence files in it.
import * as core from '@actions/core';
import type { VerifyReport } from '../contracts/types.gen.js';
import { factoryDeps } from '../cli/settings.js';
import { runFactory, timeBudgetFrom, type RunOutcome } from '../factory/run.js';
import type { Git } from '../git/git.js';
import type { FactoryDeps } from '../factory/deps.js';
import { backlogFile, laneLayout, layoutFor } from '../ssot/layout.js';
import type { CheckAnnotation } from '../forge/forge.js';
import { bundleForArtifact, pushHead, commitUrl, treeUrl, type KeptBundle, type Published } from './publish.js';
import { readReport, setFactoryOutputs } from './outputs.js';
import { truckSummary } from './summary.js';
import { writeSummary } from './annotate.js';
import { repoPath, type ActionSettings } from './settings.js';
import { nowMs } from '../host/clock.js';

/** The lines of a file as the checked-out commit has it (undefined when it is not in that commit). */
async function linesAt(git: Git | undefined, commit: string | undefined, rel: string): Promise<string[] | undefined> {
  if (!git || !commit) return undefined;
  const r = await git.run(['show', `${commit}:${rel}`], { allowFail: true });
  return r.code === 0 ? r.stdout.split('\n') : undefined;
}

const CONCLUSION = { READY: 'success', FAIL_STOP: 'failure', RECOVERABLE: 'neutral', RUNNING: 'neutral' } as const;

async function createEvidenceCheck(s: ActionSettings, report: VerifyReport, evidence: string, sha: string, markdown: string, name: string): Promise<void> {
  if (!s.githubToken || !s.github.repository) return;
  const { connectForge } = await import('../forge/connect.js');
  const annotations: CheckAnnotation[] = report.cards
    .filter((c) => c.status === 'FAIL')
    .map((c) => ({ path: `${evidence}/${c.detail}/summary.json`, startLine: 1, level: 'failure', title: `${c.id} failed (${c.triage?.class ?? '?'})`, message: c.triage?.reason ?? 'failed' }));
  try {
    const forge = await connectForge({ repository: s.github.repository, token: s.githubToken, apiUrl: s.github.apiUrl });
    const url = await forge.createCheckRun({ name, headSha: sha, conclusion: CONCLUSION[report.state], title: `truck ${report.truck} of ${report.day}: ${report.state}`, summary: markdown, annotations, ...(s.github.runUrl ? { detailsUrl: s.github.runUrl } : {}) });
    core.info(`check run: ${url}`);
  } catch (err) {
    // The evidence is pushed; a check run is a convenience (it needs `checks: write`).
    core.warning(`no check run on the evidence commit: ${(err as Error).message}`);
  }
}

/** Where commits the remote's branch refused are now, said for the runner kind in use. */
function whereUnpushed(s: ActionSettings, remote: string, parked: string | undefined, kept: KeptBundle | undefined): string {
  if (parked) return `its commits are parked on ${remote} ${parked}: the next job (a fresh clone) lands them before it departs`;
  const goes = s.github.runner === 'github-hosted' ? 'GitHub discards this runner after the job' : s.github.runner === 'self-hosted' ? "the next job's checkout resets the branch to the remote's" : undefined;
  const only = `its commits are only in this clone${goes ? ` (${goes})` : ''}`;
  if (!kept) return `${only}; no git bundle of them could be written (see the warnings), so only a push from this clone can deliver them`;
  return `${only}: they are kept in the git bundle ${kept.file} (output unpushed-bundle), which the shipped workflow uploads as an artifact; to land them, download it into a clone of ${remote} and run there: ${kept.apply} (the next job lands what that parks)`;
}

/** The run, one lane of a lane run, its departure or its merge: what the command asks for. */
async function drive(s: ActionSettings, deps: FactoryDeps, commit: boolean): Promise<RunOutcome> {
  // The budget starts with the step: the token was made a moment before, at the job's start.
  const timeBudget = timeBudgetFrom(s.maxMinutes, nowMs());
  const opts = { truck: s.truck, lanes: s.lanes, commit, push: commit && s.push, timeBudget, clone: s.github.runner };
  if (s.command === 'merge-lanes') {
    const { mergeLaneRun } = await import('../factory/lanes-merge.js');
    return (await mergeLaneRun(deps, s.runId, opts)) ?? { code: 'NOTHING', state: 'READY', passed: 0, failed: 0, message: 'no lane run to merge: the state names none' };
  }
  if (s.command === 'lane') return runFactory(deps, { commit, push: opts.push, timeBudget, clone: s.github.runner });
  return runFactory(deps, { ...opts, prepareLanes: s.command === 'prepare-lanes' });
}

export async function truckCommand(s: ActionSettings): Promise<void> {
  const base = layoutFor(s.ssot);
  const lane = s.command === 'lane' ? s.lanes![0]! : undefined;
  const layout = lane ? laneLayout(base, s.runId!, lane) : base;
  const display = (p: string) => repoPath(s, p);
  const { deps, config } = await factoryDeps({ layout, display, log: (l) => core.info(l), warn: (l) => core.warning(l), geminiApiKey: s.geminiApiKey, models: s.models, branch: s.github.branch });
  const head = deps.git ? await deps.git.run(['rev-parse', '--verify', '-q', 'HEAD'], { allowFail: true }) : undefined;
  const checkout = head?.code === 0 ? head.stdout.trim() : undefined;
  const commit = !s.dryRun && config.git.commit && deps.git !== undefined;
  if (s.command === 'run' || s.command === 'prepare-lanes') {
    const { pastTheNight } = await import('./chain.js');
    const late = pastTheNight(s, config, deps.now());
    if (late) {
      core.setOutput('chained', 'false');
      core.setOutput('chain-reason', late);
      await writeSummary(`## G7 run: nothing departed\n\n${late}\n`);
      core.info(late);
      return;
    }
  }
  const title = s.command === 'run' ? 'g7 run' : lane ? `g7 lanes run --run ${s.runId} --lane ${lane}` : `g7 lanes ${s.command === 'merge-lanes' ? 'merge' : 'prepare'}`;
  const out: RunOutcome = await core.group(title, () => drive(s, deps, commit));
  const message = deps.redact(out.message);
  const published: Published = deps.git && commit ? await pushHead(s, layout, deps.git) : { sha: undefined, onRemote: false };
  await setFactoryOutputs(s, layout, published.sha, out);
  // Neither the branch nor the side branch took the commits (an expired token, no permission): on a runner
  // they go with the job's workspace, so they leave as a git bundle the workflow uploads (if: failure()).
  let kept: KeptBundle | undefined;
  if (commit && s.push && deps.git && !published.onRemote && !out.parked && (out.evidence || out.code === 'UNPUSHED'))
    kept = await bundleForArtifact(s, layout, deps.git, out.runId ?? 'departure').catch((err: Error) => (core.warning(`git bundle of the unpushed commits: ${err.message}`), undefined));
  if (kept) {
    core.setOutput('unpushed-bundle', kept.file);
    core.setOutput('unpushed-apply', kept.apply);
  }
  // The matrix of the lane jobs (`fromJSON(needs.prepare.outputs.lanes)`), set only when a run departed and
  // its departure is on the branch the lane jobs check out: without it the workflow runs neither lanes nor a
  // merge (a lane job on a fresh clone of a branch without the departure finds no lane run to join).
  if (s.command === 'prepare-lanes' && out.lanes) {
    if (published.onRemote) core.setOutput('lanes', JSON.stringify(out.lanes));
    else
      core.warning(
        `${out.runId ?? 'the run'} departed here but its departure is not on ${s.github.branch ?? 'the branch'} (${s.dryRun ? 'dry run' : !commit ? 'commits are off' : !s.push ? 'input push is false' : out.parked ? `parked on ${out.parked}` : 'the push did not go through'}): no lane job starts, since each checks out the branch${commit && s.push ? '; the next job lands the departure first' : ''}`,
      );
  }

  const report = out.runId && out.evidence ? await readReport(layout, out.runId) : undefined;
  if (report && out.evidence) {
    const evidence = out.evidence;
    const notOnRemote = s.dryRun ? 'dry run' : !commit ? 'commits are off (git.commit: false)' : !s.push ? 'input push is false' : 'the push did not go through: see the warnings';
    const links = published.onRemote && published.sha ? { evidenceUrl: treeUrl(s, published.sha, evidence), commitUrl: commitUrl(s, published.sha) } : { notOnRemote };
    const markdown = truckSummary(report, message, links);
    await writeSummary(markdown);
    const backlogRel = display(backlogFile(layout, report.day));
    const backlog = await linesAt(deps.git, checkout, backlogRel);
    for (const c of report.cards.filter((x) => x.status === 'FAIL')) {
      const i = backlog?.findIndex((l) => l.includes(`"id":"${c.id}"`)) ?? -1;
      const line = i < 0 ? undefined : i + 1;
      const where = links.evidenceUrl ? `${links.evidenceUrl}/${c.detail}` : `${evidence}/${c.detail}`;
      core.error(`${c.id} failed (${c.triage?.class ?? '?'}): ${c.triage?.reason ?? ''}\nevidence: ${where}`, {
        title: `G7 ${report.run_id} ${c.id}`,
        ...(line ? { file: backlogRel, startLine: line } : {}),
      });
    }
    if (published.onRemote && published.sha) await createEvidenceCheck(s, report, evidence, published.sha, markdown, `g7 ${report.run_id}${lane ? ` lane ${lane}` : ''}`);
  } else await writeSummary(`## G7 run: ${out.code}\n\n${message}\n`);

  if (s.command === 'run' || s.command === 'merge-lanes') {
    const { chainNextRun } = await import('./chain.js');
    const chain = await chainNextRun(s, deps, config, out, published.onRemote);
    core.setOutput('chained', String(chain.chained));
    core.setOutput('chain-reason', chain.reason);
    core.info(`${chain.chained ? 'chained' : 'not chained'}: ${chain.reason}`);
  }

  if (commit && s.push && out.evidence && !published.onRemote) core.setFailed(`the evidence of ${out.runId} is not on the remote: the push did not go through (see the warnings); ${whereUnpushed(s, config.git.remote, out.parked, kept)}`);
  else if (out.code === 'UNPUSHED' && kept) core.setFailed(`${out.code}: ${message}\n  ${whereUnpushed(s, config.git.remote, out.parked, kept)}`);
  else if (out.code === 'FAIL_STOP' || out.code === 'REFUSED' || out.code === 'BUSY' || out.code === 'UNPUSHED') core.setFailed(`${out.code}: ${message}`);
  else if (out.code === 'RECOVERABLE') core.warning(`RECOVERABLE: ${message}`);
  else core.info(message);
}
