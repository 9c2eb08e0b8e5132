// The Gemini worker, on @google/genai. The SDK's own retries are off: this adapter owns them (backoff with
// jitter on 408/429/5xx, RetryInfo honoured exactly and shared with every other call through the limiter,
// a daily quota failing fast), checks the budget before each call, asks for structured output with the
// card type's JSON schema, checks promptFeedback and finishReason before parsing, and validates every answer.
import { GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { mkdtemp, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SchemaError } from '../../contracts/errors.js';
import { explainAnswer, WORKER_ANSWERS } from '../../contracts/validate.js';
import { WorkerError, type BatchResult, type CostHint, type Worker, type WorkerRequest, type WorkerResponse } from '../worker.js';
import { classifyApiError, backoffMs } from './errors.js';
import { RateLimiter, realClock, type Clock } from './limiter.js';
import { Budget, costUsd, type Price } from './budget.js';
import { buildPacket, estimateTokens } from './prompt.js';

export interface GeminiOptions {
  apiKey: string;
  /** Endpoint override (factory.yaml gemini.base_url); the SDK also honours GOOGLE_GEMINI_BASE_URL. */
  baseUrl?: string | undefined;
  models: Record<CostHint, string>;
  prices: Record<string, Price>;
  timeoutMs: number;
  maxInputTokens: number;
  maxOutputTokens?: number;
  maxAttempts?: number;
  /** A batch whose requests take more bytes than this goes as an uploaded JSONL file (the API's inline limit is 20 MB). */
  batchInlineMaxBytes?: number;
  limiter: RateLimiter;
  budget: Budget;
  clock?: Clock;
  random?: () => number;
}

interface Built {
  model: string;
  contents: { role: string; parts: { text: string }[] }[];
  config: { systemInstruction: string; responseMimeType: string; responseJsonSchema: unknown; temperature: number; maxOutputTokens: number };
  estIn: number;
  maxOut: number;
}

const BLOCKED = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

export class GeminiWorker implements Worker {
  readonly provider = 'gemini';
  private readonly ai: GoogleGenAI;
  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly o: GeminiOptions) {
    this.ai = new GoogleGenAI({
      apiKey: o.apiKey,
      httpOptions: { ...(o.baseUrl ? { baseUrl: o.baseUrl } : {}), timeout: o.timeoutMs, retryOptions: { attempts: 1 } },
    });
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
  }

  /** The generateContent request for a worker request: the same online and in a batch. */
  private request(req: WorkerRequest): Built {
    const packet = buildPacket(req, this.o.maxInputTokens);
    const maxOut = this.o.maxOutputTokens ?? 2048;
    return {
      model: this.o.models[req.cost_hint],
      contents: [{ role: 'user', parts: [{ text: packet.user }] }],
      config: { systemInstruction: packet.system, responseMimeType: 'application/json', responseJsonSchema: WORKER_ANSWERS[req.task.kind], temperature: 0, maxOutputTokens: maxOut },
      estIn: estimateTokens(packet.system + packet.user),
      maxOut,
    };
  }

  async call(req: WorkerRequest): Promise<WorkerResponse> {
    const { model, contents, config, estIn, maxOut } = this.request(req);
    await this.o.budget.check(costUsd(this.o.prices, model, estIn, maxOut));
    const attempts = this.o.maxAttempts ?? 5;
    const retries: NonNullable<WorkerResponse['retries']> = [];
    const started = this.clock.now();
    let res: Awaited<ReturnType<GoogleGenAI['models']['generateContent']>> | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const done = await this.o.limiter.acquire(estIn + maxOut);
      try {
        res = await this.ai.models.generateContent({ model, contents, config });
        done();
        break;
      } catch (err) {
        done();
        const c = classifyApiError(err);
        if (c.kind === 'daily-quota')
          throw new WorkerError(`daily quota exhausted for ${model}: ${c.message}`, { transient: true, hint: 'the truck resumes at this card on the next scheduled run; raise the quota to go faster' });
        if (c.kind === 'auth') throw new WorkerError(`the Gemini API refused the key (HTTP ${c.status}): ${c.message}`, { transient: false, hint: 'check GEMINI_API_KEY (a repository secret on GitHub)' });
        if (c.kind === 'request') throw new WorkerError(`the Gemini API rejected the request (HTTP ${c.status}): ${c.message}`, { transient: false });
        if (attempt === attempts - 1) throw new WorkerError(`Gemini still failing after ${attempts} attempts (${c.status ?? 'no response'}: ${c.message})`, { transient: true, hint: 'the truck resumes at this card on the next run' });
        // The server's word wins over our backoff, and it holds for every call, not just this one.
        const wait = c.retryDelayMs ?? backoffMs(attempt, this.random);
        if (c.retryDelayMs !== undefined) this.o.limiter.pauseUntil(this.clock.now() + c.retryDelayMs);
        retries.push({ status: c.status, waited_ms: wait });
        await this.clock.sleep(wait);
      }
    }
    const answer = await this.answer(req, { model, contents, config, estIn, maxOut }, res!, false);
    return { ...answer, duration_ms: this.clock.now() - started, retries };
  }

  /**
   * Prices a generateContent response and records the spend (the call was paid for, whatever it says),
   * then checks it: block reasons, finishReason, JSON, the answer contract.
   */
  private async answer(req: WorkerRequest, built: Built, res: GenerateContentResponse, batch: boolean): Promise<WorkerResponse> {
    const { model, maxOut, estIn } = built;
    const tokensIn = res.usageMetadata?.promptTokenCount ?? estIn;
    const tokensOut = (res.usageMetadata?.candidatesTokenCount ?? 0) + (res.usageMetadata?.thoughtsTokenCount ?? 0);
    const cost = costUsd(this.o.prices, model, tokensIn, tokensOut, batch);
    await this.o.budget.record(cost, tokensIn, tokensOut);
    const where = `${req.card} (${model})`;
    const block = res.promptFeedback?.blockReason;
    if (block) throw new WorkerError(`the prompt was blocked: ${block}`, { transient: false, hint: 'the input trips the model\'s safety filter; a person should look at this chunk' });
    const cand = res.candidates?.[0];
    const finish = String(cand?.finishReason ?? 'NONE');
    if (BLOCKED.has(finish)) throw new WorkerError(`the answer was blocked: ${finish}`, { transient: false });
    if (finish === 'MAX_TOKENS') throw new SchemaError([{ file: where, rule: 'answer.max-tokens', message: `the answer was cut off at ${maxOut} output tokens (finishReason MAX_TOKENS)` }]);
    const text = cand?.content?.parts?.map((p) => p.text ?? '').join('') ?? '';
    if (!text.trim()) throw new SchemaError([{ file: where, rule: 'answer.empty', message: `the answer is empty (finishReason ${finish})` }]);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SchemaError([{ file: where, rule: 'answer.json', message: `the answer is not JSON: ${text.slice(0, 120)}` }]);
    }
    const problems = explainAnswer(req.task.kind, json, where);
    if (problems.length) throw new SchemaError(problems);
    return { json, provider: batch ? 'gemini-batch' : 'gemini', model, tokens: { in: tokensIn, out: tokensOut }, cost_usd: cost, finish_reason: finish, duration_ms: 0 };
  }

  /** Writes the requests as the Batch API's JSONL ({key, request} per line, REST field names) and uploads it. */
  private async uploadRequests(src: { contents: unknown; config: Record<string, unknown>; metadata: { key: string } }[], displayName: string): Promise<string> {
    const lines = src.map(({ contents, config, metadata }) => {
      const { systemInstruction, ...generationConfig } = config;
      return JSON.stringify({ key: metadata.key, request: { contents, systemInstruction: { parts: [{ text: systemInstruction }] }, generationConfig } });
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-batch-'));
    const file = path.join(dir, 'requests.jsonl');
    try {
      await writeFile(file, lines.join('\n') + '\n');
      const uploaded = await this.ai.files.upload({ file, config: { mimeType: 'jsonl', displayName: `${displayName} requests` } });
      return uploaded.name!;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Downloads a job's results file: one {key, response | error} per line. */
  private async downloadResults(fileName: string): Promise<{ response?: GenerateContentResponse; error?: { message?: string }; metadata?: Record<string, unknown> }[]> {
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-batch-'));
    const file = path.join(dir, 'results.jsonl');
    try {
      await this.ai.files.download({ file: fileName, downloadPath: file });
      const text = await readFile(file, 'utf8');
      return text.split('\n').filter((l) => l.trim()).map((l) => {
        const o = JSON.parse(l) as { key: string; response?: GenerateContentResponse; error?: { message?: string } };
        return { ...(o.response ? { response: o.response } : {}), ...(o.error ? { error: o.error } : {}), metadata: { key: o.key } };
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  readonly batch = {
    /** One inline batch job per model (requests of a TAG card share one); returns the job name. */
    submit: async (reqs: { key: string; req: WorkerRequest }[], displayName: string): Promise<string> => {
      const built = reqs.map(({ req }) => this.request(req));
      const first = built[0]!;
      await this.o.budget.check(built.reduce((a, b) => a + costUsd(this.o.prices, first.model, b.estIn, first.maxOut, true), 0));
      const src = built.map((b, i) => ({ contents: b.contents, config: b.config, metadata: { key: reqs[i]!.key } }));
      try {
        const inline = Buffer.byteLength(JSON.stringify(src)) <= (this.o.batchInlineMaxBytes ?? 20_000_000);
        const job = await this.ai.batches.create({ model: first.model, src: inline ? src : await this.uploadRequests(src, displayName), config: { displayName } });
        return job.name!;
      } catch (err) {
        if (err instanceof WorkerError) throw err;
        const c = classifyApiError(err);
        throw new WorkerError(`batch submit failed (${c.status ?? 'no response'}): ${c.message}`, { transient: c.kind === 'retry' || c.kind === 'daily-quota' });
      }
    },
    /** Polls a job; when it is done, answers are checked and priced at the batch rate, matched by key. */
    poll: async (name: string, reqs: { key: string; req: WorkerRequest }[]): Promise<BatchResult> => {
      let job;
      try {
        job = await this.ai.batches.get({ name });
      } catch (err) {
        const c = classifyApiError(err);
        throw new WorkerError(`batch poll failed (${c.status ?? 'no response'}): ${c.message}`, { transient: c.kind !== 'auth' });
      }
      const state = String(job.state ?? 'JOB_STATE_UNSPECIFIED');
      const results = new Map<string, WorkerResponse | WorkerError>();
      if (state !== 'JOB_STATE_SUCCEEDED') {
        const failed = state === 'JOB_STATE_FAILED' || state === 'JOB_STATE_CANCELLED' || state === 'JOB_STATE_EXPIRED';
        if (failed) for (const r of reqs) results.set(r.key, new WorkerError(`batch ${name} ended ${state}`, { transient: true }));
        return { done: failed, state, results };
      }
      const byKey = new Map(reqs.map((r) => [r.key, r.req]));
      const items = job.dest?.fileName ? await this.downloadResults(job.dest.fileName) : (job.dest?.inlinedResponses ?? []);
      for (const item of items) {
        const key = String((item.metadata as Record<string, unknown> | undefined)?.key ?? '');
        const req = byKey.get(key);
        if (!req) continue; // not one of ours: ignore rather than guess
        if (item.error || !item.response) {
          results.set(key, new WorkerError(`batch request ${key.slice(0, 12)} failed: ${item.error?.message ?? 'no response'}`, { transient: false }));
          continue;
        }
        try {
          results.set(key, await this.answer(req, this.request(req), item.response as GenerateContentResponse, true));
        } catch (err) {
          results.set(key, err instanceof WorkerError ? err : new WorkerError((err as Error).message, { transient: false }));
        }
      }
      return { done: true, state, results };
    },
  };
}
