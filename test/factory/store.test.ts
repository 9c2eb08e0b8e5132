// The store (SPEC 3a) from the outside, g7 as a process on a real git repository: the response cache lives
// in ssot/store/cache, holds answers and never the library's text, and is in no commit; a changed taxonomy
// asks again without adding the library to git; chunks the offline rules tagged are asked again once a key
// is set (the key knows who answered), against the fake Gemini.
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process, geminiAt, type Factory } from './fixture.js';
import { fakeGemini } from '../fakes/gemini-server.js';

const cards = (accept = 'json:ssot/library_index/tags/1.jsonl') => [
  { id: 'L1_SCAN_000001', prio: 'A' as const, input: ['doc001.md', 'doc002.md'], output: 'ssot/library_index/scan/1.jsonl' },
  { id: 'L2_TAG_000001', prio: 'A' as const, input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', accept, deps: ['L1_SCAN_000001'] },
];

async function entries(f: Factory): Promise<{ file: string; text: string }[]> {
  const dir = path.join(f.ssot, 'store', 'cache');
  const names = (await readdir(dir, { recursive: true }).catch(() => [] as string[])).map(String).filter((n) => /^[0-9a-f]{2}\/[0-9a-f]{2}\/[0-9a-f]{64}\.json$/.test(n));
  return Promise.all(names.map(async (n) => ({ file: n, text: await readFile(path.join(dir, n), 'utf8') })));
}

/** Every line of the library: none of them may appear in a cache entry or in anything committed under ssot/. */
async function libraryLines(f: Factory): Promise<string[]> {
  const out: string[] = [];
  for (const n of await readdir(path.join(f.root, 'library'))) out.push(...(await readFile(path.join(f.root, 'library', n), 'utf8')).split('\n').filter((l) => l.length > 20));
  return out;
}

const committedUnderSsot = (f: Factory) => f.git('log', '--all', '-p', '--format=', '--', 'ssot');

describe('the store', () => {
  it('the response cache holds answers only, lives in ssot/store/cache and is in no commit; a changed taxonomy asks again without adding the library to git', { timeout: 60_000 }, async () => {
    const f = await factory(cards());
    const run = await g7Process(f.root, ['run']);
    expect(run.code, run.err).toBe(0);
    const first = await entries(f);
    expect(first.length).toBeGreaterThan(1);
    const lines = await libraryLines(f);
    for (const e of first) {
      expect(JSON.parse(e.text)).toMatchObject({ worker: 'offline:rules', response: { model: 'rules' } });
      for (const l of lines) expect(e.text, e.file).not.toContain(l);
    }
    // Nothing of the store was committed, and nothing is left to commit.
    expect(f.git('log', '--all', '--name-only', '--format=').split('\n').filter((p) => p.startsWith('ssot/store') || p.startsWith('ssot/state/cache'))).toEqual([]);
    expect(f.git('status', '--porcelain', '--ignored', '--', 'ssot/store')).toMatch(/^!! ssot\/store\//m);
    expect(f.git('status', '--porcelain', '--', 'ssot')).toBe('');

    // A new taxonomy: the same chunks are asked again (new entries), and git still holds no library text under ssot/.
    await f.write('ssot/rules/tags.yaml', 'tags:\n  - { name: loan, keywords: [loan] }\n');
    await f.write(`ssot/backlog/backlog_20261121.jsonl`, (await readFile(path.join(f.ssot, 'backlog/backlog_20261121.jsonl'), 'utf8')).replace(/L2_TAG_000001/g, 'L2_TAG_000002').replace(/tags\/1\.jsonl/g, 'tags/2.jsonl'));
    f.git('commit', '-qam', 'a new taxonomy, the tagging again');
    const again = await g7Process(f.root, ['run']);
    expect(again.code, again.err).toBe(0);
    expect((await entries(f)).length).toBe(first.length * 2);
    const history = committedUnderSsot(f);
    for (const l of lines) expect(history).not.toContain(l);
  });

  it('chunks the offline rules tagged are asked again once a key is set', { timeout: 90_000 }, async () => {
    const fake = await fakeGemini({ keys: ['k-store'] });
    try {
      // The tagging cannot pass until ok.flag exists: offline, it fails twice and stops.
      const f = await factory(cards('json:ssot/library_index/tags/1.jsonl && exists:ok.flag'));
      const offline = await g7Process(f.root, ['run']);
      expect(offline.code, offline.err).toBe(4);
      const chunks = (await readFile(path.join(f.ssot, 'library_index/scan/1.jsonl'), 'utf8')).trim().split('\n').length;
      expect((await entries(f)).filter((e) => JSON.parse(e.text).worker === 'offline:rules').length).toBeGreaterThanOrEqual(chunks);

      await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\nscan: { chunk_bytes: 1024 }\n${geminiAt(fake.url)}`);
      await f.write('ok.flag', 'ok\n');
      f.git('add', '-A');
      f.git('commit', '-qm', 'a key, and the flag');
      expect((await g7Process(f.root, ['resume'])).code).toBe(0);
      const online = await g7Process(f.root, ['run'], { GEMINI_API_KEY: 'k-store' });
      expect(online.code, online.err).toBe(0);
      // Every chunk went to the model: none came back from the cache as the rules' answer.
      expect(fake.requests.filter((q) => q.verb === 'generateContent' && q.status === 200)).toHaveLength(chunks);
      const tags = (await readFile(path.join(f.ssot, 'library_index/tags/1.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      expect(tags).toHaveLength(chunks);
      expect((await entries(f)).filter((e) => JSON.parse(e.text).worker === 'gemini:gemini-2.5-flash-lite')).toHaveLength(chunks);
      for (const e of await entries(f)) for (const l of await libraryLines(f)) expect(e.text).not.toContain(l);
    } finally {
      await fake.close();
    }
  });
});
