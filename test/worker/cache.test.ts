// The response cache: an entry keeps the whole request beside the response (coreloop replays recorded cases
// with a changed skill docstring), with secrets replaced; entries written before requests were kept are
// still served without a second paid call.
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cachedWorker, requestHash } from '../../src/worker/cached.js';
import type { Worker, WorkerRequest, WorkerResponse } from '../../src/worker/worker.js';
import { TAG } from './support.js';

const answer: WorkerResponse = { json: { tags: [], strike: false, why: 'x' }, provider: 'stub', model: 'm', tokens: { in: 3, out: 4 }, cost_usd: 0.5, finish_reason: 'STOP', duration_ms: 1 };

async function setup(redact?: (s: string) => string) {
  const dir = await mkdtemp(path.join(tmpdir(), 'g7-cache-'));
  const asked: WorkerRequest[] = [];
  const inner: Worker = { provider: 'stub', call: async (req) => (asked.push(req), answer) };
  const w = cachedWorker(inner, path.join(dir, 'cache'), () => '2026-11-21T00:00:00Z', redact);
  const entry = async (req: WorkerRequest) => JSON.parse(await readFile(path.join(dir, 'cache', requestHash(req).slice(0, 2), `${requestHash(req)}.json`), 'utf8'));
  return { dir, w, asked, entry };
}
const meta = { question: 'q', inputKind: 'md', chunkLen: 1 };

describe('response cache', () => {
  it('keeps the whole request beside the response; the entry\'s name is that request\'s hash', async () => {
    const { w, entry } = await setup();
    await w.call(TAG, meta);
    const e = await entry(TAG);
    expect(e).toEqual({ request_hash: requestHash(TAG), recorded_at: '2026-11-21T00:00:00Z', request: TAG, response: answer });
    expect(requestHash(e.request)).toBe(e.request_hash);
  });

  it('replaces secrets in the stored request', async () => {
    const { w, entry } = await setup((s) => s.split('related-party').join('***'));
    await w.call(TAG, meta);
    const e = await entry(TAG);
    expect(JSON.stringify(e.request)).not.toContain('related-party');
    expect(e.request.task.chunk.text).toBe('The board approved a *** loan.');
  });

  it('serves an entry written before requests were kept, without asking again', async () => {
    const { dir, w, asked } = await setup();
    const hash = requestHash(TAG);
    await mkdir(path.join(dir, 'cache', hash.slice(0, 2)), { recursive: true });
    await writeFile(path.join(dir, 'cache', hash.slice(0, 2), `${hash}.json`), JSON.stringify({ request_hash: hash, recorded_at: '2026-01-01T00:00:00Z', response: answer }));
    const r = await w.call(TAG, meta);
    expect(r).toEqual({ response: answer, hash, cached: true });
    expect(asked).toEqual([]);
    expect(w.paidCalls).toBe(0);
  });
});
