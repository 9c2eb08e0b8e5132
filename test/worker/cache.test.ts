// The response cache: an entry holds the answer and who gave it, never the request's texts; its key knows
// the worker and model, the skill and the prompt version, so a change of any of them asks again; the cache
// before the store (state/cache) is read as a fallback for the same worker and model and carried over.
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile, mkdir, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cacheEntryFile, cacheKey, cachedWorker, requestHash } from '../../src/worker/cached.js';
import type { Worker, WorkerRequest, WorkerResponse } from '../../src/worker/worker.js';
import { TAG } from './support.js';

const answer = (model = 'm'): WorkerResponse => ({ json: { tags: [], strike: false, why: 'x' }, provider: 'stub', model, tokens: { in: 3, out: 4 }, cost_usd: 0.5, finish_reason: 'STOP', duration_ms: 1 });

async function setup(o: { model?: string; redact?: (s: string) => string; dir?: string } = {}) {
  const dir = o.dir ?? (await mkdtemp(path.join(tmpdir(), 'g7-cache-')));
  const asked: WorkerRequest[] = [];
  const model = o.model ?? 'm';
  const inner: Worker = { provider: 'stub', identity: () => ({ worker: `stub:${model}`, prompt: '1' }), call: async (req) => (asked.push(req), answer(model)) };
  const dirs = { dir: path.join(dir, 'store', 'cache'), legacy: path.join(dir, 'state', 'cache'), ledger: path.join(dir, 'state', 'batches') };
  const w = cachedWorker(inner, dirs, () => '2026-11-21T00:00:00Z', o.redact);
  const key = (req: WorkerRequest) => cacheKey(req, { worker: `stub:${model}`, prompt: '1' });
  const entry = async (req: WorkerRequest) => JSON.parse(await readFile(cacheEntryFile(dirs.dir, key(req)), 'utf8'));
  return { dir, dirs, w, asked, entry, key };
}
const meta = { question: 'q', inputKind: 'md', chunkLen: 1 };

describe('response cache', () => {
  it('an entry holds the answer, the worker and digests of what was asked: no chunk text, no skill text', async () => {
    const req = { ...TAG, skill: 'Tag one chunk. SKILL-TEXT-MARKER' };
    const { w, entry, key, dirs } = await setup();
    const r = await w.call(req, meta);
    expect(r).toMatchObject({ hash: key(req), cached: false });
    const e = await entry(req);
    expect(e).toMatchObject({ key: key(req), recorded_at: '2026-11-21T00:00:00Z', worker: 'stub:m', prompt_version: '1', response: answer() });
    const text = await readFile(cacheEntryFile(dirs.dir, key(req)), 'utf8');
    expect(text).not.toContain(TAG.task.kind === 'TAG' ? TAG.task.chunk.text : '');
    expect(text).not.toContain('SKILL-TEXT-MARKER');
    expect(e.request.task.chunk).toMatchObject({ path: 'a.md', text_sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // Sharded two levels deep, and never committed: the folder ignores itself.
    expect(path.relative(dirs.dir, cacheEntryFile(dirs.dir, key(req))).split(path.sep)).toHaveLength(3);
    expect(await readFile(path.join(dirs.dir, '.gitignore'), 'utf8')).toBe('*\n');
    // The skill is kept once, by its digest, for the reproduction check.
    expect(await readdir(path.join(dirs.dir, 'parts'))).toEqual([`${e.skill_digest}.txt`]);
    // Asked again: from the cache.
    expect(await w.call(req, meta)).toMatchObject({ cached: true });
    expect(w.paidCalls).toBe(1);
  });

  it('replaces secrets in what it keeps of the request', async () => {
    const req = { ...TAG, previous_failure: 'the related-party check failed' };
    const { w, entry } = await setup({ redact: (s) => s.split('related-party').join('***') });
    await w.call(req, meta);
    expect(JSON.stringify(await entry(req))).not.toContain('related-party');
  });

  it('asks again when the worker, the model, the skill or the prompt version changes', async () => {
    const base = { worker: 'offline:rules', prompt: '1' };
    const k = cacheKey(TAG, base);
    expect(cacheKey(TAG, { ...base, worker: 'gemini:gemini-2.5-flash-lite' })).not.toBe(k);
    expect(cacheKey(TAG, { ...base, prompt: '2' })).not.toBe(k);
    expect(cacheKey({ ...TAG, skill: 'a new Guide bullet' }, base)).not.toBe(k);
    expect(cacheKey({ ...TAG }, base)).toBe(k);
    // Through the worker: one folder, two models, each pays once.
    const a = await setup({ model: 'a' });
    await a.w.call(TAG, meta);
    const b = await setup({ model: 'b', dir: a.dir });
    expect(await b.w.call(TAG, meta)).toMatchObject({ cached: false });
    expect(b.asked).toHaveLength(1);
  });

  it('serves an answer of the cache before the store when the same model gave it, carries it over, and leaves the old file', async () => {
    const { dirs, w, asked, entry, key } = await setup();
    const hash = requestHash(TAG);
    const old = path.join(dirs.legacy, hash.slice(0, 2), `${hash}.json`);
    await mkdir(path.dirname(old), { recursive: true });
    await writeFile(old, JSON.stringify({ request_hash: hash, recorded_at: '2026-01-01T00:00:00Z', request: TAG, response: answer() }));
    const r = await w.call(TAG, meta);
    expect(r).toEqual({ response: answer(), hash: key(TAG), cached: true });
    expect(asked).toEqual([]);
    expect(w.paidCalls).toBe(0);
    expect(await entry(TAG)).toMatchObject({ migrated_from: hash, response: answer() });
    expect(JSON.parse(await readFile(old, 'utf8')).request).toEqual(TAG);
  });

  it('does not serve an old answer another worker gave (the offline rules, before a key was set)', async () => {
    const { dirs, w, asked } = await setup({ model: 'gemini-2.5-flash-lite' });
    const hash = requestHash(TAG);
    await mkdir(path.join(dirs.legacy, hash.slice(0, 2)), { recursive: true });
    await writeFile(path.join(dirs.legacy, hash.slice(0, 2), `${hash}.json`), JSON.stringify({ request_hash: hash, recorded_at: '2026-01-01T00:00:00Z', response: { ...answer(), provider: 'offline', model: 'rules' } }));
    expect(await w.call(TAG, meta)).toMatchObject({ cached: false });
    expect(asked).toHaveLength(1);
  });
});
