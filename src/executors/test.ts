// TEST: run the card's command in the repository root with a timeout; its exit code and output are the
// evidence, and stdout is written to the card's output.
import { writeFileAtomic } from '../ssot/atomic.js';
import { resolveInRepo, normalizeRepoPath } from '../ssot/paths.js';
import { emptyResult, type ExecContext, type ExecResult } from './types.js';

export async function test(ctx: ExecContext): Promise<ExecResult> {
  const command = Array.isArray(ctx.card.input) ? ctx.card.input.join(' ') : ctx.card.input;
  const res = await ctx.shell.run(command, { cwd: ctx.layout.repoRoot, timeoutMs: ctx.timeoutMs });
  await writeFileAtomic(resolveInRepo(ctx.layout.repoRoot, ctx.card.output), ctx.redact(res.stdout));
  const r = emptyResult();
  r.exit = res.exit;
  r.stdout = res.stdout;
  r.stderr = res.stderr;
  r.outputs = [normalizeRepoPath(ctx.card.output)];
  r.evidence['command.txt'] = `${command}\n`;
  return r;
}
