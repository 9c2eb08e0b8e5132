// The fake itself, over plain HTTP: it must refuse what the real service refuses and answer in its shapes,
// or the worker tests prove nothing. Bodies follow the REST reference and what the live service returns.
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { chunkMark, fakeGemini, type FakeGemini } from '../fakes/gemini-server.js';

let fake: FakeGemini;
beforeEach(async () => {
  fake = await fakeGemini({ keys: ['test-key'] });
});
afterEach(async () => fake.close());

const H = { 'x-goog-api-key': 'test-key', 'content-type': 'application/json' };
const post = (p: string, body: unknown, headers: Record<string, string> = H) => fetch(`${fake.url}${p}`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
const get = (p: string) => fetch(`${fake.url}${p}`, { headers: H });
const hi = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
const gen = (model: string, generationConfig: Record<string, unknown>) => post(`/v1beta/models/${model}:generateContent`, { ...hi, generationConfig });
type ErrorBody = { error: { code: number; status: string; message: string; details?: { '@type': string; retryDelay?: string; violations?: { quotaId: string; quotaValue: string }[] }[] } };

describe('the fake refuses what the real service refuses', () => {
  it.each([
    ['a missing key', () => post('/v1beta/models/gemini-2.5-flash:generateContent', hi, { 'content-type': 'application/json' }), 403, 'PERMISSION_DENIED'],
    ['an unknown route', () => post('/v1beta/models/gemini-2.5-flash:frobnicate', hi), 404, 'NOT_FOUND'],
    ['a model it does not serve', () => post('/v1beta/models/gemini-2.5-flsh:generateContent', hi), 404, 'NOT_FOUND'],
    ['a model it does not serve, asked for directly', () => get('/v1beta/models/gemini-9'), 404, 'NOT_FOUND'],
    ['malformed JSON', () => post('/v1beta/models/gemini-2.5-flash:generateContent', '{"contents": ['), 400, 'INVALID_ARGUMENT'],
    ['an unknown field', () => post('/v1beta/models/gemini-2.5-flash:generateContent', { ...hi, temprature: 1 }), 400, 'INVALID_ARGUMENT'],
    ['a schema without the JSON mime type', () => gen('gemini-2.5-flash', { responseJsonSchema: { type: 'object' } }), 400, 'INVALID_ARGUMENT'],
    ['empty contents', () => post('/v1beta/models/gemini-2.5-flash:generateContent', { contents: [] }), 400, 'INVALID_ARGUMENT'],
    ['thinking budget 0 on 2.5 Pro', () => gen('gemini-2.5-pro', { thinkingConfig: { thinkingBudget: 0 } }), 400, 'INVALID_ARGUMENT'],
    ['a thinking budget out of the model\'s range', () => gen('gemini-2.5-flash-lite', { thinkingConfig: { thinkingBudget: 100 } }), 400, 'INVALID_ARGUMENT'],
    ['an unknown thinking field', () => gen('gemini-2.5-flash', { thinkingConfig: { budget: 10 } }), 400, 'INVALID_ARGUMENT'],
    ['more output tokens than the model has', () => gen('gemini-2.5-flash', { maxOutputTokens: 70_000 }), 400, 'INVALID_ARGUMENT'],
    ['a batch without a display name', () => post('/v1beta/models/gemini-2.5-flash:batchGenerateContent', { batch: { inputConfig: { requests: { requests: [{ request: hi }] } } } }), 400, 'INVALID_ARGUMENT'],
    ['a batch with one invalid request among valid ones', () => post('/v1beta/models/gemini-2.5-pro:batchGenerateContent', { batch: { displayName: 'b', inputConfig: { requests: { requests: [{ request: hi }, { request: { ...hi, generationConfig: { thinkingConfig: { thinkingBudget: 0 } } } }] } } } }), 400, 'INVALID_ARGUMENT'],
    ['a batch for a model it does not serve', () => post('/v1beta/models/gemini-x:batchGenerateContent', { batch: { displayName: 'b', inputConfig: { requests: { requests: [{ request: hi }] } } } }), 404, 'NOT_FOUND'],
  ])('%s', async (_n, send, code, status) => {
    const r = await send();
    expect(r.status).toBe(code);
    expect(((await r.json()) as ErrorBody).error.status).toBe(status);
  });

  it('creates no job when it refuses a batch', async () => {
    await post('/v1beta/models/gemini-2.5-flash:batchGenerateContent', { batch: { inputConfig: { requests: { requests: [{ request: hi }] } } } });
    expect(((await (await get('/v1beta/batches')).json()) as { operations: unknown[] }).operations).toEqual([]);
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
    expect(((await (await get(`/v1beta/${file.name}`)).json()) as { sizeBytes: string }).sizeBytes).toBe('4');
    expect(await (await get(`/v1beta/${file.name}:download?alt=media`)).text()).toBe('abcd');
  });

  it('answers 429 with QuotaFailure, Help and RetryInfo past its own RPM', async () => {
    fake.rpm = 2;
    for (let i = 0; i < 2; i++) expect((await gen('gemini-2.5-flash', {})).status).toBe(200);
    const r = await gen('gemini-2.5-flash', {});
    expect(r.status).toBe(429);
    const body = (await r.json()) as ErrorBody;
    expect(body.error.details!.map((d) => d['@type'])).toEqual(['type.googleapis.com/google.rpc.QuotaFailure', 'type.googleapis.com/google.rpc.Help', 'type.googleapis.com/google.rpc.RetryInfo']);
    expect(body.error.details![2]!.retryDelay).toMatch(/^\d+\.\d{3}s$/);
  });
});

describe('the fake answers in the real service\'s shapes', () => {
  const usage = async (model: string, generationConfig: Record<string, unknown> = {}) => ((await (await gen(model, generationConfig)).json()) as { usageMetadata: Record<string, number>; candidates: { finishReason: string; content?: { parts?: unknown[] } }[] });

  it('2.5 Flash and Pro think by default and report it; Flash-Lite does not; zero counts are left out', async () => {
    expect((await usage('gemini-2.5-flash')).usageMetadata.thoughtsTokenCount).toBe(1187);
    expect((await usage('gemini-2.5-pro')).usageMetadata.thoughtsTokenCount).toBe(1187);
    const lite = await usage('gemini-2.5-flash-lite');
    expect(Object.keys(lite.usageMetadata).sort()).toEqual(['candidatesTokenCount', 'promptTokenCount', 'promptTokensDetails', 'totalTokenCount']);
    expect((await usage('gemini-2.5-flash', { thinkingConfig: { thinkingBudget: 0 } })).usageMetadata.thoughtsTokenCount).toBeUndefined();
    expect((await usage('gemini-2.5-pro', { thinkingConfig: { thinkingBudget: 300 } })).usageMetadata.thoughtsTokenCount).toBe(300);
  });

  it('thinking counts against maxOutputTokens: when it fills the cap, MAX_TOKENS with a content that has no parts', async () => {
    const r = await usage('gemini-2.5-pro', { maxOutputTokens: 1000 });
    expect(r.candidates[0]).toEqual({ content: { role: 'model' }, finishReason: 'MAX_TOKENS', index: 0 });
    expect(r.usageMetadata).toMatchObject({ thoughtsTokenCount: 1000 });
    expect(r.usageMetadata.candidatesTokenCount).toBeUndefined();
  });

  it('reports prompt tokens served from the cache', async () => {
    fake.cachedTokens = () => 5;
    const r = await usage('gemini-2.5-flash-lite');
    expect(r.usageMetadata).toMatchObject({ cachedContentTokenCount: 5, cacheTokensDetails: [{ modality: 'TEXT', tokenCount: 5 }] });
  });

  it('SAFETY comes without content; a blocked prompt has only promptFeedback', async () => {
    fake.script({ finishReason: 'SAFETY' }, { blockReason: 'SAFETY' });
    const safety = await usage('gemini-2.5-flash-lite');
    expect(safety.candidates[0]!.content).toBeUndefined();
    expect(safety.candidates[0]!.finishReason).toBe('SAFETY');
    const blocked = (await (await gen('gemini-2.5-flash-lite', {})).json()) as Record<string, unknown>;
    expect(blocked.candidates).toBeUndefined();
    expect(blocked.promptFeedback).toMatchObject({ blockReason: 'SAFETY' });
  });

  it.each([
    ['quota-several', 429, ['GenerateContentInputTokensPerModelPerMinute', 'GenerateRequestsPerMinutePerProjectPerModel'], true],
    ['quota-day', 429, ['GenerateRequestsPerMinutePerProjectPerModel', 'GenerateRequestsPerDayPerProjectPerModel-FreeTier'], true],
    ['quota-zero', 429, ['GenerateRequestsPerDayPerProjectPerModel-FreeTier', 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier'], true],
    ['quota-help-only', 429, [], false],
    ['quota-bare', 429, [], false],
  ] as const)('%s: the 429 body the service sends', async (error, code, quotaIds, retryInfo) => {
    fake.script({ error });
    const r = await gen('gemini-2.5-flash', {});
    expect(r.status).toBe(code);
    const details = ((await r.json()) as ErrorBody).error.details ?? [];
    expect(details.flatMap((d) => d.violations ?? []).map((v) => v.quotaId)).toEqual(quotaIds);
    expect(details.some((d) => d['@type'].endsWith('RetryInfo'))).toBe(retryInfo);
    if (error === 'quota-zero') expect(details.flatMap((d) => d.violations ?? []).every((v) => v.quotaValue === '0')).toBe(true);
  });

  it('504 DEADLINE_EXCEEDED is JSON; 502 is Google\'s HTML page', async () => {
    fake.script({ error: 'deadline' }, { error: 'html-502' });
    const r504 = await gen('gemini-2.5-flash', {});
    expect([r504.status, ((await r504.json()) as ErrorBody).error.status]).toEqual([504, 'DEADLINE_EXCEEDED']);
    const r502 = await gen('gemini-2.5-flash', {});
    expect(r502.status).toBe(502);
    expect(r502.headers.get('content-type')).toMatch(/text\/html/);
    expect(await r502.text()).toMatch(/^<!DOCTYPE html>/);
  });

  it('fails scripted requests on any route, the batch poll and the download included', async () => {
    fake.scriptRoute('batches.get', { error: 'unavailable' });
    fake.scriptRoute('download', { error: 'internal' });
    fake.scriptRoute('models.get', { error: 'quota-bare' });
    expect((await get('/v1beta/batches/whatever')).status).toBe(503);
    expect((await get('/v1beta/files/f1:download?alt=media')).status).toBe(500);
    expect((await get('/v1beta/models/gemini-2.5-flash')).status).toBe(429);
    expect((await get('/v1beta/models/gemini-2.5-flash')).status).toBe(200);
  });

  describe('batch jobs', () => {
    const create = async (n: number) => {
      const requests = Array.from({ length: n }, (_, i) => ({ request: { contents: [{ parts: [{ text: `Chunk (6 bytes):\ntext ${i}` }] }] }, metadata: { key: `k${i}` } }));
      const r = await post('/v1beta/models/gemini-2.5-flash-lite:batchGenerateContent', { batch: { displayName: 'job', inputConfig: { requests: { requests } } } });
      return ((await r.json()) as { name: string }).name;
    };
    type Op = { done: boolean; metadata: { state: string; output?: { inlinedResponses: { inlinedResponses: { metadata?: { key: string }; response: { candidates: { content: { parts: { text: string }[] } }[] } }[] } } }; response?: Record<string, unknown>; error?: { code: number; message: string } };
    const op = async (name: string) => (await (await get(`/v1beta/${name}`)).json()) as Op;

    it('mirrors the output in `response` when it succeeds; answers come reversed by default, in order when asked, with or without keys', async () => {
      const a = await create(3);
      expect((await op(a)).done).toBe(false);
      fake.finishBatches();
      const done = await op(a);
      expect(done.metadata.state).toBe('BATCH_STATE_SUCCEEDED');
      expect(done.response).toEqual({ '@type': 'type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput', ...done.metadata.output });
      expect(done.metadata.output!.inlinedResponses.inlinedResponses.map((x) => x.metadata!.key)).toEqual(['k2', 'k1', 'k0']);
      const b = await create(3);
      fake.finishBatches({ order: 'in-order', keys: false });
      const items = (await op(b)).metadata.output!.inlinedResponses.inlinedResponses;
      expect(items.map((x) => x.metadata)).toEqual([undefined, undefined, undefined]);
      expect(items.map((x) => JSON.parse(x.response.candidates[0]!.content.parts[0]!.text).why)).toEqual([0, 1, 2].map((i) => `nothing notable in chunk ${chunkMark(`text ${i}`)}`));
    });

    it.each(['FAILED', 'CANCELLED', 'EXPIRED'] as const)('ends %s with Operation.error and no output', async (state) => {
      const name = await create(2);
      fake.finishBatches({ state });
      const o = await op(name);
      expect(o).toMatchObject({ done: true, metadata: { state: `BATCH_STATE_${state}` }, error: { code: expect.any(Number), message: expect.any(String) } });
      expect(o.response).toBeUndefined();
      expect(o.metadata.output).toBeUndefined();
    });

    it('lists jobs newest first, in pages', async () => {
      for (let i = 0; i < 3; i++) await create(1);
      const page = (await (await get('/v1beta/batches?pageSize=2')).json()) as { operations: { name: string }[]; nextPageToken: string };
      expect(page.operations.map((o) => o.name)).toEqual(['batches/fake3', 'batches/fake2']);
      const next = (await (await get(`/v1beta/batches?pageSize=2&pageToken=${page.nextPageToken}`)).json()) as { operations: { name: string }[] };
      expect(next.operations.map((o) => o.name)).toEqual(['batches/fake1']);
    });
  });
});
