// STRIKE: Layer-2 targeted strike. Only strike-list items (input `path#La-Lb`), each evaluated by the
// strong model against the sensor checklist; findings, one line per item, to the card's output.
import { SchemaError, PathError } from '../contracts/errors.js';
import { writeStreamAtomic } from '../ssot/atomic.js';
import { forEachLineIn, strikeRange } from '../ssot/strike-list.js';
import { resolveInRepo, normalizeRepoPath, repoPathProblem } from '../ssot/paths.js';
import { readChunkText, readSensors } from './library.js';
import { answerProblem, callMeta } from './answers.js';
import { emptyResult, countCall, type ExecContext, type ExecResult } from './types.js';

/** The output line of one strike item's answer (also judged on a scratch copy by the reproduction check). */
export function strikeLine(key: string, answer: { findings: unknown[] }): string {
  return JSON.stringify({ key, findings: answer.findings });
}

export async function strike(ctx: ExecContext): Promise<ExecResult> {
  const range = strikeRange(ctx.card.input);
  if (!range) throw new SchemaError([{ file: ctx.card.id, field: 'input', rule: 'strike.input', message: `STRIKE input must be PATH#La-Lb; got "${String(ctx.card.input)}"` }]);
  const { file, from, to } = range;
  if (repoPathProblem(file)) throw new PathError([{ file: ctx.card.id, field: 'input', rule: 'strike.path', message: `"${file}" leaves the repository` }]);
  const items: { key: string; path: string; offset: number; length: number; tags: string[] }[] = [];
  // Line numbers run on across a rolled-over list's parts (strike_list.2.jsonl …).
  await forEachLineIn(resolveInRepo(ctx.layout.repoRoot, file), from, to, (t) => {
    if (t.trim()) items.push(JSON.parse(t));
  }, file);
  const sensors = await readSensors(ctx);
  const r = emptyResult();
  const findings: string[] = [];
  for (const item of items) {
    const text = await readChunkText(ctx, item.path, item.offset, item.length);
    const task = { kind: 'STRIKE' as const, item, text, sensors };
    const call = await ctx.worker.call({ card: ctx.card.id, cost_hint: ctx.card.cost_hint, task, skill: ctx.skill, previous_failure: ctx.previousFailure }, callMeta(task));
    countCall(r, call);
    const problem = answerProblem(task, call.response.json);
    if (problem) throw new SchemaError([{ file: ctx.card.id, rule: 'worker.response', message: problem }]);
    const f = call.response.json as { findings: unknown[] };
    findings.push(strikeLine(item.key, f));
  }
  await writeStreamAtomic(resolveInRepo(ctx.layout.repoRoot, ctx.card.output), async (write) => {
    for (const l of findings) await write(l + '\n');
  });
  r.stdout = `evaluated ${items.length} strike items\n`;
  r.outputs = [normalizeRepoPath(ctx.card.output)];
  return r;
}
