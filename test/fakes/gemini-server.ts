// A fake Gemini API on 127.0.0.1 that speaks the REST wire format the real SDK uses, and refuses what the
// real service refuses: a missing or invalid x-goog-api-key, unknown routes, malformed or unknown-field
// bodies, a JSON schema without the JSON mime type, and more requests per window than its own RPM
// (429 RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo). Tests script it: latency, error sequences,
// MAX_TOKENS, SAFETY, malformed JSON, and batch jobs that finish with results out of order.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export type Scripted =
  | { error: 'unavailable' | 'internal' | 'quota-minute' | 'quota-day' | 'invalid-key'; retryDelay?: string }
  | { finishReason: 'MAX_TOKENS' | 'SAFETY' }
  | { blockReason: 'SAFETY' }
  | { text: string }
  | { latencyMs: number };

export interface Recorded {
  method: string;
  path: string;
  model: string | undefined;
  verb: string | undefined;
  key: string | undefined;
  at: number;
  body: unknown;
  status: number;
}

type Json = Record<string, unknown>;

const TOP_KEYS = new Set(['contents', 'systemInstruction', 'generationConfig', 'safetySettings', 'tools', 'toolConfig', 'cachedContent', 'model']);
const GEN_KEYS = new Set(['temperature', 'topP', 'topK', 'candidateCount', 'maxOutputTokens', 'stopSequences', 'responseMimeType', 'responseSchema', 'responseJsonSchema', 'seed', 'thinkingConfig', 'presencePenalty', 'frequencyPenalty', 'responseLogprobs', 'logprobs']);

function rpcError(code: number, status: string, message: string, details: Json[] = []): Json {
  return { error: { code, message, status, ...(details.length ? { details } : {}) } };
}

const QUOTA = (quotaId: string, retryDelay: string) =>
  rpcError(429, 'RESOURCE_EXHAUSTED', 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.', [
    { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: [{ quotaMetric: 'generativelanguage.googleapis.com/generate_content_requests', quotaId, quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' }, quotaValue: '60' }] },
    { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
    { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
  ]);

const INVALID_KEY = rpcError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
  { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
]);

const tokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

/** The default answer: shaped by the response schema the client asked for. */
function defaultAnswer(body: Json): unknown {
  const schema = JSON.stringify((body.generationConfig as Json | undefined)?.responseJsonSchema ?? {});
  const prompt = JSON.stringify(body.contents ?? '');
  if (schema.includes('"findings"')) return { findings: [{ sensor: 'S01', verdict: /related-party|going-concern/i.test(prompt) ? 'hit' : 'no', quote: 'a quoted sentence' }] };
  if (schema.includes('"edits"')) return { edits: [] };
  const risky = /related-party|going-concern/i.test(prompt);
  return { tags: risky ? ['risk'] : [], strike: risky, why: risky ? 'mentions a related party' : 'nothing notable' };
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
  /** Scripted outcomes for the next generateContent calls, in order. */
  script(...items: Scripted[]): void;
  answer: (body: Json) => unknown;
  /** Makes every batch job finish (results in reverse order, to test merging by key). */
  finishBatches(): void;
  /** Batch items (by position in the submitted list) that finish with a per-request error. */
  failBatchItem: (index: number) => boolean;
  /** Uploaded and generated files, by id. */
  files: Map<string, { bytes: Buffer; mimeType: string; displayName: string }>;
  close(): Promise<void>;
}

export async function fakeGemini(opts: { keys?: string[]; rpm?: number; windowMs?: number } = {}): Promise<FakeGemini> {
  const queue: Scripted[] = [];
  const requests: Recorded[] = [];
  const batches = new Map<string, { model: string; displayName: string; requests: { request: Json; metadata: Json }[]; done: boolean; createTime: string; fromFile: boolean }>();
  let batchSeq = 0;
  const fake = {
    url: '',
    keys: new Set(opts.keys ?? ['test-key']),
    requests,
    rpm: opts.rpm ?? 1_000_000,
    windowMs: opts.windowMs ?? 60_000,
    latencyMs: 0,
    script: (...items: Scripted[]) => void queue.push(...items),
    answer: defaultAnswer,
    finishBatches: () => batches.forEach((b) => (b.done = true)),
    failBatchItem: () => false,
    files: new Map(),
    close: async () => {},
  } as FakeGemini;

  const files = fake.files;
  const uploads = new Map<string, { size: number; mimeType: string; displayName: string; parts: Buffer[]; received: number }>();
  let fileSeq = 0;
  const newFile = (bytes: Buffer, mimeType: string, displayName: string) => {
    const id = `f${++fileSeq}`;
    files.set(id, { bytes, mimeType, displayName });
    return { name: `files/${id}`, displayName, mimeType, sizeBytes: String(bytes.length), createTime: new Date().toISOString(), state: 'ACTIVE', uri: `${fake.url}/v1beta/files/${id}`, source: 'UPLOADED' };
  };
  const generate = (body: Json, scripted: Scripted | undefined): Json => {
    const promptText = JSON.stringify(body.contents) + JSON.stringify(body.systemInstruction ?? '');
    const usage = (out: string) => ({ promptTokenCount: tokens(promptText), candidatesTokenCount: tokens(out), totalTokenCount: tokens(promptText) + tokens(out) });
    if (scripted && 'blockReason' in scripted) return { promptFeedback: { blockReason: scripted.blockReason }, usageMetadata: usage('') };
    const text = scripted && 'text' in scripted ? scripted.text : JSON.stringify(fake.answer(body));
    const finishReason = scripted && 'finishReason' in scripted ? scripted.finishReason : 'STOP';
    const shown = finishReason === 'MAX_TOKENS' ? text.slice(0, Math.floor(text.length / 2)) : finishReason === 'SAFETY' ? '' : text;
    const candidate: Json = { content: { parts: shown ? [{ text: shown }] : [], role: 'model' }, finishReason, index: 0 };
    return { candidates: [candidate], usageMetadata: usage(shown), modelVersion: 'fake-001', responseId: `resp-${requests.length}` };
  };

  const checkGenerateBody = (body: Json): Json | undefined => {
    for (const k of Object.keys(body)) if (!TOP_KEYS.has(k)) return rpcError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. Unknown name "${k}": Cannot find field.`);
    if (!Array.isArray(body.contents) || body.contents.length === 0) return rpcError(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents: contents is not specified\n');
    for (const c of body.contents as Json[]) if (!Array.isArray(c.parts) || c.parts.length === 0) return rpcError(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.contents[0].parts: contents.parts must not be empty.\n');
    const gen = (body.generationConfig ?? {}) as Json;
    for (const k of Object.keys(gen)) if (!GEN_KEYS.has(k)) return rpcError(400, 'INVALID_ARGUMENT', `Invalid JSON payload received. Unknown name "${k}" at 'generation_config': Cannot find field.`);
    if ((gen.responseJsonSchema || gen.responseSchema) && gen.responseMimeType !== 'application/json')
      return rpcError(400, 'INVALID_ARGUMENT', '* GenerateContentRequest.generation_config.response_mime_type: response_mime_type must be application/json when response_schema is set.\n');
    return undefined;
  };

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const m = /^\/v1beta\/models\/([^/:]+):([A-Za-z]+)$/.exec(url.pathname);
    const up = url.pathname === '/upload/v1beta/files';
    const dl = /^\/v1beta\/files\/([^/:]+):download$/.exec(url.pathname);
    const b = /^\/v1beta\/batches\/([^/:]+)$/.exec(url.pathname);
    const key = req.headers['x-goog-api-key'] as string | undefined;
    const rec: Recorded = { method: req.method ?? '', path: url.pathname, model: m?.[1], verb: m?.[2], key, at: performance.now(), body: undefined, status: 0 };
    requests.push(rec);
    const send = (status: number, body: Json) => {
      rec.status = status;
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(body));
    };
    if (!key) return send(403, rpcError(403, 'PERMISSION_DENIED', "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API."));
    if (!fake.keys.has(key)) return send(400, INVALID_KEY);
    if (up) {
      // Resumable upload: start → upload chunks at increasing offsets → finalize.
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
        rec.status = 200;
        res.writeHead(200, { 'x-goog-upload-url': `${fake.url}/upload/v1beta/files?upload_id=${id}&upload_protocol=resumable`, 'x-goog-upload-status': 'active', 'content-type': 'application/json; charset=UTF-8' });
        return res.end('{}');
      }
      const session = uploads.get(url.searchParams.get('upload_id') ?? '');
      if (!session) return send(404, rpcError(404, 'NOT_FOUND', 'Upload session not found.'));
      const offset = Number(req.headers['x-goog-upload-offset']);
      if (offset !== session.received) return send(400, rpcError(400, 'INVALID_ARGUMENT', `Upload offset ${offset} does not match the ${session.received} bytes received.`));
      const chunk = Buffer.concat(chunks);
      session.parts.push(chunk);
      session.received += chunk.length;
      const finalize = command.split(',').map((x) => x.trim()).includes('finalize');
      if (!finalize) {
        rec.status = 200;
        res.writeHead(200, { 'x-goog-upload-status': 'active' });
        return res.end();
      }
      if (session.received !== session.size) return send(400, rpcError(400, 'INVALID_ARGUMENT', `Finalized with ${session.received} of ${session.size} bytes.`));
      const file = newFile(Buffer.concat(session.parts), session.mimeType, session.displayName);
      rec.status = 200;
      res.writeHead(200, { 'x-goog-upload-status': 'final', 'content-type': 'application/json; charset=UTF-8' });
      return res.end(JSON.stringify({ file }));
    }
    if (dl) {
      const file = files.get(dl[1]!);
      if (req.method !== 'GET' || url.searchParams.get('alt') !== 'media') return send(400, rpcError(400, 'INVALID_ARGUMENT', 'Download requires GET with alt=media.'));
      if (!file) return send(404, rpcError(404, 'NOT_FOUND', 'Requested entity was not found.'));
      rec.status = 200;
      res.writeHead(200, { 'content-type': file.mimeType, 'content-length': String(file.bytes.length) });
      return res.end(file.bytes);
    }
    if (!m && !b) return send(404, rpcError(404, 'NOT_FOUND', `The requested URL ${url.pathname} was not found on this server.`));
    if (b) {
      if (req.method !== 'GET') return send(404, rpcError(404, 'NOT_FOUND', 'method not found'));
      const job = batches.get(b[1]!);
      if (!job) return send(404, rpcError(404, 'NOT_FOUND', `Requested entity was not found.`));
      const metadata: Json = { '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch', name: `batches/${b[1]}`, displayName: job.displayName, model: `models/${job.model}`, state: job.done ? 'BATCH_STATE_SUCCEEDED' : 'BATCH_STATE_RUNNING', createTime: job.createTime };
      if (job.done) {
        const inlined = job.requests.map((r, i) => {
          if (fake.failBatchItem(i)) return { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' }, metadata: r.metadata };
          const bad = checkGenerateBody(r.request);
          return bad ? { error: (bad as { error: Json }).error, metadata: r.metadata } : { response: generate(r.request, undefined), metadata: r.metadata };
        });
        if (job.fromFile) {
          // A job that came from a file answers in a file: one JSON line per request, keyed.
          const lines = inlined.reverse().map((x) => JSON.stringify({ key: (x.metadata as Json).key, ...('response' in x ? { response: x.response } : { error: x.error }) }));
          if (!(job as { out?: string }).out) (job as { out?: string }).out = newFile(Buffer.from(lines.join('\n') + '\n'), 'application/jsonl', `${job.displayName}-results`).name;
          metadata.output = { responsesFile: (job as { out?: string }).out };
        } else metadata.output = { inlinedResponses: { inlinedResponses: inlined.reverse() } };
        metadata.endTime = new Date().toISOString();
      }
      return send(200, { name: `batches/${b[1]}`, metadata, done: job.done });
    }
    if (req.method !== 'POST') return send(404, rpcError(404, 'NOT_FOUND', 'method not found'));
    let body: Json;
    try {
      body = JSON.parse(raw) as Json;
    } catch {
      return send(400, rpcError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received. Unexpected token.'));
    }
    rec.body = body;
    const verb = m![2];
    if (verb === 'countTokens') {
      const inner = (body.generateContentRequest as Json | undefined) ?? body;
      return send(200, { totalTokens: tokens(JSON.stringify(inner.contents ?? '')) });
    }
    if (verb === 'batchGenerateContent') {
      const input = ((body.batch as Json | undefined)?.inputConfig ?? {}) as Json;
      let list = (((input.requests as Json | undefined)?.requests ?? []) as { request: Json; metadata: Json }[]);
      const fromFile = typeof input.fileName === 'string';
      if (fromFile) {
        const file = files.get(String(input.fileName).replace(/^files\//, ''));
        if (!file) return send(400, rpcError(400, 'INVALID_ARGUMENT', `File ${input.fileName} not found.`));
        try {
          list = file.bytes.toString('utf8').split('\n').filter((l) => l.trim()).map((l) => {
            const o = JSON.parse(l) as { key: string; request: Json };
            return { request: o.request, metadata: { key: o.key } };
          });
        } catch {
          return send(400, rpcError(400, 'INVALID_ARGUMENT', 'The input file is not valid JSONL.'));
        }
      }
      if (!Array.isArray(list) || list.length === 0) return send(400, rpcError(400, 'INVALID_ARGUMENT', '* BatchGenerateContentRequest.batch.input_config: input_config is required.\n'));
      const id = `fake${++batchSeq}`;
      const createTime = new Date().toISOString();
      batches.set(id, { model: m![1]!, displayName: String((body.batch as Json).displayName ?? id), requests: list, done: false, createTime, fromFile });
      return send(200, { name: `batches/${id}`, metadata: { '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch', name: `batches/${id}`, model: `models/${m![1]}`, state: 'BATCH_STATE_PENDING', createTime } });
    }
    if (verb !== 'generateContent') return send(404, rpcError(404, 'NOT_FOUND', `models/${m![1]} is not found for API version v1beta, or is not supported for ${verb}.`));
    const bad = checkGenerateBody(body);
    if (bad) return send(400, bad);
    // The fake's own per-minute quota, over a sliding window of accepted requests.
    const now = performance.now();
    const recent = requests.filter((r) => r.verb === 'generateContent' && r.status === 200 && r.at > now - fake.windowMs);
    if (recent.length >= fake.rpm) {
      const wait = (recent[recent.length - fake.rpm]!.at + fake.windowMs - now) / 1000;
      return send(429, QUOTA('GenerateRequestsPerMinutePerProjectPerModel', `${Math.max(0.001, wait).toFixed(3)}s`));
    }
    if (fake.latencyMs > 0) await new Promise((r) => setTimeout(r, fake.latencyMs));
    let scripted = queue.shift();
    if (scripted && 'latencyMs' in scripted) {
      await new Promise((r) => setTimeout(r, scripted && 'latencyMs' in scripted ? scripted.latencyMs : 0));
      scripted = undefined;
    }
    if (scripted && 'error' in scripted) {
      if (scripted.error === 'unavailable') return send(503, rpcError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'));
      if (scripted.error === 'internal') return send(500, rpcError(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting'));
      if (scripted.error === 'quota-minute') return send(429, QUOTA('GenerateRequestsPerMinutePerProjectPerModel', scripted.retryDelay ?? '2s'));
      if (scripted.error === 'quota-day') return send(429, QUOTA('GenerateRequestsPerDayPerProjectPerModel-FreeTier', scripted.retryDelay ?? '43000s'));
      if (scripted.error === 'invalid-key') return send(400, INVALID_KEY);
    }
    return send(200, generate(body, scripted));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  fake.url = `http://127.0.0.1:${port}`;
  fake.close = () => new Promise((r) => server.close(() => r()));
  return fake;
}
