// Failures as GitHub shows them: an error annotation on the file, line and column a problem is about, and
// the step failed with one sentence. No stack traces for a user's mistake.
import path from 'node:path';
import * as core from '@actions/core';
import { formatProblem, G7Error, UsageError, type Problem } from '../contracts/errors.js';
import { repoPath } from './settings.js';

/** `p.file` is relative to `base` (or absolute); GitHub wants it relative to the repository root. */
export function annotateProblem(s: { workspace: string }, p: Problem, base: string): void {
  const file = repoPath(s, path.resolve(base, p.file));
  core.error(formatProblem({ ...p, file }), {
    title: `G7 ${p.rule}`,
    file,
    ...(p.line !== undefined ? { startLine: p.line } : {}),
    ...(p.line !== undefined && p.col !== undefined ? { startColumn: p.col } : {}),
  });
}

/** The job summary; outside a runner that has one (GITHUB_STEP_SUMMARY unset) the log says so and goes on. */
export async function writeSummary(markdown: string): Promise<void> {
  try {
    await core.summary.addRaw(markdown).write();
  } catch (err) {
    core.warning(`no job summary: ${(err as Error).message}`);
  }
}

/** Every way a command can fail, turned into annotations and a failed step. */
export function reportFailure(err: unknown, s: { workspace: string } | undefined): void {
  if (err instanceof G7Error) {
    // Problems name files as the CLI shows them: relative to the working directory.
    for (const p of err.problems) annotateProblem(s ?? { workspace: process.cwd() }, p, process.cwd());
    core.setFailed(err.summary ?? `${err.problems.length} problem(s): see the annotations`);
    return;
  }
  const e = err as Error;
  const known = err instanceof UsageError || ['InputError', 'SetupError', 'ForgeError', 'GitError'].includes(e?.name);
  if (!known && e?.stack) core.debug(e.stack);
  core.setFailed(known ? e.message : `internal error: ${e?.message ?? String(err)} (a bug in g7: re-run with debug logging for the stack, and report it)`);
}
