// plan-compile, pack, status, verify, resume: the same commands as the `g7` CLI, then whatever they changed
// committed and pushed, and the outputs set. A dispatched plan-compile that does not push changes nothing.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';
import { buildProgram } from '../cli/main.js';
import { EXIT } from '../cli/exit.js';
import { UsageError } from '../contracts/errors.js';
import { layoutFor } from '../ssot/layout.js';
import { listRuns, verifyRun } from '../factory/evidence.js';
import { annotateProblem } from './annotate.js';
import { setFactoryOutputs } from './outputs.js';
import { repoPath, type ActionSettings } from './settings.js';

async function newestPlan(s: ActionSettings, dir: string): Promise<string> {
  const plans = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^dayplan_\d{8}\.ya?ml$/.test(n)).sort();
  if (!plans.length) throw new UsageError(`there is no day plan (dayplan_YYYYMMDD.yaml) in ${repoPath(s, dir)}: write one, or name it with the plan input`);
  return path.join(dir, plans.at(-1)!);
}

/** verify, with each problem as an annotation on the file it is about. */
async function verifyCommand(s: ActionSettings): Promise<void> {
  const layout = layoutFor(s.ssot);
  const id = (await listRuns(layout)).at(-1);
  if (!id) throw new UsageError('there is no run to verify yet');
  const v = await verifyRun(layout, id, (p) => repoPath(s, p));
  core.info(`${v.ok ? 'ok  ' : 'FAIL'} ${id}: ${v.ok ? `verifies${v.complete ? '' : ' (not complete: the run has not stopped)'}` : `${v.problems.length} problem(s)`}`);
  for (const p of v.problems) annotateProblem(s, p, s.workspace);
  await setFactoryOutputs(s, layout, undefined);
  if (!v.ok) core.setFailed(`${id} does not verify: ${v.problems.length} problem(s)`);
}

export async function ssotCommand(s: ActionSettings): Promise<void> {
  if (s.command === 'verify') return verifyCommand(s);
  const layout = layoutFor(s.ssot);
  let args: string[];
  let subject: string;
  switch (s.command) {
    case 'plan-compile': {
      const plan = s.plan ? path.resolve(s.workspace, s.plan) : await newestPlan(s, layout.plansDir);
      args = ['plan', 'compile', plan, '--replace'];
      subject = `g7: plan compile ${repoPath(s, plan)}`;
      break;
    }
    case 'pack':
      args = ['pack'];
      subject = 'g7: pack';
      break;
    case 'resume':
      // The CLI commits the change of state with its G7-* trailers (g7 log reads them); the push is ours.
      args = ['resume', ...(s.dryRun ? ['--no-commit'] : [])];
      subject = 'g7: resume';
      break;
    default:
      args = [s.command];
      subject = `g7: ${s.command}`;
  }
  let code: number = EXIT.OK;
  const program = buildProgram({ out: (l) => core.info(l), err: (l) => core.warning(l) }, (c) => (code = c));
  await core.group(`g7 ${args.map((a) => (path.isAbsolute(a) ? repoPath(s, a) : a)).join(' ')}`, () => program.parseAsync(['--ssot', s.ssot, ...args], { from: 'user' }));
  const changes = s.command === 'plan-compile' || s.command === 'pack' || s.command === 'resume';
  const published = changes ? await (await import('./publish.js')).commitAndPush(s, layout, subject, { 'G7-Command': s.command }) : undefined;
  await setFactoryOutputs(s, layout, published?.sha);
  if (published && s.push && !s.dryRun && !published.onRemote) core.setFailed(`the ${s.command} commit is not on the remote: the push did not go through (see the warnings)`);
  else if (code !== EXIT.OK) core.setFailed(`g7 ${s.command} exited ${code}`);
}
