// The response cache between jobs on the data branch g7/cache: real clones of a real HTTP remote, the
// product's own git and sync code. What a discarded runner recorded reaches a fresh one; writers at once
// lose nothing; the window keeps the branch's history bounded; a failed push loses no answer.
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, writeFile, readdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { pullCache, pushCache } from '../../src/worker/cache-sync.js';
import { cacheEntryFile, OUTBOX_FILE, type CacheEntry } from '../../src/worker/cached.js';
import { httpRemote } from '../git/http-remote.js';
import { seedRepo, runnerClone } from '../git/data-clones.js';
import { git } from '../factory/fixture.js';

const BRANCH = 'g7/cache';
const hex = (n: number) => n.toString(16).padStart(64, '0');

async function runner(url: string) {
  const r = await runnerClone(url);
  const cacheDir = path.join(r.root, 'ssot', 'store', 'cache');
  await mkdir(cacheDir, { recursive: true });
  return { ...r, cacheDir };
}

/** An answer recorded as the cached worker records one: the entry file, and its key in the outbox. */
async function record(cacheDir: string, n: number): Promise<CacheEntry> {
  const entry = { key: hex(n), recorded_at: '2026-12-07T01:00:00.000Z', worker: 'gemini:gemini-2.5-flash-lite', prompt_version: '2', request_digest: hex(n + 1), skill_digest: hex(0), request: { card: 'L2_TAG_000001', cost_hint: 'LOW', task: { kind: 'TAG' } }, response: { text: `answer ${n}` } } as unknown as CacheEntry;
  const file = cacheEntryFile(cacheDir, entry.key);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(entry));
  await writeFile(path.join(cacheDir, OUTBOX_FILE), `${entry.key}\n`, { flag: 'a' });
  return entry;
}

const target = (r: Awaited<ReturnType<typeof runner>>, remote = 'origin', keepFrom = '2026-11-08') => ({ git: r.git, remote, branch: BRANCH, cacheDir: r.cacheDir, keepFrom });

describe('the response cache on the data branch g7/cache', () => {
  it('two runners append at once: both segments land, a fresh runner takes every answer once, and main is untouched', async () => {
    const remote = await httpRemote(await seedRepo(), { holdPushes: 2 });
    try {
      const a = await runner(remote.url);
      const b = await runner(remote.url);
      const mainBefore = git(remote.bare, 'rev-parse', 'main');
      for (let n = 1; n <= 3; n++) await record(a.cacheDir, n * 10);
      for (let n = 4; n <= 5; n++) await record(b.cacheDir, n * 10);
      const [pa, pb] = await Promise.all([pushCache(target(a), '2026-12-07T01:02:03.000Z', 'run_0001'), pushCache(target(b), '2026-12-07T01:02:03.000Z', 'run_0001')]);
      expect([pa?.answers, pb?.answers]).toEqual([3, 2]);
      expect(git(remote.bare, 'rev-parse', 'main')).toBe(mainBefore);
      const tree = git(remote.bare, 'ls-tree', '-r', '--name-only', BRANCH).split('\n').filter(Boolean);
      expect(tree).toHaveLength(2);
      expect(tree.every((p) => p.startsWith('2026-12-07/'))).toBe(true);
      // Nothing left to push: the outbox is empty, and a second checkpoint pushes nothing.
      expect(await pushCache(target(a), '2026-12-07T01:05:00.000Z', 'run_0001')).toBeUndefined();

      const fresh = await runner(remote.url);
      expect(await pullCache(target(fresh))).toEqual({ segments: 2, answers: 5 });
      for (const n of [10, 20, 30, 40, 50]) expect(JSON.parse(await readFile(cacheEntryFile(fresh.cacheDir, hex(n)), 'utf8')).response.text).toBe(`answer ${n}`);
      // A second pull takes nothing, and what was pulled is never pushed back.
      expect(await pullCache(target(fresh))).toEqual({ segments: 0, answers: 0 });
      expect(await pushCache(target(fresh), '2026-12-07T02:00:00.000Z', 'run_0002')).toBeUndefined();
      // The store is never committed.
      expect(git(fresh.root, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    } finally {
      await remote.close();
    }
  });

  it('a pull never overwrites an answer the store holds', async () => {
    const remote = await httpRemote(await seedRepo());
    try {
      const a = await runner(remote.url);
      await record(a.cacheDir, 7);
      await pushCache(target(a), '2026-12-07T01:00:00.000Z', 'run_0001');
      const b = await runner(remote.url);
      const mine = await record(b.cacheDir, 7);
      await writeFile(cacheEntryFile(b.cacheDir, mine.key), JSON.stringify({ ...mine, response: { text: 'my own' } }));
      expect(await pullCache(target(b))).toEqual({ segments: 1, answers: 0 });
      expect(JSON.parse(await readFile(cacheEntryFile(b.cacheDir, mine.key), 'utf8')).response.text).toBe('my own');
    } finally {
      await remote.close();
    }
  });

  it('the window: the first push that finds a segment older than store.cache_days writes a new root without it', async () => {
    const remote = await httpRemote(await seedRepo());
    try {
      const a = await runner(remote.url);
      for (const [n, day] of [[1, '2026-10-01'], [2, '2026-11-20'], [3, '2026-12-06']] as const) {
        await record(a.cacheDir, n);
        await pushCache({ ...target(a), keepFrom: '2026-01-01' }, `${day}T03:00:00.000Z`, `run_000${n}`);
      }
      expect(git(remote.bare, 'rev-list', '--count', BRANCH).trim()).toBe('3');
      await record(a.cacheDir, 4);
      const r = await pushCache(target(a, 'origin', '2026-11-08'), '2026-12-07T03:00:00.000Z', 'run_0004');
      expect(r).toEqual({ answers: 1, dropped: 1 });
      // One commit, no parent: the history holds the window and nothing before it.
      expect(git(remote.bare, 'rev-list', '--count', BRANCH).trim()).toBe('1');
      const days = git(remote.bare, 'ls-tree', '-r', '--name-only', BRANCH).split('\n').filter(Boolean).map((p) => p.slice(0, 10));
      expect(days).toEqual(['2026-11-20', '2026-12-06', '2026-12-07']);
      // The next push of the same day appends again.
      await record(a.cacheDir, 5);
      await pushCache(target(a, 'origin', '2026-11-08'), '2026-12-07T04:00:00.000Z', 'run_0005');
      expect(git(remote.bare, 'rev-list', '--count', BRANCH).trim()).toBe('2');
      // A fresh runner takes only what the window holds.
      expect(await pullCache(target(await runner(remote.url)))).toEqual({ segments: 4, answers: 4 });
    } finally {
      await remote.close();
    }
  });

  it('a push that fails keeps every answer for the next checkpoint', async () => {
    const remote = await httpRemote(await seedRepo());
    try {
      const a = await runner(remote.url);
      await record(a.cacheDir, 1);
      await record(a.cacheDir, 2);
      git(a.root, 'remote', 'add', 'gone', 'http://127.0.0.1:9/nothing.git');
      await expect(pushCache(target(a, 'gone'), '2026-12-07T01:00:00.000Z', 'run_0001')).rejects.toThrow(/cannot fetch gone g7\/cache/);
      expect((await readFile(path.join(a.cacheDir, OUTBOX_FILE), 'utf8')).split('\n').filter(Boolean).sort()).toEqual([hex(1), hex(2)]);
      expect((await readdir(a.cacheDir)).filter((n) => n.includes('sending'))).toEqual([]);
      await record(a.cacheDir, 3);
      expect(await pushCache(target(a), '2026-12-07T01:10:00.000Z', 'run_0001')).toEqual({ answers: 3, dropped: 0 });
      expect(existsSync(path.join(a.cacheDir, OUTBOX_FILE))).toBe(false);
    } finally {
      await remote.close();
    }
  });
});
