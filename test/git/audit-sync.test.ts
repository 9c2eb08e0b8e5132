// The audit store's segments on the data branch g7/audit: real clones of a real HTTP remote, the product's
// own sync code. A push sends each shard's new lines once; a push that fails loses nothing; a shard whose
// process died on this host is adopted; a fresh runner takes every segment once; the window drops old days.
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pullAudit, pushAudit } from '../../src/git/audit-sync.js';
import { shardHost, shardWriter } from '../../src/ssot/audit-store.js';
import { httpRemote } from './http-remote.js';
import { seedRepo, runnerClone } from './data-clones.js';
import { git } from '../factory/fixture.js';

const BRANCH = 'g7/audit';

async function runner(url: string) {
  const r = await runnerClone(url);
  return { ...r, storeDir: path.join(r.root, 'ssot', 'store', 'audit') };
}

const target = (r: Awaited<ReturnType<typeof runner>>, remote = 'origin', keepFrom = '2026-09-01') => ({ git: r.git, remote, branch: BRANCH, storeDir: r.storeDir, keepFrom });
const line = (id: string, ts = '2026-12-07T01:00:00.000Z') => JSON.stringify({ request_id: id, ts });

async function storeLines(storeDir: string): Promise<string[]> {
  const dir = path.join(storeDir, 'ai-ask');
  const out: string[] = [];
  for (const n of (await readdir(dir, { recursive: true })).map(String).filter((f) => f.endsWith('.jsonl')).sort()) out.push(...(await readFile(path.join(dir, n), 'utf8')).split('\n').filter(Boolean));
  return out;
}

describe('the audit log on the data branch g7/audit', () => {
  it('sends each line once, keeps what a failed push did not send, adopts a dead process\'s shard, and a fresh runner takes it all', async () => {
    const remote = await httpRemote(await seedRepo());
    try {
      const a = await runner(remote.url);
      const w = shardWriter(a.storeDir);
      await w.append('2026-12-07T01:00:00.000Z', [line('r1'), line('r2')]);
      // A process of this host that died with a shard it never pushed.
      const dead = path.join(a.storeDir, 'ai-ask', '2026-12-07', `01-${shardHost()}-999999-deadbeef.jsonl`);
      await writeFile(dead, `${line('d1')}\n`);
      // Another host's shard on a shared disk: its own process pushes it.
      await writeFile(path.join(a.storeDir, 'ai-ask', '2026-12-07', '01-elsewhere-4242-cafebabe.jsonl'), `${line('x1')}\n`);

      git(a.root, 'remote', 'add', 'gone', 'http://127.0.0.1:9/nothing.git');
      await expect(pushAudit(target(a, 'gone'), 'run_0001')).rejects.toThrow(/cannot fetch gone g7\/audit/);
      await w.append('2026-12-07T02:00:00.000Z', [line('r3')]);
      expect(await pushAudit(target(a), 'run_0001')).toEqual({ records: 4, segments: 3, dropped: 0 });
      expect(await pushAudit(target(a), 'run_0001')).toBeUndefined();
      await w.append('2026-12-07T02:30:00.000Z', [line('r4')]);
      expect(await pushAudit(target(a), 'run_0002')).toEqual({ records: 1, segments: 1, dropped: 0 });

      const segments = git(remote.bare, 'ls-tree', '-r', '--name-only', BRANCH).split('\n').filter(Boolean);
      expect(segments).toHaveLength(4);
      const fresh = await runner(remote.url);
      expect(await pullAudit(target(fresh))).toEqual({ segments: 4, records: 5 });
      expect((await storeLines(fresh.storeDir)).map((l) => JSON.parse(l).request_id).sort()).toEqual(['d1', 'r1', 'r2', 'r3', 'r4']);
      expect(await pullAudit(target(fresh))).toEqual({ segments: 0, records: 0 });
      // What it pulled is never pushed back, and the runner that pushed never pulls its own.
      expect(await pushAudit(target(fresh), 'run_0003')).toBeUndefined();
      expect(await pullAudit(target(a))).toEqual({ segments: 0, records: 0 });
      expect(git(fresh.root, 'status', '--porcelain', '--untracked-files=all')).toBe('');
    } finally {
      await remote.close();
    }
  });

  it('the window: a push past store.audit_days writes a new root without the old days', async () => {
    const remote = await httpRemote(await seedRepo());
    try {
      const a = await runner(remote.url);
      const w = shardWriter(a.storeDir);
      for (const [n, day] of [[1, '2026-08-01'], [2, '2026-11-20']] as const) {
        await w.append(`${day}T03:00:00.000Z`, [line(`r${n}`, `${day}T03:00:00.000Z`)]);
        await pushAudit(target(a, 'origin', '2026-01-01'), `run_000${n}`);
      }
      expect(git(remote.bare, 'rev-list', '--count', BRANCH).trim()).toBe('2');
      await w.append('2026-12-07T03:00:00.000Z', [line('r3', '2026-12-07T03:00:00.000Z')]);
      expect(await pushAudit(target(a, 'origin', '2026-09-09'), 'run_0003')).toEqual({ records: 1, segments: 1, dropped: 1 });
      expect(git(remote.bare, 'rev-list', '--count', BRANCH).trim()).toBe('1');
      expect(git(remote.bare, 'ls-tree', '-r', '--name-only', BRANCH).split('\n').filter(Boolean).map((p) => p.slice(0, 10))).toEqual(['2026-11-20', '2026-12-07']);
      const fresh = await runner(remote.url);
      await mkdir(fresh.storeDir, { recursive: true });
      expect(await pullAudit(target(fresh))).toEqual({ segments: 2, records: 2 });
    } finally {
      await remote.close();
    }
  });
});
