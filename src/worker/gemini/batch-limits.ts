// What the Batch API lets one project have in flight, and how a large submission is cut to fit it. Per model
// there is a limit on the input tokens enqueued in batch jobs at once (the rate-limits page's Batch API
// table, per usage tier); past it `batches.create` answers 429 RESOURCE_EXHAUSTED. At most 100 batch jobs run
// at once. A project's own figures are in AI Studio; `gemini.batch_enqueued_tokens` overrides ours per model.

/** Documented enqueued-token limits per tier and model family (Gemini API rate limits, Batch API). */
export const ENQUEUED_TOKENS: Record<1 | 2 | 3, Record<string, number>> = {
  1: { 'gemini-2.5-flash-lite': 10_000_000, 'gemini-2.5-flash': 3_000_000, 'gemini-2.5-pro': 5_000_000 },
  2: { 'gemini-2.5-flash-lite': 500_000_000, 'gemini-2.5-flash': 400_000_000, 'gemini-2.5-pro': 500_000_000 },
  3: { 'gemini-2.5-flash-lite': 1_000_000_000, 'gemini-2.5-flash': 1_000_000_000, 'gemini-2.5-pro': 1_000_000_000 },
};
/** For a model the table does not name: the smallest figure of its tier, so an unknown model is never over-filled. */
const fallback = (tier: 1 | 2 | 3) => Math.min(...Object.values(ENQUEUED_TOKENS[tier]));

/**
 * The share of a model's enqueued-token limit the factory fills: its token counts are estimates (calibrated,
 * within a few percent), and a job the service counts over the limit is refused.
 */
export const QUEUE_FILL = 0.9;

/** The service's cap on batch jobs running at once. */
export const MAX_BATCH_JOBS = 100;

export interface BatchLimits {
  /** Input tokens that may be enqueued in this model's batch jobs at once (the service's figure). */
  enqueuedTokens(model: string): number;
  /** Batch jobs in flight at once, all models. */
  maxJobs: number;
}

export function batchLimits(g: { tier: 1 | 2 | 3; batch_enqueued_tokens: Record<string, number>; max_batch_jobs: number }): BatchLimits {
  return {
    enqueuedTokens: (model) => g.batch_enqueued_tokens[model] ?? ENQUEUED_TOKENS[g.tier][model.replace(/^models\//, '')] ?? fallback(g.tier),
    maxJobs: Math.min(g.max_batch_jobs, MAX_BATCH_JOBS),
  };
}

/** The documented defaults: tier 1, 100 jobs. */
export const DEFAULT_BATCH_LIMITS = batchLimits({ tier: 1, batch_enqueued_tokens: {}, max_batch_jobs: MAX_BATCH_JOBS });

/**
 * Cuts requests (in order) into consecutive parts whose estimated tokens stay within `limit`; a request alone
 * over the limit is a part of its own (the service then says whether it takes it).
 */
export function splitByTokens<T extends { tokens: number }>(items: T[], limit: number): T[][] {
  const parts: T[][] = [];
  let part: T[] = [];
  let sum = 0;
  for (const item of items) {
    if (part.length && sum + item.tokens > limit) {
      parts.push(part);
      part = [];
      sum = 0;
    }
    part.push(item);
    sum += item.tokens;
  }
  if (part.length) parts.push(part);
  return parts;
}
