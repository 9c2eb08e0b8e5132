// The Gemini worker, on @google/genai. The SDK's own retries are off: this adapter owns them (backoff with
// jitter on 408/429/5xx, RetryInfo honoured exactly and shared with every other call through the limiter, a
// retryDelay longer than configured or a daily quota stopping the truck RECOVERABLE with retry_after, a model
// without quota on this key stopping it for a person), checks the budget before each call, asks for
// structured output with the card type's JSON schema and a thinking budget per cost hint, checks
// promptFeedback and finishReason before parsing, prices what the service reports, and validates every answer.
import { GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { SchemaError } from '../../contracts/errors.js';
import { explainAnswer } from '../../contracts/validate.js';
import { WorkerError, type CostHint, type Worker, type WorkerRequest, type WorkerResponse } from '../worker.js';
import { classifyApiError, backoffMs, windowBackoffMs, nextPacificMidnight, type ClassifiedError } from './errors.js';
import { RateLimiter, realClock, type Clock } from './limiter.js';
import { Budget, costUsd, type Billed, type Price } from './budget.js';
import { PROMPT_VERSION } from './prompt.js';
import type { TokenCalibration } from '../tokens.js';
import { geminiRequest, MAX_TOKENS_MARK, type Built } from './request.js';
import { geminiBatch } from './batch.js';

export interface GeminiOptions {
  apiKey: string;
  /** Endpoint override (factory.yaml gemini.base_url); the SDK also honours GOOGLE_GEMINI_BASE_URL. */
  baseUrl?: string | undefined;
  models: Record<CostHint, string>;
  prices: Record<string, Price>;
  timeoutMs: number;
  maxInputTokens: number;
  /** Output tokens for the answer itself; thinking comes on top. Four times this for a rework after MAX_TOKENS. */
  maxOutputTokens?: number | undefined;
  /** Thinking budget per cost hint, in tokens (0 off, -1 dynamic); unset: the model's own default. */
  thinkingBudget?: Partial<Record<CostHint, number>> | undefined;
  maxAttempts?: number | undefined;
  /** A server-given retryDelay longer than this stops the truck RECOVERABLE (with retry_after) instead of sleeping. */
  maxRetryDelayMs?: number | undefined;
  /** A batch whose requests take more bytes than this goes as an uploaded JSONL file (the API's inline limit is 20 MB). */
  batchInlineMaxBytes?: number | undefined;
  /** The slowest rate a batch results download is allowed, in bytes per second: its timeout grows with the file. */
  downloadBytesPerSecond?: number | undefined;
  limiter: RateLimiter;
  budget: Budget;
  /** Tokens per script and model, learned from what the service reports; the documented prior without it. */
  tokens?: TokenCalibration | undefined;
  clock?: Clock | undefined;
  /** Wall-clock time in ms since the epoch (for retry_after). */
  wallClock?: (() => number) | undefined;
  random?: (() => number) | undefined;
}

type Retry = NonNullable<WorkerResponse['retries']>[number];

const BLOCKED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY', 'IMAGE_PROHIBITED_CONTENT', 'IMAGE_RECITATION']);
export class GeminiWorker implements Worker {
  readonly provider = 'gemini';
  readonly ai: GoogleGenAI;
  readonly clock: Clock;
  private readonly random: () => number;
  private readonly wall: () => number;

  constructor(readonly o: GeminiOptions) {
    this.ai = new GoogleGenAI({
      apiKey: o.apiKey,
      httpOptions: { ...(o.baseUrl ? { baseUrl: o.baseUrl } : {}), timeout: o.timeoutMs, retryOptions: { attempts: 1 } },
    });
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
    this.wall = o.wallClock ?? Date.now;
  }

  identity(req: WorkerRequest): { worker: string; prompt: string } {
    return { worker: `gemini:${this.o.models[req.cost_hint]}`, prompt: PROMPT_VERSION[req.task.kind] };
  }

  /** The generateContent request for a worker request: the same online and in a batch. */
  request(req: WorkerRequest): Built {
    return geminiRequest(this.o, req);
  }

  async call(req: WorkerRequest): Promise<WorkerResponse> {
    const built = this.request(req);
    const { model, contents, config, estIn, maxOut } = built;
    await this.o.budget.check(costUsd(this.o.prices, model, { in: estIn, cached: 0, out: maxOut }));
    const started = this.clock.now();
    // The service's tokens-per-minute quota counts input tokens: so does the limiter.
    const { value: res, retries } = await this.retrying(`generateContent ${model}`, () => this.ai.models.generateContent({ model, contents, config }), estIn);
    const billed = this.billed(res, estIn);
    const cost = costUsd(this.o.prices, model, billed);
    await this.o.budget.record(cost, billed.in, billed.out);
    await this.learn([{ built, res }]);
    const answer = this.answer(req, built, res, cost, false);
    return { ...answer, duration_ms: this.clock.now() - started, retries };
  }

  /**
   * The service's own count of a request's prompt tokens (models.countTokens, free of charge). The Developer
   * API's countTokens takes no systemInstruction, so the system text goes as the first part of the turn.
   */
  async countTokens(built: Built): Promise<number> {
    const contents = [{ role: 'user', parts: [{ text: built.config.systemInstruction }, ...built.contents[0]!.parts] }];
    const { value } = await this.retrying(`countTokens ${built.model}`, () => this.ai.models.countTokens({ model: built.model, contents }));
    return value.totalTokens ?? 0;
  }

  /** The host the calls go to (gemini.base_url, GOOGLE_GEMINI_BASE_URL, or the SDK's default), for messages. */
  get host(): string {
    const url = this.o.baseUrl ?? process.env.GOOGLE_GEMINI_BASE_URL ?? 'https://generativelanguage.googleapis.com';
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  }

  /**
   * Of these model ids, the ones the service answers 404 for, and the ones without a price. When the API
   * could not be reached at all, `unreachable` says so (the models could not be checked). Other failures
   * are left to the calls themselves.
   */
  async checkModels(models: string[]): Promise<{ unknown: string[]; unpriced: string[]; unreachable?: string }> {
    const unknown: string[] = [];
    let unreachable: string | undefined;
    for (const model of new Set(models)) {
      if (unreachable) break;
      try {
        await this.retrying(`models.get ${model}`, () => this.ai.models.get({ model }));
      } catch (err) {
        if (err instanceof WorkerError && err.status === 404) unknown.push(model);
        else if (err instanceof WorkerError && err.status === undefined) unreachable = err.message;
      }
    }
    return { unknown, unpriced: [...new Set(models)].filter((m) => !this.o.prices[m]), ...(unreachable ? { unreachable } : {}) };
  }

  /**
   * Sends with g7's retry policy. `tokens` (for generateContent: its input tokens) makes the call take its
   * place in the rate limiter, and makes a server-given pause hold for every call in flight.
   */
  async retrying<T>(what: string, send: () => Promise<T>, tokens?: number): Promise<{ value: T; retries: Retry[] }> {
    const attempts = this.o.maxAttempts ?? 5;
    const retries: Retry[] = [];
    for (let attempt = 0; ; attempt++) {
      const done = tokens === undefined ? () => {} : await this.o.limiter.acquire(tokens);
      try {
        const value = await send();
        done();
        return { value, retries };
      } catch (err) {
        done();
        const c = classifyApiError(err);
        const stop = this.stop(what, c, attempt === attempts - 1 ? attempts : undefined);
        if (stop) throw stop;
        const wait = c.kind === 'rate' ? windowBackoffMs(attempt, attempts, this.o.limiter.windowMs, this.random) : (c.retryDelayMs ?? backoffMs(attempt, this.random));
        // The server's word (or a quota it would not name) holds for every call, not just this one.
        if (tokens !== undefined && (c.retryDelayMs !== undefined || c.kind === 'rate')) this.o.limiter.pauseUntil(this.clock.now() + wait);
        retries.push({ status: c.status, waited_ms: wait });
        await this.clock.sleep(wait);
      }
    }
  }

  /** The error that ends the attempts, or undefined to wait and try again. `last` is set on the last attempt. */
  private stop(what: string, c: ClassifiedError, last: number | undefined): WorkerError | undefined {
    const at = (ms: number) => new Date(ms).toISOString();
    const status = c.status;
    switch (c.kind) {
      case 'daily-quota':
        return new WorkerError(`daily quota exhausted (${what}): ${c.message}`, { transient: true, status, retryAfter: at(nextPacificMidnight(this.wall())), hint: 'per-day quotas reset at midnight Pacific time; the truck resumes at this card after that, or raise the quota' });
      case 'no-quota':
        return new WorkerError(`this key has no quota for the model (${what}; quota value 0): ${c.message}`, { transient: false, status, hint: 'enable billing for the key\'s project, or choose a model your tier includes in factory.yaml models' });
      case 'auth':
        return new WorkerError(`the Gemini API refused the key (HTTP ${status}): ${c.message}`, { transient: false, status, hint: 'check GEMINI_API_KEY (a repository secret on GitHub)' });
      case 'request':
        return new WorkerError(`the Gemini API rejected the request (HTTP ${status}, ${what}): ${c.message}`, {
          transient: false, status, ...(/thinking|budget/i.test(c.message) ? { hint: 'this model does not take that thinking budget: set gemini.thinking_budget for its cost hint in factory.yaml' } : {}),
        });
      case 'local':
        return new WorkerError(`the Gemini SDK refused the call before sending it (${what}): ${c.message}`, { transient: false });
      default: {
        const cap = this.o.maxRetryDelayMs ?? 90_000;
        if (c.retryDelayMs !== undefined && c.retryDelayMs > cap)
          return new WorkerError(`the Gemini API asked to wait ${(c.retryDelayMs / 1000).toFixed(0)} s (${what}), longer than limits.max_retry_delay_s: ${c.message}`, { transient: true, status, retryAfter: at(this.wall() + c.retryDelayMs), hint: 'the truck resumes at this card once the delay has passed' });
        if (last !== undefined && status === undefined && c.message !== 'timed out')
          return new WorkerError(`could not reach the Gemini API at ${this.host} after ${last} attempts (${what}: no response: ${c.message})`, { transient: true, hint: `check the network from this runner to ${this.host}, gemini.base_url in factory.yaml (or GOOGLE_GEMINI_BASE_URL) and any proxy` });
        if (last !== undefined) return new WorkerError(`Gemini still failing after ${last} attempts (${what}: ${status ?? 'no response'}: ${c.message})`, { transient: true, status, hint: 'the truck resumes at this card on the next run' });
        return undefined;
      }
    }
  }

  /** Learns the tokens per script from prompts the service reported a count for (and keeps it in the state). */
  async learn(paid: { built: Built; res: GenerateContentResponse }[]): Promise<void> {
    const t = this.o.tokens;
    if (!t) return;
    for (const { built, res } of paid) {
      const n = res.usageMetadata?.promptTokenCount;
      if (typeof n === 'number') t.observe(built.model, built.profile, n);
      if (res.usageMetadata) t.observeOutput(built.model, built.kind, (res.usageMetadata.candidatesTokenCount ?? 0) + (res.usageMetadata.thoughtsTokenCount ?? 0));
    }
    await t.save();
  }

  /** Tokens as billed, from what the service reported (the estimate only when it reported nothing). */
  billed(res: GenerateContentResponse, estIn: number): Billed & { usage: NonNullable<WorkerResponse['usage']> } {
    const u = res.usageMetadata;
    const usage = { prompt: u?.promptTokenCount ?? estIn, cached: u?.cachedContentTokenCount ?? 0, candidates: u?.candidatesTokenCount ?? 0, thoughts: u?.thoughtsTokenCount ?? 0 };
    return { in: usage.prompt, cached: usage.cached, out: usage.candidates + usage.thoughts, usage };
  }

  /** Checks a generateContent response (already priced: the call was paid for, whatever it says): block reasons, finishReason, JSON, the answer contract. */
  answer(req: WorkerRequest, built: Built, res: GenerateContentResponse, cost: number, batch: boolean): WorkerResponse {
    const { model, maxOut, estIn } = built;
    const b = this.billed(res, estIn);
    const where = `${req.card} (${model})`;
    const block = res.promptFeedback?.blockReason;
    if (block) throw new WorkerError(`the prompt was blocked: ${block}`, { transient: false, hint: 'the input trips the model\'s safety filter; a person should look at this chunk' });
    const cand = res.candidates?.[0];
    const finish = String(cand?.finishReason ?? 'NONE');
    if (BLOCKED.has(finish)) throw new WorkerError(`the answer was blocked: ${finish}`, { transient: false, hint: 'the model refused to answer this input; a person should look at it' });
    if (finish === 'MAX_TOKENS')
      throw new SchemaError([{ file: where, rule: 'answer.max-tokens', message: `the answer was cut off at ${maxOut} output tokens, ${b.usage.thoughts} of them thinking (${MAX_TOKENS_MARK})`, hint: 'the rework asks again with four times the room for the answer; or lower gemini.thinking_budget for this cost hint' }]);
    const text = cand?.content?.parts?.map((p) => p.text ?? '').join('') ?? '';
    // Only STOP is a finished answer: OTHER and the rest stopped for a reason the text cannot be trusted past.
    if (finish !== 'STOP') throw new SchemaError([{ file: where, rule: 'answer.finish', message: `the answer did not finish normally (finishReason ${finish})` }]);
    if (!text.trim()) throw new SchemaError([{ file: where, rule: 'answer.empty', message: `the answer is empty (finishReason ${finish})` }]);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SchemaError([{ file: where, rule: 'answer.json', message: `the answer is not JSON: ${text.slice(0, 120)}` }]);
    }
    const problems = explainAnswer(req.task.kind, json, where);
    if (problems.length) throw new SchemaError(problems);
    return { json, provider: batch ? 'gemini-batch' : 'gemini', model, tokens: { in: b.in, out: b.out }, usage: b.usage, cost_usd: cost, finish_reason: finish, duration_ms: 0 };
  }

  readonly batch = geminiBatch(this);
}
