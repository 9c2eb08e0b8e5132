// The Gemini adapter through the real @google/genai SDK against the loopback fake: what it sends, what it
// makes of every kind of answer the service gives, and when it waits, retries or stops.
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { readFile } from 'node:fs/promises';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chunkMark, fakeGemini, type FakeGemini, type FinishReason } from '../fakes/gemini-server.js';
import { RateLimiter, realClock } from '../../src/worker/gemini/limiter.js';
import { Budget } from '../../src/worker/gemini/budget.js';
import { FACTORY_RULES } from '../../src/worker/gemini/prompt.js';
import { WORKER_ANSWERS } from '../../src/contracts/validate.js';
import { G7Error, SchemaError } from '../../src/contracts/errors.js';
import { WorkerError } from '../../src/worker/worker.js';
import { geminiOn, instantClock, manualClock, waitFor, billedBy, TAG, tagFor } from './support.js';

let fake: FakeGemini;
beforeEach(async () => {
  fake = await fakeGemini({ keys: ['test-key'] });
});
afterEach(async () => fake.close());

const generated = () => fake.requests.filter((r) => r.route === 'generateContent');
type Sent = { generationConfig: Record<string, unknown>; systemInstruction: { parts: { text: string }[] }; contents: { parts: { text: string }[] }[] };

describe('Gemini worker: the request', () => {
  it('sends a structured-output request built from the packet and returns a validated answer, priced from the usage the service reported', async () => {
    const r = await (await geminiOn(fake)).call(TAG);
    expect(r.json).toEqual({ tags: ['risk'], strike: true, why: `mentions a related party in chunk ${chunkMark('The board approved a related-party loan.')}` });
    expect(generated()).toHaveLength(1);
    const sent = generated()[0]!;
    expect(sent).toMatchObject({ method: 'POST', path: '/v1beta/models/gemini-2.5-flash-lite:generateContent', key: 'test-key', status: 200 });
    const body = sent.body as Sent;
    expect(body.generationConfig).toMatchObject({ responseMimeType: 'application/json', responseJsonSchema: WORKER_ANSWERS.TAG, temperature: 0 });
    expect(body.systemInstruction.parts[0]!.text).toContain(FACTORY_RULES);
    expect(body.systemInstruction.parts[0]!.text).toContain('## Caveats\n- never tag headers');
    expect(body.contents[0]!.parts[0]!.text).toContain('related-party loan');
    const bill = billedBy(sent);
    expect(r.tokens).toEqual({ in: bill.in, out: bill.out });
    expect(r.cost_usd).toBeCloseTo(bill.usd, 15);
  });

  it('puts the previous failure into the rework prompt', async () => {
    await (await geminiOn(fake)).call({ ...TAG, previous_failure: 'accept json:out.jsonl failed: line 1 is not valid JSON' });
    expect(JSON.stringify(generated()[0]!.body)).toContain('The first attempt failed:\\naccept json:out.jsonl failed');
  });

  it('sends the thinking budget of the cost hint, with room for the answer on top of it', async () => {
    const w = await geminiOn(fake, { thinkingBudget: { LOW: 0, HIGH: 1536 }, maxOutputTokens: 700 });
    await w.call(tagFor(1, 'LOW'));
    await w.call(tagFor(2, 'HIGH'));
    const [low, high] = generated().map((r) => (r.body as Sent).generationConfig);
    expect(low).toMatchObject({ thinkingConfig: { thinkingBudget: 0 }, maxOutputTokens: 700 });
    expect(high).toMatchObject({ thinkingConfig: { thinkingBudget: 1536 }, maxOutputTokens: 700 + 1536 });
    // The pro model thought within its budget, and those tokens were billed as output.
    const thoughts = (generated()[1]!.response as { usageMetadata: { thoughtsTokenCount: number } }).usageMetadata.thoughtsTokenCount;
    expect(thoughts).toBe(1187);
  });

  it('a model that refuses a thinking budget of 0 (2.5 Pro) is a non-transient failure that names the setting', async () => {
    const err = await (await geminiOn(fake, { thinkingBudget: { HIGH: 0 } })).call(tagFor(1, 'HIGH')).catch((e) => e);
    expect(err).toMatchObject({ triage: 'API', transient: false });
    expect(err.message).toMatch(/HTTP 400.*Budget 0 is invalid\. This model only works in thinking mode/);
    expect(err.problems[0].hint).toMatch(/gemini\.thinking_budget/);
    expect(generated()).toHaveLength(1);
  });

  it('thinking that fills the output cap leaves no answer: MAX_TOKENS, the thinking billed as output, and the rework gets four times the room', async () => {
    // The service's way: thinking tokens count against maxOutputTokens; here the answer's own room is too small.
    const w = await geminiOn(fake, { thinkingBudget: { HIGH: 1024 }, maxOutputTokens: 12 });
    const err = await w.call(tagFor(1, 'HIGH')).catch((e) => e);
    expect(err).toBeInstanceOf(SchemaError);
    expect(err.message).toMatch(/cut off at 1036 output tokens, 1024 of them thinking \(finishReason MAX_TOKENS\)/);
    expect(w.o.budget.truck.tokens_out).toBe(billedBy(generated()[0]!).out);
    const rework = await w.call({ ...tagFor(1, 'HIGH'), previous_failure: `${err.message}` });
    expect((generated()[1]!.body as Sent).generationConfig.maxOutputTokens).toBe(4 * 12 + 1024);
    expect(rework.finish_reason).toBe('STOP');
  });

  it('a MAX_TOKENS answer with no parts at all (thinking took everything) still counts its thinking as paid output', async () => {
    fake.thinkingTokens = 50_000;
    const w = await geminiOn(fake, { thinkingBudget: { MID: -1 } });
    const err = await w.call(tagFor(1, 'MID')).catch((e) => e);
    expect(err).toBeInstanceOf(SchemaError);
    const res = generated()[0]!.response as { candidates: { content: Record<string, unknown> }[]; usageMetadata: Record<string, number> };
    expect(res.candidates[0]!.content).toEqual({ role: 'model' });
    expect(res.usageMetadata.candidatesTokenCount).toBeUndefined();
    expect(w.o.budget.truck.tokens_out).toBe(res.usageMetadata.thoughtsTokenCount);
    expect(w.o.budget.truck.usd).toBeCloseTo(billedBy(generated()[0]!).usd, 15);
  });

  it('prices prompt tokens served from the cache at the cached rate', async () => {
    fake.cachedTokens = () => 29;
    const r = await (await geminiOn(fake)).call(TAG);
    expect((generated()[0]!.response as { usageMetadata: Record<string, number> }).usageMetadata.cachedContentTokenCount).toBe(29);
    expect(r.cost_usd).toBeCloseTo(billedBy(generated()[0]!).usd, 15);
    expect(r.usage).toMatchObject({ cached: 29 });
  });
});

describe('Gemini worker: answers that are not answers', () => {
  // Each finishes with a text that would parse as a valid answer: only checking the reason stops it.
  const valid = JSON.stringify({ tags: [], strike: false, why: 'x' });
  it.each([
    ['SAFETY', WorkerError, /answer was blocked: SAFETY/],
    ['RECITATION', WorkerError, /answer was blocked: RECITATION/],
    ['BLOCKLIST', WorkerError, /answer was blocked: BLOCKLIST/],
    ['PROHIBITED_CONTENT', WorkerError, /answer was blocked: PROHIBITED_CONTENT/],
    ['SPII', WorkerError, /answer was blocked: SPII/],
    ['OTHER', SchemaError, /did not finish normally \(finishReason OTHER\)/],
    ['MAX_TOKENS', SchemaError, /cut off.*MAX_TOKENS/],
  ] as [FinishReason, typeof WorkerError | typeof SchemaError, RegExp][])('finishReason %s with a parseable text is refused', async (finishReason, type, message) => {
    fake.script({ finishReason, text: valid });
    const err = await (await geminiOn(fake)).call(TAG).catch((e) => e);
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({ triage: err instanceof WorkerError ? 'API' : 'SCHEMA', transient: false });
    expect(err.message).toMatch(message);
  });

  it.each([
    [{ finishReason: 'MAX_TOKENS' as const }, SchemaError, /cut off.*MAX_TOKENS/],
    [{ finishReason: 'SAFETY' as const }, WorkerError, /answer was blocked: SAFETY/],
    [{ blockReason: 'SAFETY' as const }, WorkerError, /prompt was blocked: SAFETY/],
    [{ blockReason: 'OTHER' as const }, WorkerError, /prompt was blocked: OTHER/],
    [{ text: 'Sure! Here are the tags: risk' }, SchemaError, /not JSON/],
    [{ text: '{"tags":"risk","strike":true,"why":""}' }, SchemaError, /must be array/],
    [{ text: '{"tags":[],"strike":false,"why":"","extra":1}' }, SchemaError, /additional properties \(extra\)/],
  ])('never crashes on a bad answer: %j', async (scripted, type, message) => {
    fake.script(scripted);
    const w = await geminiOn(fake);
    const err = await w.call(TAG).catch((e) => e);
    expect(err).toBeInstanceOf(type);
    expect((err as G7Error).transient).toBe(false);
    expect(err.message).toMatch(message);
    // Paid for all the same.
    expect(w.o.budget.truck).toMatchObject({ calls: 1, tokens_in: billedBy(generated()[0]!).in });
  });

  it('a blocked prompt comes back with only promptFeedback and usage: no candidates', async () => {
    fake.script({ blockReason: 'PROHIBITED_CONTENT' });
    await (await geminiOn(fake)).call(TAG).catch(() => {});
    expect(Object.keys(generated()[0]!.response as object).sort()).toEqual(['modelVersion', 'promptFeedback', 'responseId', 'usageMetadata']);
  });
});

describe('Gemini worker: retries and stops', () => {
  it('retries 503, 500, 504 and an HTML 502 page with exponential backoff and jitter, then succeeds', async () => {
    fake.script({ error: 'unavailable' }, { error: 'internal' }, { error: 'deadline' }, { error: 'html-502' });
    const clock = instantClock();
    const r = await (await geminiOn(fake, { clock })).call(TAG);
    expect(generated().map((q) => q.status)).toEqual([503, 500, 504, 502, 200]);
    expect(clock.sleeps).toEqual([500, 1000, 2000, 4000]); // random 0.5 × 1 s × 2^attempt
    expect(r.retries).toEqual([{ status: 503, waited_ms: 500 }, { status: 500, waited_ms: 1000 }, { status: 504, waited_ms: 2000 }, { status: 502, waited_ms: 4000 }]);
  });

  it('asks again when an answer arrives cut short (its JSON does not parse)', async () => {
    fake.script({ error: 'garbled' });
    const r = await (await geminiOn(fake)).call(TAG);
    expect(generated().map((q) => q.status)).toEqual([200, 200]);
    expect(r.retries).toEqual([{ status: undefined, waited_ms: 500 }]);
  });

  it('says what an HTML error page said, not its markup', async () => {
    fake.script(...Array.from({ length: 5 }, () => ({ error: 'html-502' as const })));
    const err = await (await geminiOn(fake)).call(TAG).catch((e) => e);
    expect(err).toMatchObject({ transient: true });
    expect(err.message).toMatch(/502: Error 502 \(Server Error\)!!1: 502\. That’s an error\./);
    expect(err.message).not.toMatch(/<|DOCTYPE|style/);
  });

  it('honours RetryInfo.retryDelay exactly, for this call and the next', async () => {
    fake.script({ error: 'quota-minute', retryDelay: '7.250s' });
    const clock = instantClock();
    const limiter = new RateLimiter(1000, 10_000_000, clock);
    const w = await geminiOn(fake, { clock, limiter });
    await w.call(TAG);
    expect(clock.sleeps).toEqual([7250]);
    fake.script({ error: 'quota-several', retryDelay: '3s' });
    await w.call(tagFor(2));
    expect(clock.sleeps).toEqual([7250, 3000]);
  });

  it('holds every caller during a server-given pause: call B goes out no earlier than A\'s 429 plus the delay', async () => {
    const clock = manualClock();
    await fake.close();
    fake = await fakeGemini({ keys: ['test-key'], now: clock.now });
    fake.script({ error: 'quota-minute', retryDelay: '5s' });
    const w = await geminiOn(fake, { clock, limiter: new RateLimiter(1000, 10_000_000, clock) });
    const a = w.call(tagFor(1));
    await waitFor(() => clock.sleeping === 1, 'A to sleep out its 429');
    const b = w.call(tagFor(2));
    // B either waits for the pause, or (were the pause not shared) goes out at once.
    await waitFor(() => clock.sleeping === 2 || generated().length === 2, 'B to wait or to be sent');
    await clock.advance(6000);
    await Promise.all([a, b]);
    const first429 = generated().find((r) => r.status === 429)!;
    // A TAG prompt names no card, so A's retry and B look alike: both go out after the pause.
    const after = generated().filter((r) => r.status === 200);
    expect(after).toHaveLength(2);
    for (const sent of after) expect(sent.at).toBeGreaterThanOrEqual(first429.at + 5000);
  });

  it('keeps to the tokens-per-minute limit: call B waits until A\'s tokens leave the window', async () => {
    const clock = manualClock();
    await fake.close();
    fake = await fakeGemini({ keys: ['test-key'], now: clock.now });
    const probe = await geminiOn(fake);
    const { estIn } = probe.request(tagFor(1));
    // Room for one call's input tokens, not two.
    const w = await geminiOn(fake, { clock, limiter: new RateLimiter(1000, Math.ceil(estIn * 1.5), clock, 60_000) });
    const calls = [w.call(tagFor(1)), w.call(tagFor(2))];
    // Whichever goes first, the other either waits for the window, or (without the limit) goes out too.
    await waitFor(() => generated().length === 2 || clock.sleeping === 1, 'the second call to wait or to be sent');
    await clock.advance(61_000);
    await Promise.all(calls);
    const [first, second] = generated().sort((x, y) => x.at - y.at);
    expect(second!.at).toBeGreaterThanOrEqual(first!.at + 60_000);
  });

  it('a retryDelay longer than the configured cap stops at once, transient, with retry_after at the end of the delay', async () => {
    fake.script({ error: 'quota-minute', retryDelay: '600s' });
    const clock = instantClock();
    const err = await (await geminiOn(fake, { clock, maxRetryDelayMs: 120_000 })).call(TAG).catch((e) => e);
    expect(err).toMatchObject({ triage: 'API', transient: true, retryAfter: '2026-11-21T10:10:00.000Z' });
    expect(err.message).toMatch(/asked to wait 600 s/);
    expect(generated()).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('fails fast on a daily quota (a per-day violation among several): one request, transient, retry_after at midnight Pacific', async () => {
    fake.script({ error: 'quota-day' });
    const clock = instantClock();
    const err = await (await geminiOn(fake, { clock })).call(TAG).catch((e) => e);
    expect(err).toBeInstanceOf(WorkerError);
    // 2026-11-21T10:00Z is 02:00 PST; the quota resets at 00:00 PST on the 22nd.
    expect(err).toMatchObject({ triage: 'API', transient: true, retryAfter: '2026-11-22T08:00:00.000Z' });
    expect(err.message).toMatch(/daily quota exhausted/);
    expect(generated()).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('a 429 whose quota value is "0" (no quota for this model on this key) is not transient, though it carries a RetryInfo', async () => {
    fake.script({ error: 'quota-zero' });
    const err = await (await geminiOn(fake)).call(tagFor(1, 'HIGH')).catch((e) => e);
    expect(err).toMatchObject({ triage: 'API', transient: false });
    expect(err.message).toMatch(/no quota for the model/);
    expect(err.problems[0].hint).toMatch(/billing|models/);
    expect(generated()).toHaveLength(1);
  });

  it.each(['quota-help-only', 'quota-bare'] as const)('a 429 without QuotaFailure or RetryInfo (%s) backs off across the per-minute window before giving up', async (kind) => {
    fake.script(...Array.from({ length: 5 }, () => ({ error: kind })));
    const clock = instantClock();
    const err = await (await geminiOn(fake, { clock, limiter: new RateLimiter(1000, 1e9, clock, 60_000) })).call(TAG).catch((e) => e);
    expect(err).toMatchObject({ transient: true });
    expect(generated()).toHaveLength(5);
    // window/8, /4, /2, 1, each stretched by random/4 (0.5 → 12.5 %)
    expect(clock.sleeps).toEqual([8437, 16875, 33750, 67500]);
    expect(clock.sleeps.at(-1)).toBeGreaterThanOrEqual(60_000);
  });

  it('treats an invalid key as a non-transient API failure, without retrying', async () => {
    const err = await (await geminiOn(fake, { apiKey: 'wrong-key' })).call(TAG).catch((e) => e);
    expect(err).toMatchObject({ triage: 'API', transient: false });
    expect(err.message).toMatch(/refused the key \(HTTP 400\): API key not valid/);
    expect(generated()).toHaveLength(1);
  });

  it('does not retry an error the SDK throws before sending anything', async () => {
    const clock = instantClock();
    const err = await (await geminiOn(fake, { clock, models: { LOW: 'gemini-2.5-flash?alt=x', MID: 'm', HIGH: 'm' } })).call(TAG).catch((e) => e);
    expect(err).toMatchObject({ triage: 'API', transient: false });
    expect(err.message).toMatch(/SDK refused the call before sending it.*invalid model parameter/);
    expect(fake.requests).toHaveLength(0);
    expect(clock.sleeps).toEqual([]);
  });

  it('times out a slow call, retries it, and ends transient', async () => {
    fake.script({ latencyMs: 400 }, { latencyMs: 400 });
    const err = await (await geminiOn(fake, { timeoutMs: 100, maxAttempts: 2, clock: realClock })).call(TAG).catch((e) => e);
    expect(err).toMatchObject({ triage: 'API', transient: true });
    expect(err.message).toMatch(/after 2 attempts.*timed out/);
  });

  it('checks the budget before calling: nothing is sent when it would be crossed', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-budget-'));
    const w = await geminiOn(fake, { budget: new Budget(dir, { per_truck_usd: 0.000001, per_night_usd: 10 }, () => '20261121') });
    const err = await w.call(tagFor(1, 'HIGH')).catch((e) => e);
    expect(err).toMatchObject({ triage: 'API', transient: true, retryAfter: undefined });
    expect(err.message).toMatch(/budget: this truck has spent/);
    expect(fake.requests).toHaveLength(0);
  });

  it('the night budget spent stops with retry_after at the next UTC day', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-budget-'));
    const w = await geminiOn(fake, { budget: new Budget(dir, { per_truck_usd: 5, per_night_usd: 0.000001 }, () => '20261121') });
    const err = await w.call(TAG).catch((e) => e);
    expect(err).toMatchObject({ transient: true, retryAfter: '2026-11-22T00:00:00.000Z' });
    expect(err.message).toMatch(/tonight's spend/);
  });

  it('records every paid call in the night\'s spend file, even one whose answer is rejected', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-spend-'));
    const budget = new Budget(dir, { per_truck_usd: 5, per_night_usd: 10 }, () => '20261121');
    fake.script({ finishReason: 'MAX_TOKENS' });
    await (await geminiOn(fake, { budget })).call(TAG).catch(() => {});
    await (await geminiOn(fake, { budget })).call(tagFor(2));
    const night = JSON.parse(await readFile(path.join(dir, 'spend_20261121.json'), 'utf8'));
    const bills = generated().map((r) => billedBy(r));
    expect(night).toEqual({ calls: 2, tokens_in: bills[0]!.in + bills[1]!.in, tokens_out: bills[0]!.out + bills[1]!.out, usd: expect.closeTo(bills[0]!.usd + bills[1]!.usd, 15) });
  });

  it('never causes a 429 itself: the limiter keeps concurrent calls under the fake RPM', async () => {
    fake.rpm = 5;
    fake.windowMs = 1000;
    const w = await geminiOn(fake, { clock: realClock, limiter: new RateLimiter(5, 10_000_000, realClock, 1000) });
    await Promise.all(Array.from({ length: 12 }, (_, i) => w.call(tagFor(i))));
    expect(generated().map((r) => r.status).every((s) => s === 200)).toBe(true);
  });
});

describe('preflight', () => {
  it('finds the model ids the service does not know, and the ones without a price', async () => {
    const w = await geminiOn(fake, { prices: { 'gemini-2.5-flash': { in: 1, out: 1 } } });
    expect(await w.checkModels(['gemini-2.5-flash', 'gemini-2.5-flsh', 'gemini-2.5-pro'])).toEqual({ unknown: ['gemini-2.5-flsh'], unpriced: ['gemini-2.5-flsh', 'gemini-2.5-pro'] });
    expect(fake.requests.map((r) => [r.route, r.status])).toEqual([['models.get', 200], ['models.get', 404], ['models.get', 200]]);
  });
});
