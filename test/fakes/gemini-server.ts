// A fake Gemini API on 127.0.0.1 that speaks the REST wire format the real SDK uses, and returns and refuses
// what the real service does (gemini-wire.ts): a missing or invalid key, unknown routes, models outside its
// list (404), malformed or unknown-field bodies, thinking budgets a model refuses, more requests per window
// than its own RPM (429 with QuotaFailure and RetryInfo). Models think by default as the 2.5 models do, and
// thinking tokens count against maxOutputTokens. Tests script it: latency and errors on any route, finish
// reasons, blocked prompts, and batch jobs that end in any final state, with answers in or out of order,
// with or without their keys.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { MODELS, SAFETY_RATINGS, checkGenerateBody, modelNotFound, modelResource, outputTokens, promptTokens, rpcError, scriptedError, usageMetadata, type Json, type ScriptedError } from './gemini-wire.js';

export type { ScriptedError } from './gemini-wire.js';

export type FinishReason = 'STOP' | 'MAX_TOKENS' | 'SAFETY' | 'RECITATION' | 'OTHER' | 'BLOCKLIST' | 'PROHIBITED_CONTENT' | 'SPII';

export type Scripted =
  | { error: ScriptedError; retryDelay?: string }
  /** Without `text` the candidate has no content (as the service sends MAX_TOKENS after thinking, SAFETY, …). */
  | { finishReason: FinishReason; text?: string }
  | { blockReason: 'SAFETY' | 'OTHER' | 'BLOCKLIST' | 'PROHIBITED_CONTENT' }
  | { text: string }
  | { latencyMs: number };

export type RouteScript = { error: ScriptedError; retryDelay?: string } | { latencyMs: number };

export type Route = 'generateContent' | 'countTokens' | 'batchGenerateContent' | 'batches.get' | 'batches.list' | 'models.get' | 'files.get' | 'upload' | 'download';

export interface Recorded {
  method: string;
  path: string;
  route: Route | undefined;
  model: string | undefined;
  verb: string | undefined;
  key: string | undefined;
  at: number;
  body: unknown;
  status: number;
  /** The JSON body the fake answered with (for exact accounting against its usageMetadata). */
  response: unknown;
}

export type BatchEnd = 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'EXPIRED';

export interface FinishOptions {
  state?: BatchEnd;
  /** Order of the answers: reversed (the default) shows whether a client merges by key. */
  order?: 'reverse' | 'in-order';
  /** Whether inline answers echo their request's metadata (the key); public reports say it can be missing. */
  keys?: boolean;
  /** Positions (in the submitted list) whose answer is missing from the output. */
  omit?: number[];
}

export interface FakeGemini {
  url: string;
  keys: Set<string>;
  requests: Recorded[];
  /** Requests per window before the fake answers 429 (per-minute quota). */
  rpm: number;
  windowMs: number;
  /** Latency added to every generateContent answer. */
  latencyMs: number;
  /** Thinking tokens a model spends when it thinks and its budget allows (the 2.5 flash and pro models think by default). */
  thinkingTokens: number;
  /** Prompt tokens served from the implicit cache for a request (0: none). */
  cachedTokens: (body: Json) => number;
  /** Scripted outcomes for the next generateContent calls, in order. */
  script(...items: Scripted[]): void;
  /** Scripted errors or latency for the next requests on one route, in order. */
  scriptRoute(route: Route, ...items: RouteScript[]): void;
  answer: (body: Json) => unknown;
  /** Ends every running batch job (by default: succeeded, answers in reverse order, keys echoed). */
  finishBatches(o?: FinishOptions): void;
  /** Batch items (by position in the submitted list) that finish with a per-request error. */
  failBatchItem: (index: number) => boolean;
  /** Per model: input tokens the running batch jobs may hold at once (by the fake's own count); past it, create answers 429. */
  batchEnqueuedTokens: Record<string, number>;
  /** Batch jobs running at once (all models); past it, create answers 429. */
  maxBatchJobs: number;
  /** The most batch jobs that were ever running at once, and the most tokens a model's running jobs held. */
  peak: { jobs: number; tokens: Record<string, number> };
  /** Uploaded and generated files, by id. */
  files: Map<string, { bytes: Buffer; mimeType: string; displayName: string }>;
  close(): Promise<void>;
}

const BLOCKED = new Set(['SAFETY', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII']);
const BATCH_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch';
const OUTPUT_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput';
const INLINE_LIMIT = 20 * 1024 * 1024;
const JOB_ERRORS: Record<Exclude<BatchEnd, 'SUCCEEDED'>, Json> = {
  FAILED: { code: 13, message: 'Batch job failed: an internal error occurred while processing the input.' },
  CANCELLED: { code: 1, message: 'Batch job was cancelled.' },
  EXPIRED: { code: 4, message: 'Batch job expired: it was pending or running for more than 48 hours.' },
};

/** The text of a request's parts, joined. */
export const textOf = (contents: unknown): string =>
  (Array.isArray(contents) ? contents : [])
    .flatMap((c) => ((c as Json | undefined)?.parts as Json[] | undefined) ?? [])
    .map((p) => String(p.text ?? ''))
    .join('\n');

/** How the fake's TAG answers name the chunk they are about: the first 12 hex digits of its text's sha256. */
export const chunkMark = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** The chunk's text in a TAG prompt (which names no place): everything after its header, up to a rework's note. */
export const chunkTextOf = (prompt: string) => /Chunk \(\d+ bytes\):\n([\s\S]*?)(?=\n\nThis is the one rework attempt|$)/.exec(prompt)?.[1];

/** The default answer: shaped by the response schema the client asked for, and naming the chunk it is about by its text's digest. */
function defaultAnswer(body: Json): unknown {
  const schema = JSON.stringify((body.generationConfig as Json | undefined)?.responseJsonSchema ?? {});
  const prompt = textOf(body.contents);
  const risky = /related-party|going-concern/i.test(prompt);
  if (schema.includes('"findings"')) return { findings: [{ sensor: 'S01', verdict: risky ? 'hit' : 'no', quote: 'a quoted sentence' }] };
  if (schema.includes('"edits"')) return { edits: [] };
  // The prompt names no place, only the text: the answer names the text by its digest (a pairing mistake shows).
  const chunk = chunkTextOf(prompt);
  return { tags: risky ? ['risk'] : [], strike: risky, why: `${risky ? 'mentions a related party' : 'nothing notable'}${chunk !== undefined ? ` in chunk ${chunkMark(chunk)}` : ''}` };
}

interface Job {
  model: string;
  displayName: string;
  requests: { request: Json; metadata?: Json }[];
  /** Input tokens the job holds in its model's batch queue while it runs (the fake's own count). */
  tokens: number;
  fromFile: boolean;
  createTime: string;
  end?: { state: BatchEnd; endTime: string; output?: Json; error?: Json; stats: Json };
}

/** The Batch API's documented tier-1 limits on tokens enqueued at once, per model (the fake's defaults). */
export const TIER1_ENQUEUED_TOKENS: Record<string, number> = { 'gemini-2.5-flash-lite': 10_000_000, 'gemini-2.5-flash': 3_000_000, 'gemini-2.5-pro': 5_000_000 };

export async function fakeGemini(opts: { keys?: string[]; rpm?: number; windowMs?: number; models?: string[]; now?: () => number } = {}): Promise<FakeGemini> {
  const now = opts.now ?? (() => performance.now());
  const served = new Set(opts.models ?? Object.keys(MODELS));
  const queues = new Map<Route, (Scripted | RouteScript)[]>();
  const queue = (r: Route) => queues.get(r) ?? (queues.set(r, []), queues.get(r)!);
  const requests: Recorded[] = [];
  const batches = new Map<string, Job>();
  let batchSeq = 0;
  const fake = {
    url: '',
    keys: new Set(opts.keys ?? ['test-key']),
    requests,
    rpm: opts.rpm ?? 1_000_000,
    windowMs: opts.windowMs ?? 60_000,
    latencyMs: 0,
    thinkingTokens: 1187,
    cachedTokens: () => 0,
    script: (...items: Scripted[]) => void queue('generateContent').push(...items),
    scriptRoute: (route: Route, ...items: RouteScript[]) => void queue(route).push(...items),
    answer: defaultAnswer,
    finishBatches: (o: FinishOptions = {}) => batches.forEach((job) => job.end ?? finish(job, o)),
    failBatchItem: () => false,
    batchEnqueuedTokens: { ...TIER1_ENQUEUED_TOKENS },
    maxBatchJobs: 100,
    peak: { jobs: 0, tokens: {} },
    files: new Map(),
    close: async () => {},
  } as FakeGemini;

  const files = fake.files;
  const uploads = new Map<string, { size: number; mimeType: string; displayName: string; parts: Buffer[]; received: number }>();
  let fileSeq = 0;
  const fileResource = (id: string) => {
    const f = files.get(id)!;
    return { name: `files/${id}`, displayName: f.displayName, mimeType: f.mimeType, sizeBytes: String(f.bytes.length), createTime: new Date().toISOString(), state: 'ACTIVE', uri: `${fake.url}/v1beta/files/${id}`, source: 'UPLOADED' };
  };
  const newFile = (bytes: Buffer, mimeType: string, displayName: string) => {
    const id = `f${++fileSeq}`;
    files.set(id, { bytes, mimeType, displayName });
    return fileResource(id);
  };

  /** One generateContent answer: thinking spends output tokens first, then the answer gets what is left. */
  const generate = (body: Json, model: string, scripted: Scripted | undefined): Json => {
    const spec = MODELS[model]!;
    const gen = (body.generationConfig ?? {}) as Json;
    const prompt = promptTokens(textOf(body.contents) + textOf([body.systemInstruction]));
    const cached = Math.min(prompt, fake.cachedTokens(body));
    const head = { modelVersion: model, responseId: `resp-${requests.length}` };
    if (scripted && 'blockReason' in scripted) return { promptFeedback: { blockReason: scripted.blockReason, safetyRatings: SAFETY_RATINGS }, usageMetadata: usageMetadata({ prompt, cached, candidates: 0, thoughts: 0 }), ...head };
    const budget = (gen.thinkingConfig as Json | undefined)?.thinkingBudget as number | undefined;
    const thinks = budget === undefined ? spec.thinksByDefault : budget !== 0;
    const maxOut = (gen.maxOutputTokens as number | undefined) ?? spec.outputTokenLimit;
    const thoughts = thinks ? Math.min(budget === undefined || budget === -1 ? fake.thinkingTokens : Math.min(budget, fake.thinkingTokens), maxOut) : 0;
    const room = maxOut - thoughts;
    let finishReason: FinishReason = scripted && 'finishReason' in scripted ? scripted.finishReason : 'STOP';
    let text = scripted && 'text' in scripted ? (scripted.text ?? '') : finishReason === 'STOP' ? JSON.stringify(fake.answer(body)) : '';
    if (outputTokens(text) > room) {
      finishReason = 'MAX_TOKENS';
      text = room > 2 ? text.slice(0, (room - 2) * 3) : '';
    }
    const content = text ? { content: { parts: [{ text }], role: 'model' } } : finishReason === 'MAX_TOKENS' ? { content: { role: 'model' } } : {};
    const candidate: Json = { ...content, finishReason, index: 0, ...(BLOCKED.has(finishReason) ? { safetyRatings: SAFETY_RATINGS } : {}) };
    return { candidates: [candidate], usageMetadata: usageMetadata({ prompt, cached, candidates: text ? outputTokens(text) : 0, thoughts }), ...head };
  };

  const finish = (job: Job, o: FinishOptions) => {
    const state = o.state ?? 'SUCCEEDED';
    const endTime = new Date().toISOString();
    const n = job.requests.length;
    if (state !== 'SUCCEEDED') {
      job.end = { state, endTime, error: JOB_ERRORS[state], stats: { requestCount: String(n), pendingRequestCount: String(n) } };
      return;
    }
    let items = job.requests.map((r, i) => ({
      i,
      key: r.metadata?.key as string | undefined,
      body: fake.failBatchItem(i) ? { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } } : { response: generate(r.request, job.model, undefined) },
    }));
    const failed = items.filter((x) => 'error' in x.body).length;
    items = items.filter((x) => !(o.omit ?? []).includes(x.i));
    if ((o.order ?? 'reverse') === 'reverse') items.reverse();
    let output: Json;
    if (job.fromFile) {
      // A job that came from a file answers in a file: one JSON line per request, with its key.
      const lines = items.map((x) => JSON.stringify({ key: x.key, ...x.body }));
      output = { responsesFile: newFile(Buffer.from(lines.join('\n') + '\n'), 'application/jsonl', `${job.displayName}-results`).name };
    } else {
      output = { inlinedResponses: { inlinedResponses: items.map((x) => ({ ...x.body, ...(o.keys === false || !x.key ? {} : { metadata: { key: x.key } }) })) } };
    }
    job.end = { state, endTime, output, stats: { requestCount: String(n), successfulRequestCount: String(n - failed), failedRequestCount: String(failed) } };
  };

  /** A batch job as an Operation: metadata is the GenerateContentBatch, the output is mirrored in `response`. */
  const operation = (id: string): Json => {
    const job = batches.get(id)!;
    const state = job.end ? `BATCH_STATE_${job.end.state}` : 'BATCH_STATE_RUNNING';
    const metadata: Json = { '@type': BATCH_TYPE, name: `batches/${id}`, displayName: job.displayName, model: `models/${job.model}`, state, createTime: job.createTime, batchStats: job.end?.stats ?? { requestCount: String(job.requests.length), pendingRequestCount: String(job.requests.length) } };
    if (!job.end) return { name: `batches/${id}`, metadata, done: false };
    metadata.endTime = job.end.endTime;
    metadata.updateTime = job.end.endTime;
    if (job.end.output) metadata.output = job.end.output;
    return { name: `batches/${id}`, metadata, done: true, ...(job.end.error ? { error: job.end.error } : { response: { '@type': OUTPUT_TYPE, ...job.end.output } }) };
  };

  /** The whole batch body is validated when the job is created, as the service does. */
  const createBatch = (body: Json, model: string, rawBytes: number): { status: number; body: Json } => {
    const bad = (message: string) => ({ status: 400, body: rpcError(400, 'INVALID_ARGUMENT', message) });
    if (rawBytes > INLINE_LIMIT) return bad(`Request payload size exceeds the limit: ${INLINE_LIMIT} bytes.`);
    for (const k of Object.keys(body)) if (k !== 'batch') return bad(`Invalid JSON payload received. Unknown name "${k}": Cannot find field.`);
    const batch = (body.batch ?? {}) as Json;
    for (const k of Object.keys(batch)) if (!['displayName', 'inputConfig', 'model', 'priority', 'webhookConfig'].includes(k)) return bad(`Invalid JSON payload received. Unknown name "${k}" at 'batch': Cannot find field.`);
    if (typeof batch.displayName !== 'string' || !batch.displayName) return bad('* BatchGenerateContentRequest.batch.display_name: display_name is required\n');
    const input = (batch.inputConfig ?? {}) as Json;
    if ((input.requests === undefined) === (input.fileName === undefined)) return bad('* BatchGenerateContentRequest.batch.input_config: exactly one of requests or file_name is required\n');
    let list: { request: Json; metadata?: Json }[];
    if (typeof input.fileName === 'string') {
      const file = files.get(input.fileName.replace(/^files\//, ''));
      if (!file) return bad(`File ${input.fileName} not found.`);
      try {
        list = file.bytes.toString('utf8').split('\n').filter((l) => l.trim()).map((l) => {
          const o = JSON.parse(l) as { key: string; request: Json };
          return { request: o.request, metadata: { key: o.key } };
        });
      } catch {
        return bad('The input file is not valid JSONL.');
      }
    } else list = (((input.requests as Json).requests ?? []) as { request: Json; metadata?: Json }[]);
    if (!Array.isArray(list) || list.length === 0) return bad('* BatchGenerateContentRequest.batch.input_config.requests: at least one request is required\n');
    for (const [i, r] of list.entries()) {
      const problem = checkGenerateBody(r.request ?? {}, model, `BatchGenerateContentRequest.batch.input_config.requests.requests[${i}].request`);
      if (problem) return { status: 400, body: problem };
    }
    // The project's batch queue: at most maxBatchJobs running, and per model at most its enqueued tokens. The
    // service refuses past either with a bare 429 (a Help link, no QuotaFailure, no RetryInfo), creating nothing.
    const tokens = list.reduce((sum, r) => sum + promptTokens(textOf((r.request ?? {}).contents) + textOf([(r.request ?? {}).systemInstruction])), 0);
    const running = [...batches.values()].filter((j) => !j.end);
    const held = running.filter((j) => j.model === model).reduce((sum, j) => sum + j.tokens, 0);
    if (running.length >= fake.maxBatchJobs || held + tokens > (fake.batchEnqueuedTokens[model] ?? Infinity)) return scriptedError('quota-help-only', undefined, model) as { status: number; body: Json };
    const id = `fake${++batchSeq}`;
    batches.set(id, { model, displayName: batch.displayName, requests: list, tokens, fromFile: typeof input.fileName === 'string', createTime: new Date().toISOString() });
    fake.peak.jobs = Math.max(fake.peak.jobs, running.length + 1);
    fake.peak.tokens[model] = Math.max(fake.peak.tokens[model] ?? 0, held + tokens);
    return { status: 200, body: operation(id) };
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const p = url.pathname;
    const m = /^\/v1beta\/models\/([^/:]+)(?::([A-Za-z]+))?$/.exec(p);
    const b = /^\/v1beta\/batches\/([^/:]+)$/.exec(p);
    const f = /^\/v1beta\/files\/([^/:]+)(:download)?$/.exec(p);
    const route: Route | undefined =
      p === '/upload/v1beta/files' ? 'upload'
      : f ? (f[2] ? 'download' : 'files.get')
      : b ? 'batches.get'
      : p === '/v1beta/batches' ? 'batches.list'
      : m && !m[2] ? 'models.get'
      : m && ['generateContent', 'countTokens', 'batchGenerateContent'].includes(m[2]!) ? (m[2] as Route)
      : undefined;
    const key = req.headers['x-goog-api-key'] as string | undefined;
    const rec: Recorded = { method: req.method ?? '', path: p, route, model: m?.[1], verb: m?.[2], key, at: now(), body: undefined, status: 0, response: undefined };
    requests.push(rec);
    const send = (status: number, body: Json | string, headers: Record<string, string> = {}) => {
      rec.status = status;
      if (typeof body !== 'string') rec.response = body;
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/html; charset=UTF-8' : 'application/json; charset=UTF-8', ...headers });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    if (!key) return send(403, rpcError(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."));
    if (!fake.keys.has(key)) return send(400, rpcError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } }]));
    if (!route) return send(404, rpcError(404, 'NOT_FOUND', `The requested URL ${p} was not found on this server.`));
    const expected = route === 'upload' || route === 'generateContent' || route === 'countTokens' || route === 'batchGenerateContent' ? 'POST' : 'GET';
    if (req.method !== expected) return send(404, rpcError(404, 'NOT_FOUND', 'method not found'));
    if (m && !served.has(m[1]!)) return send(404, modelNotFound(m[1]!, m[2] ?? 'get'));

    // Scripted latency and errors: any route (generateContent's script runs after validation, below).
    if (route !== 'generateContent') {
      const s = queue(route).shift();
      if (s && 'latencyMs' in s) await new Promise((r) => setTimeout(r, s.latencyMs));
      if (s && 'error' in s) {
        const e = scriptedError(s.error, s.retryDelay, m?.[1]);
        return send(e.status, e.body, e.type ? { 'content-type': e.type } : {});
      }
    }

    if (route === 'upload') return upload(req, res, url, raw, chunks, rec, send);
    if (route === 'download') {
      const file = files.get(f![1]!);
      if (url.searchParams.get('alt') !== 'media') return send(400, rpcError(400, 'INVALID_ARGUMENT', 'Download requires alt=media.'));
      if (!file) return send(404, rpcError(404, 'NOT_FOUND', 'Requested entity was not found.'));
      rec.status = 200;
      res.writeHead(200, { 'content-type': file.mimeType, 'content-length': String(file.bytes.length) });
      return res.end(file.bytes);
    }
    if (route === 'files.get') return files.has(f![1]!) ? send(200, fileResource(f![1]!)) : send(404, rpcError(404, 'NOT_FOUND', 'Requested entity was not found.'));
    if (route === 'models.get') return send(200, modelResource(m![1]!));
    if (route === 'batches.get') return batches.has(b![1]!) ? send(200, operation(b![1]!)) : send(404, rpcError(404, 'NOT_FOUND', 'Requested entity was not found.'));
    if (route === 'batches.list') {
      const ids = [...batches.keys()].reverse(); // newest first
      const size = Math.min(Number(url.searchParams.get('pageSize') ?? 50) || 50, 1000);
      const from = Number(url.searchParams.get('pageToken') ?? 0) || 0;
      const page = ids.slice(from, from + size);
      return send(200, { operations: page.map(operation), ...(from + size < ids.length ? { nextPageToken: String(from + size) } : {}) });
    }

    let body: Json;
    try {
      body = JSON.parse(raw) as Json;
    } catch {
      return send(400, rpcError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.'));
    }
    rec.body = body;
    const model = m![1]!;
    if (route === 'countTokens') {
      const inner = (body.generateContentRequest as Json | undefined) ?? body;
      return send(200, { totalTokens: promptTokens(textOf(inner.contents)) });
    }
    if (route === 'batchGenerateContent') {
      const r = createBatch(body, model, Buffer.byteLength(raw));
      return send(r.status, r.body);
    }
    const bad = checkGenerateBody(body, model);
    if (bad) return send(400, bad);
    // The fake's own per-minute quota, over a sliding window of accepted requests.
    const t = now();
    const recent = requests.filter((r) => r.route === 'generateContent' && r.status === 200 && r.at > t - fake.windowMs);
    if (recent.length >= fake.rpm) {
      const wait = (recent[recent.length - fake.rpm]!.at + fake.windowMs - t) / 1000;
      const e = scriptedError('quota-minute', `${Math.max(0.001, wait).toFixed(3)}s`, model);
      return send(e.status, e.body);
    }
    if (fake.latencyMs > 0) await new Promise((r) => setTimeout(r, fake.latencyMs));
    let scripted = queue('generateContent').shift() as Scripted | undefined;
    if (scripted && 'latencyMs' in scripted) {
      await new Promise((r) => setTimeout(r, (scripted as { latencyMs: number }).latencyMs));
      scripted = undefined;
    }
    if (scripted && 'error' in scripted) {
      const e = scriptedError(scripted.error, scripted.retryDelay, model);
      return send(e.status, e.body, e.type ? { 'content-type': e.type } : {});
    }
    return send(200, generate(body, model, scripted));
  });

  /** Resumable upload: start → upload chunks at increasing offsets → finalize. */
  const upload = (req: IncomingMessage, res: ServerResponse, url: URL, raw: string, chunks: Buffer[], rec: Recorded, send: (s: number, b: Json, h?: Record<string, string>) => void) => {
    const command = String(req.headers['x-goog-upload-command'] ?? '');
    if (command === 'start') {
      if (req.headers['x-goog-upload-protocol'] !== 'resumable') return send(400, rpcError(400, 'INVALID_ARGUMENT', 'Upload protocol must be resumable.'));
      const size = Number(req.headers['x-goog-upload-header-content-length']);
      if (!Number.isFinite(size) || size <= 0) return send(400, rpcError(400, 'INVALID_ARGUMENT', 'X-Goog-Upload-Header-Content-Length is required.'));
      let meta: Json = {};
      try {
        meta = raw ? ((JSON.parse(raw) as Json).file as Json) ?? {} : {};
      } catch {
        return send(400, rpcError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.'));
      }
      const id = `u${uploads.size + 1}`;
      uploads.set(id, { size, mimeType: String(req.headers['x-goog-upload-header-content-type'] ?? meta.mimeType ?? 'application/octet-stream'), displayName: String(meta.displayName ?? id), parts: [], received: 0 });
      return send(200, {}, { 'x-goog-upload-url': `${fake.url}/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`, 'x-goog-upload-status': 'active' });
    }
    const session = uploads.get(url.searchParams.get('upload_id') ?? '');
    if (!session) return send(404, rpcError(404, 'NOT_FOUND', 'Upload session not found.'));
    const offset = Number(req.headers['x-goog-upload-offset']);
    if (offset !== session.received) return send(400, rpcError(400, 'INVALID_ARGUMENT', `Upload offset ${offset} does not match the ${session.received} bytes received.`));
    const chunk = Buffer.concat(chunks);
    session.parts.push(chunk);
    session.received += chunk.length;
    if (!command.split(',').map((x) => x.trim()).includes('finalize')) {
      rec.status = 200;
      res.writeHead(200, { 'x-goog-upload-status': 'active' });
      return res.end();
    }
    if (session.received !== session.size) return send(400, rpcError(400, 'INVALID_ARGUMENT', `Finalized with ${session.received} of ${session.size} bytes.`));
    return send(200, { file: newFile(Buffer.concat(session.parts), session.mimeType, session.displayName) }, { 'x-goog-upload-status': 'final' });
  };

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () => new Promise((r) => server.close(() => r()));
  return fake;
}
