// The reflector: a bullet is written from the group's cases by a model, or nothing is proposed, and why.
// The model here is the fake Gemini through the real SDK (geminiReflector), so its prompt and answer go
// over the wire as they would to the service.
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { tempRepo } from '../helpers.js';
import { rec, writeDay } from './mining.js';
import { fakeGemini, type FakeGemini } from '../fakes/gemini-server.js';
import { minePatterns } from '../../src/coreloop/pattern.js';
import { mineFailures } from '../../src/coreloop/refine.js';
import { nearDuplicate, NOTHING_OFFLINE, NOTHING_RULES, reflect, type ReflectOptions } from '../../src/coreloop/reflect.js';
import { geminiReflector } from '../../src/coreloop/reflect-gemini.js';
import { GeminiWorker } from '../../src/worker/gemini/worker.js';
import { RateLimiter } from '../../src/worker/gemini/limiter.js';
import { Budget } from '../../src/worker/gemini/budget.js';
import { auditPlace } from '../../src/ssot/audit-store.js';

const KEY = 'AIzaSyREFLECT-unit-key-000000000000001';
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const day = '2026-11-20';
const window = { since: '2026-11-01T00:00:00.000Z', until: '2026-11-21T00:00:00.000Z' };
const now = '2026-11-20T12:00:00.000Z';

async function setup(bullet: (prompt: string) => { bullet: string; why: string }) {
  const repo = await tempRepo();
  const gemini: FakeGemini = await fakeGemini({ keys: [KEY] });
  open.push(gemini);
  const inner = gemini.answer;
  gemini.answer = (body) => (JSON.stringify((body.generationConfig as { responseJsonSchema?: unknown }).responseJsonSchema).includes('"bullet"') ? bullet(JSON.stringify([body.systemInstruction, body.contents])) : inner(body));
  const prices = { 'gemini-2.5-flash': { in: 0.3, out: 2.5 } };
  const worker = new GeminiWorker({ apiKey: KEY, baseUrl: gemini.url, models: { LOW: 'gemini-2.5-flash', MID: 'gemini-2.5-flash', HIGH: 'gemini-2.5-flash' }, prices, timeoutMs: 5000, maxInputTokens: 100000, limiter: new RateLimiter(1000, 1e8), budget: new Budget(repo.layout.stateDir, { per_truck_usd: 10, per_night_usd: 10 }, () => '20261120') });
  const opts = (over: Partial<ReflectOptions> = {}): ReflectOptions => ({ audit: auditPlace(repo.layout), auditDir: repo.layout.auditDir, cacheDir: repo.layout.cacheDir, window, now, display: (p) => p, model: geminiReflector(worker, 'gemini-2.5-flash'), maxCalls: 8, skillText: async () => '## Guide\n', ...over });
  const deps = { audit: auditPlace(repo.layout), window, now, skills: { TAG: 'ssot/skills/TAG.md' }, known: () => undefined, display: (p: string) => p };
  return { repo, gemini, opts, deps };
}

const ok = (cat: string, i: number, over = {}) => rec(cat, 'seq:aaaa0001', `tag d/${i}-${cat}.md@0+1200`, { ts: '2026-11-20T10:00:00.000Z', ...over });

describe('the reflector', () => {
  it('writes the bullet from the cases, keeps the cases it read, and leaves an audit record of the call', async () => {
    const { repo, gemini, opts, deps } = await setup((p) => ({ bullet: p.includes('Guide section') ? 'Name the taxonomy tag whose keyword the chunk states outright.' : '', why: 'every answer named the stated keyword' }));
    await writeDay(repo.layout.auditDir, day, [1, 2, 3, 4].map((i) => ok('TAG:tag', i)));
    const mined = await minePatterns(deps, { minRepeat: 3, minUniqueQuestions: 3, minChunkLen: 400, sanitize: false });
    expect(mined.file.candidates[0]!.bullet.text).toMatch(/passed in all 4 recorded cases/); // the miner's figure, before the reflector
    const r = await reflect(opts(), mined.file);
    expect(r.file.candidates).toHaveLength(1);
    const c = r.file.candidates[0]!;
    expect(c.bullet.text).toBe('Name the taxonomy tag whose keyword the chunk states outright.');
    expect(c.reflection).toMatchObject({ model: 'gemini/gemini-2.5-flash', cases: mined.file.candidates[0]!.record_ids.slice(0, 6) });
    // The model was sent the recorded inputs and outcomes, as a person would read them.
    const sent = JSON.stringify(gemini.requests.find((q) => q.route === 'generateContent')!.body);
    expect(sent).toContain('tag d/1-TAG:tag.md@0+1200');
    expect(sent).toMatch(/outcome\\+": \\+"pass/);
    const audit = (await readFile(path.join(repo.layout.auditDir, 'reflector', `${day}.jsonl`), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(audit).toEqual([expect.objectContaining({ candidate: c.id, model: 'gemini/gemini-2.5-flash', bullet: c.bullet.text, cases: c.reflection!.cases })]);
  });

  it('offline, or for cases only the offline rules answered, proposes nothing and says why', async () => {
    const { repo, opts, deps } = await setup(() => ({ bullet: 'Anything.', why: '' }));
    await writeDay(repo.layout.auditDir, day, [...[1, 2, 3, 4].map((i) => ok('TAG:tag', i)), ...[1, 2, 3, 4].map((i) => ok('TAG:rules', i, { provider: 'offline', model: 'rules' }))]);
    const mined = await minePatterns(deps, { minRepeat: 3, minUniqueQuestions: 3, minChunkLen: 400, sanitize: false });
    expect(mined.file.candidates).toHaveLength(2);
    const offline = await reflect(opts({ model: undefined }), structuredClone(mined.file));
    expect(offline.file.candidates).toEqual([]);
    expect(offline.notProposed.map((n) => n.reason)).toEqual([NOTHING_OFFLINE, NOTHING_OFFLINE]);
    expect(offline.file.near_misses.map((m) => m.reason)).toContain(NOTHING_OFFLINE);
    const live = await reflect(opts(), structuredClone(mined.file));
    expect(live.file.candidates.map((c) => c.category_hash)).toEqual(['TAG:tag']);
    expect(live.notProposed).toEqual([{ id: expect.any(String), reason: NOTHING_RULES }]);
  });

  it('a configuration error becomes no Caveat; an empty bullet is "nothing to learn"; near-duplicates merge into the first', async () => {
    const { repo, opts, deps } = await setup((p) => (p.includes('invented') ? { bullet: 'Give only tag names the taxonomy lists.', why: '' } : p.includes('unknown') ? { bullet: 'Give only the tag names that the taxonomy lists!', why: '' } : { bullet: '', why: 'an accept rule no answer can meet' }));
    const fail = (cat: string, i: number, error: string) => rec(cat, 'seq:9', `tag f/${cat}-${i}.md@0+900`, { ts: '2026-11-20T10:00:00.000Z', error, chunk_len: 900 });
    await writeDay(repo.layout.auditDir, day, [
      ...[1, 2].map((i) => fail('TAG:a', i, 'answer did not match the schema: an invented tag')),
      ...[1, 2].map((i) => fail('TAG:b', i, 'answer did not match the schema: an unknown tag')),
      ...[1, 2].map((i) => fail('TAG:c', i, 'accept lines>=999 does not hold')),
      ...[1, 2].map((i) => fail('TAG:d', i, 'API_KEY invalid: 403 PERMISSION_DENIED')),
    ]);
    const mined = await mineFailures(deps, { minFailures: 2, excludeTypes: [], sanitize: false });
    expect(mined.file.near_misses.find((m) => m.category_hash === 'TAG:d')?.reason).toMatch(/a configuration problem \(auth\): the stop's advice says what to fix; no Caveat can/);
    expect(mined.file.candidates.map((c) => c.category_hash).sort()).toEqual(['TAG:a', 'TAG:b', 'TAG:c']);
    const r = await reflect(opts(), mined.file);
    expect(r.file.candidates.map((c) => c.bullet.text)).toHaveLength(1);
    const first = r.file.candidates[0]!;
    expect(r.notProposed.map((n) => n.reason).sort()).toEqual([`merged into ${first.id}: the same bullet for ssot/skills/TAG.md`, 'the reflector found nothing to learn: an accept rule no answer can meet']);
    expect(first.record_ids).toHaveLength(4); // the twin's cases go with the bullet that stays
    expect(nearDuplicate('Give only tag names the taxonomy lists.', 'Quote one whole sentence per sensor.')).toBe(false);
  });
});
