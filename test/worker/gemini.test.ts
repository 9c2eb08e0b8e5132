// The Gemini adapter through the real @google/genai SDK against the loopback fake.
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fakeGemini, type FakeGemini } from '../fakes/gemini-server.js';
import { GeminiWorker, type GeminiOptions } from '../../src/worker/gemini/worker.js';
import { RateLimiter, realClock, type Clock } from '../../src/worker/gemini/limiter.js';
import { Budget } from '../../src/worker/gemini/budget.js';
import { FACTORY_RULES } from '../../src/worker/gemini/prompt.js';
import { WORKER_ANSWERS } from '../../src/contracts/validate.js';
import { G7Error, SchemaError } from '../../src/contracts/errors.js';
import { WorkerError, type WorkerRequest } from '../../src/worker/worker.js';

const PRICES = { 'gemini-2.5-flash-lite': { in: 0.1, out: 0.4 }, 'gemini-2.5-flash': { in: 0.3, out: 2.5 }, 'gemini-2.5-pro': { in: 1.25, out: 10 } };
const MODELS = { LOW: 'gemini-2.5-flash-lite', MID: 'gemini-2.5-flash', HIGH: 'gemini-2.5-pro' } as const;

function virtualClock() {
  const c = { t: 0, sleeps: [] as number[], now: () => c.t, sleep: async (ms: number) => void (c.sleeps.push(ms), (c.t += ms)) };
  return c;
}

let fake: FakeGemini;
beforeEach(async () => {
  fake = await fakeGemini({ keys: ['test-key'] });
});
afterEach(async () => fake.close());

async function worker(over: Partial<GeminiOptions> & { clock?: Clock } = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'g7-gemini-'));
  const clock = over.clock ?? virtualClock();
  return new GeminiWorker({
    apiKey: 'test-key', baseUrl: fake.url, models: MODELS, prices: PRICES, timeoutMs: 5000, maxInputTokens: 4000, maxAttempts: 5,
    limiter: new RateLimiter(1000, 10_000_000, clock), budget: new Budget(dir, { per_truck_usd: 5, per_night_usd: 10 }, () => '20261121'), clock, random: () => 0.5,
    ...over,
  });
}

const TAG: WorkerRequest = {
  card: 'L2_TAG_000001', cost_hint: 'LOW', skill: '# TAG skill\n## Guide\n- prefer precise tags\n## Caveats\n- never tag headers',
  task: { kind: 'TAG', chunk: { path: 'a.md', offset: 0, length: 40, sha256: '0'.repeat(64), text: 'The board approved a related-party loan.' }, taxonomy: { tags: [{ name: 'risk', keywords: ['related-party'], strike: true }] } },
};

describe('Gemini worker (real SDK, fake server)', () => {
  it('sends a structured-output request built from the packet and returns a validated answer with cost', async () => {
    const w = await worker();
    const r = await w.call(TAG);
    expect(r.json).toEqual({ tags: ['risk'], strike: true, why: 'mentions a related party' });
    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0]!;
    expect(sent).toMatchObject({ method: 'POST', path: '/v1beta/models/gemini-2.5-flash-lite:generateContent', key: 'test-key', status: 200 });
    const body = sent.body as { generationConfig: Record<string, unknown>; systemInstruction: { parts: { text: string }[] }; contents: { parts: { text: string }[] }[] };
    expect(body.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: WORKER_ANSWERS.TAG, temperature: 0 });
    expect(body.systemInstruction.parts[0]!.text).toContain(FACTORY_RULES);
    expect(body.systemInstruction.parts[0]!.text).toContain('## Caveats\n- never tag headers');
    expect(body.contents[0]!.parts[0]!.text).toContain('related-party loan');
    expect(r.tokens.in).toBeGreaterThan(0);
    expect(r.cost_usd).toBeCloseTo((r.tokens.in * 0.1 + r.tokens.out * 0.4) / 1e6, 12);
  });

  it('puts the previous failure into the rework prompt', async () => {
    await (await worker()).call({ ...TAG, previous_failure: 'accept json:out.jsonl failed: line 1 is not valid JSON' });
    expect(JSON.stringify(fake.requests[0]!.body)).toContain('The first attempt failed:\\naccept json:out.jsonl failed');
  });

  it('retries 503 and 500 with exponential backoff and jitter, then succeeds', async () => {
    fake.script({ error: 'unavailable' }, { error: 'internal' });
    const clock = virtualClock();
    const r = await (await worker({ clock })).call(TAG);
    expect(fake.requests.map((q) => q.status)).toEqual([503, 500, 200]);
    expect(clock.sleeps).toEqual([500, 1000]); // random 0.5 × 1 s × 2^attempt
    expect(r.retries).toEqual([{ status: 503, waited_ms: 500 }, { status: 500, waited_ms: 1000 }]);
  });

  it('honours RetryInfo.retryDelay exactly, for this call and the next', async () => {
    fake.script({ error: 'quota-minute', retryDelay: '7.250s' });
    const clock = virtualClock();
    const limiter = new RateLimiter(1000, 10_000_000, clock);
    const w = await worker({ clock, limiter });
    await w.call(TAG);
    expect(clock.sleeps).toEqual([7250]);
    // A pause the server asked for holds for every call: one starting now must wait it out too.
    fake.script({ error: 'quota-minute', retryDelay: '3s' });
    const before = clock.t;
    await w.call({ ...TAG, card: 'L2_TAG_000002' });
    expect(clock.t - before).toBeGreaterThanOrEqual(3000);
  });

  it('fails fast on a daily quota: one request, a transient API failure (RECOVERABLE)', async () => {
    fake.script({ error: 'quota-day' });
    const err = await (await worker()).call(TAG).catch((e) => e);
    expect(err).toBeInstanceOf(WorkerError);
    expect(err).toMatchObject({ triage: 'API', transient: true });
    expect(err.message).toMatch(/daily quota exhausted/);
    expect(fake.requests).toHaveLength(1);
  });

  it('treats an invalid key as a non-transient API failure, without retrying', async () => {
    const err = await (await worker({ apiKey: 'wrong-key' })).call(TAG).catch((e) => e);
    expect(err).toMatchObject({ triage: 'API', transient: false });
    expect(err.message).toMatch(/refused the key \(HTTP 400\): API key not valid/);
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    [{ finishReason: 'MAX_TOKENS' as const }, SchemaError, /cut off.*MAX_TOKENS/],
    [{ finishReason: 'SAFETY' as const }, WorkerError, /answer was blocked: SAFETY/],
    [{ blockReason: 'SAFETY' as const }, WorkerError, /prompt was blocked: SAFETY/],
    [{ text: 'Sure! Here are the tags: risk' }, SchemaError, /not JSON/],
    [{ text: '{"tags":"risk","strike":true,"why":""}' }, SchemaError, /must be array/],
    [{ text: '{"tags":[],"strike":false,"why":"","extra":1}' }, SchemaError, /additional properties \(extra\)/],
  ])('never crashes on a bad answer: %j', async (scripted, type, message) => {
    fake.script(scripted);
    const err = await (await worker()).call(TAG).catch((e) => e);
    expect(err).toBeInstanceOf(type);
    expect(err).toBeInstanceOf(G7Error);
    expect((err as G7Error).transient).toBe(false);
    expect(err.message).toMatch(message);
  });

  it('times out a slow call, retries it, and ends transient', async () => {
    fake.script({ latencyMs: 400 }, { latencyMs: 400 });
    const err = await (await worker({ timeoutMs: 100, maxAttempts: 2, clock: realClock })).call(TAG).catch((e) => e);
    expect(err).toMatchObject({ triage: 'API', transient: true });
    expect(err.message).toMatch(/after 2 attempts/);
  });

  it('checks the budget before calling: nothing is sent when it would be crossed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-budget-'));
    const w = await worker({ budget: new Budget(dir, { per_truck_usd: 0.000001, per_night_usd: 10 }, () => '20261121') });
    const err = await w.call({ ...TAG, cost_hint: 'HIGH' }).catch((e) => e);
    expect(err).toMatchObject({ triage: 'API', transient: true });
    expect(err.message).toMatch(/budget: this truck has spent/);
    expect(fake.requests).toHaveLength(0);
  });

  it('never causes a 429 itself: the limiter keeps concurrent calls under the fake RPM', async () => {
    fake.rpm = 5;
    fake.windowMs = 1000;
    const w = await worker({ clock: realClock, limiter: new RateLimiter(5, 10_000_000, realClock, 1000) });
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 12 }, (_, i) => w.call({ ...TAG, card: `L2_TAG_${String(i).padStart(6, '0')}` })));
    expect(fake.requests.map((r) => r.status).every((s) => s === 200)).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(2000); // 12 calls at 5 per second
  });
});

describe('the fake rejects what the real service rejects', () => {
  const post = (p: string, body: string, headers: Record<string, string> = { 'x-goog-api-key': 'test-key', 'content-type': 'application/json' }) => fetch(`${fake.url}${p}`, { method: 'POST', headers, body });
  const ok = JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] });
  it.each([
    ['a missing key', () => post('/v1beta/models/m:generateContent', ok, { 'content-type': 'application/json' }), 403, 'PERMISSION_DENIED'],
    ['an unknown route', () => post('/v1beta/models/m:frobnicate', ok), 404, 'NOT_FOUND'],
    ['malformed JSON', () => post('/v1beta/models/m:generateContent', '{"contents": ['), 400, 'INVALID_ARGUMENT'],
    ['an unknown field', () => post('/v1beta/models/m:generateContent', JSON.stringify({ contents: [{ parts: [{ text: 'x' }] }], temprature: 1 })), 400, 'INVALID_ARGUMENT'],
    ['a schema without the JSON mime type', () => post('/v1beta/models/m:generateContent', JSON.stringify({ contents: [{ parts: [{ text: 'x' }] }], generationConfig: { responseJsonSchema: { type: 'object' } } })), 400, 'INVALID_ARGUMENT'],
    ['empty contents', () => post('/v1beta/models/m:generateContent', JSON.stringify({ contents: [] })), 400, 'INVALID_ARGUMENT'],
  ])('%s', async (_n, send, code, status) => {
    const r = await send();
    expect(r.status).toBe(code);
    expect(((await r.json()) as { error: { status: string } }).error.status).toBe(status);
  });

  it('runs the resumable upload protocol strictly: start, offsets in order, finalize at the declared size', async () => {
    const h = { 'x-goog-api-key': 'test-key' };
    const bad = await fetch(`${fake.url}/upload/v1beta/files`, { method: 'POST', headers: { ...h, 'x-goog-upload-command': 'start', 'x-goog-upload-header-content-length': '4' }, body: '{}' });
    expect(bad.status).toBe(400); // not resumable
    const start = await fetch(`${fake.url}/upload/v1beta/files`, { method: 'POST', headers: { ...h, 'x-goog-upload-protocol': 'resumable', 'x-goog-upload-command': 'start', 'x-goog-upload-header-content-length': '4', 'x-goog-upload-header-content-type': 'jsonl' }, body: '{"file":{"displayName":"r"}}' });
    const url = start.headers.get('x-goog-upload-url')!;
    expect(url).toMatch(/upload_id=/);
    const skipped = await fetch(url, { method: 'POST', headers: { ...h, 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '2' }, body: 'ab' });
    expect(skipped.status).toBe(400);
    const done = await fetch(url, { method: 'POST', headers: { ...h, 'x-goog-upload-command': 'upload, finalize', 'x-goog-upload-offset': '0' }, body: 'abcd' });
    expect(done.headers.get('x-goog-upload-status')).toBe('final');
    const { file } = (await done.json()) as { file: { name: string; sizeBytes: string } };
    expect(file.sizeBytes).toBe('4');
    const got = await fetch(`${fake.url}/v1beta/${file.name}:download?alt=media`, { headers: h });
    expect(await got.text()).toBe('abcd');
  });

  it('answers 429 with QuotaFailure and RetryInfo past its own RPM', async () => {
    fake.rpm = 2;
    for (let i = 0; i < 2; i++) expect((await post('/v1beta/models/m:generateContent', ok)).status).toBe(200);
    const r = await post('/v1beta/models/m:generateContent', ok);
    expect(r.status).toBe(429);
    const body = (await r.json()) as { error: { details: { '@type': string; retryDelay?: string }[] } };
    expect(body.error.details.map((d) => d['@type'])).toEqual(['type.googleapis.com/google.rpc.QuotaFailure', 'type.googleapis.com/google.rpc.Help', 'type.googleapis.com/google.rpc.RetryInfo']);
    expect(body.error.details[2]!.retryDelay).toMatch(/^\d+\.\d{3}s$/);
  });
});

describe('money', () => {
  it('counts a paid call in the spend even when its answer is rejected', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-spend-'));
    const budget = new Budget(dir, { per_truck_usd: 5, per_night_usd: 10 }, () => '20261121');
    fake.script({ finishReason: 'MAX_TOKENS' });
    const err = await (await worker({ budget })).call(TAG).catch((e) => e);
    expect(err).toBeInstanceOf(SchemaError);
    expect(budget.truck.calls).toBe(1);
    expect(budget.truck.tokens_in).toBeGreaterThan(0);
    const night = JSON.parse(await (await import('node:fs/promises')).readFile(path.join(dir, 'spend_20261121.json'), 'utf8'));
    expect(night.calls).toBe(1);
  });
});
