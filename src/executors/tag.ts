// TAG: Layer-1 labels. For every chunk of a scan index, ask the worker (the offline rules, or a cheap
// model) for tags; write one line per chunk, and append strike candidates to the strike list, deduplicated
// by chunk identity, so that re-running a card after a crash never adds a line twice.
import { G7Error, SchemaError } from '../contracts/errors.js';
import { writeStreamAtomic } from '../ssot/atomic.js';
import { appendStrikes, strikeListFile } from '../ssot/strike-list.js';
import { forEachLine } from '../ssot/jsonl.js';
import { resolveInRepo, normalizeRepoPath } from '../ssot/paths.js';
import type { ChunkLine } from './scan.js';
import { readChunkText, readTaxonomy } from './library.js';
import { emptyResult, countCall, type ExecContext, type ExecResult } from './types.js';
import { BatchPending, type WorkerRequest } from '../worker/worker.js';
import { answerProblem, callMeta } from './answers.js';

const CONCURRENCY = 4;

export interface TagAnswer {
  tags: string[];
  strike: boolean;
  why?: string;
}

/** The output line of one chunk's answer: what the card writes, and what the reproduction check judges on a scratch copy. */
export function tagLine(c: { path: string; offset: number; length: number; sha256: string }, a: TagAnswer): string {
  return JSON.stringify({ path: c.path, offset: c.offset, length: c.length, sha256: c.sha256, tags: a.tags, strike: a.strike, why: a.why ?? '' });
}

function checkAnswer(task: WorkerRequest['task'], v: unknown, card: string): TagAnswer {
  const problem = answerProblem(task, v);
  if (problem) throw new SchemaError([{ file: card, rule: 'worker.response', message: problem }]);
  return v as TagAnswer;
}

async function readChunks(file: string, shown: string): Promise<ChunkLine[]> {
  const out: ChunkLine[] = [];
  await forEachLine(file, (t) => {
    if (t.trim()) out.push(JSON.parse(t) as ChunkLine);
  }, shown);
  return out;
}

/** Runs `fn` over items with at most `n` in flight; results keep the input order. */
export async function mapPool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(lanes);
  return out;
}

export async function tag(ctx: ExecContext): Promise<ExecResult> {
  const input = String(ctx.card.input);
  const chunks = await readChunks(resolveInRepo(ctx.layout.repoRoot, input), input);
  const taxonomy = await readTaxonomy(ctx);
  const reqs: WorkerRequest[] = [];
  for (const c of chunks) {
    const text = await readChunkText(ctx, c.path, c.offset, c.length);
    reqs.push({ card: ctx.card.id, cost_hint: ctx.card.cost_hint, task: { kind: 'TAG', chunk: { path: c.path, offset: c.offset, length: c.length, sha256: c.sha256, text }, taxonomy }, skill: ctx.skill, previous_failure: ctx.previousFailure });
  }
  const r = emptyResult();
  // Batch mode (cheaper, answered hours later): submit now, collect in a later scheduled run. Answers land in
  // the response cache, so the pass below finds them there; failed batch items are asked online. The job
  // stays with the card (BatchPending) until it is merged or has ended: a failed poll only waits.
  if (ctx.worker.canBatch) {
    let job = ctx.batch ?? (ctx.attempt === 1 ? await ctx.worker.batchFor(reqs) : undefined);
    if (job) {
      let got;
      try {
        got = await ctx.worker.batchCollect(job, reqs);
      } catch (err) {
        if (err instanceof G7Error && err.transient) throw new BatchPending(job, `batch ${job}: ${err.summary ?? err.message}; the next run polls it again`);
        throw err;
      }
      if (!got.done) throw new BatchPending(job, `batch ${job} is ${got.state}; the next run collects it`);
      r.cost += got.unused.usd;
      r.tokens = { in: got.unused.in, out: got.unused.out };
      if (got.resubmit) {
        ctx.log(`  ${ctx.card.id}: batch ${job} ended unanswered (${got.state}); submitting the requests still unanswered`);
        job = undefined;
      } else ctx.log(`  ${ctx.card.id}: batch ${job} collected: ${got.answered} answers, ${got.failed} failed (asked again online)`);
    }
    // A rework asks online: its prompt differs, and it should not wait hours.
    if (!job && ctx.attempt === 1) {
      const todo = await ctx.worker.uncached(reqs);
      if (todo >= ctx.config.gemini.batch_min_requests) {
        const name = await ctx.worker.batchSubmit(reqs, `g7 ${ctx.card.id}`);
        throw new BatchPending(name, `submitted ${todo} requests as batch ${name}; the next run collects them`);
      }
    }
  }
  const answers = await mapPool(chunks, CONCURRENCY, async (_c, i) => {
    const call = await ctx.worker.call(reqs[i]!, callMeta(reqs[i]!.task));
    countCall(r, call);
    return checkAnswer(reqs[i]!.task, call.response.json, ctx.card.id);
  });

  // Strike candidates: appended once per chunk identity.
  const candidates: { key: string; text: string }[] = [];
  for (const [i, c] of chunks.entries()) {
    const a = answers[i]!;
    if (!a.strike) continue;
    const key = `${c.path}#${c.offset}:${c.sha256.slice(0, 16)}`;
    candidates.push({ key, text: JSON.stringify({ key, path: c.path, offset: c.offset, length: c.length, sha256: c.sha256, tags: a.tags, card: ctx.card.id }) });
  }
  // The output and the strike list are separate files: written side by side.
  const [, fresh] = await Promise.all([
    writeStreamAtomic(resolveInRepo(ctx.layout.repoRoot, ctx.card.output), async (write) => {
      for (const [i, c] of chunks.entries()) {
        await write(tagLine(c, answers[i]!) + '\n');
      }
    }),
    appendStrikes(strikeListFile(ctx.layout.libraryIndexDir), candidates),
  ]);
  const cached = r.calls.filter((c) => c.cached).length;
  r.stdout = `tagged ${chunks.length} chunks (${cached} answers from the cache), ${answers.filter((a) => a.strike).length} strike candidates, ${fresh.length} new on the strike list\n`;
  r.outputs = [normalizeRepoPath(ctx.card.output)];
  return r;
}
