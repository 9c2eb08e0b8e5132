// The audit log's store: shards a folder per day and a file per process and hour, none past its bound; one
// lister that gives a reader only the days and hours of its window, the old layout's day files on main
// included; records with ids of their own, a cached replay read as a replay and never as a new case.
import { describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { auditFiles, shardWriter, type AuditPlace } from '../../src/ssot/audit-store.js';
import { auditLog } from '../../src/coreloop/audit.js';
import { callRecords, type NotedCall } from '../../src/factory/observe.js';
import { minePatterns } from '../../src/coreloop/pattern.js';
import { windowFrom } from '../../src/coreloop/records.js';
import type { WorkCard } from '../../src/contracts/types.gen.js';
import type { WorkerRequest } from '../../src/worker/worker.js';
import { rec, writeDay } from '../coreloop/mining.js';

async function place(): Promise<AuditPlace> {
  const dir = await mkdtemp(path.join(tmpdir(), 'g7-audit-store-'));
  return { storeDir: path.join(dir, 'store', 'audit'), legacyDir: path.join(dir, 'audit', 'ai-ask') };
}

describe('the audit store', () => {
  it('lists only the shards of the window, by day and hour, a day of the old layout first', async () => {
    const p = await place();
    await writeDay(path.dirname(p.legacyDir), '2026-11-20', [rec('TAG:a', 'seq:1', 'q')]);
    await writeDay(path.dirname(p.legacyDir), '2026-11-18', [rec('TAG:a', 'seq:1', 'q')]);
    const shard = async (day: string, name: string) => {
      await mkdir(path.join(p.storeDir, 'ai-ask', day), { recursive: true });
      await writeFile(path.join(p.storeDir, 'ai-ask', day, name), '');
    };
    await shard('2026-11-19', '23-host-1-00000000.jsonl');
    await shard('2026-11-20', '09-host-1-00000000.jsonl');
    await shard('2026-11-20', '10-host-1-00000000.jsonl');
    await shard('2026-11-20', 'seg-14-host-2-11111111-0.jsonl');
    await shard('2026-11-21', '05-host-1-00000000.jsonl');
    await shard('2026-11-21', '06-host-1-00000000.jsonl');
    await writeFile(path.join(p.storeDir, 'ai-ask', '2026-11-21', '05-host-1-00000000.jsonl.sent'), '0\n');
    const files = await auditFiles(p, { since: '2026-11-20T10:30:00.000Z', until: '2026-11-21T05:10:00.000Z' });
    expect(files.map((f) => path.relative(path.dirname(p.storeDir), f.path).split(path.sep).join('/'))).toEqual([
      '../audit/ai-ask/2026-11-20.jsonl',
      'audit/ai-ask/2026-11-20/10-host-1-00000000.jsonl',
      'audit/ai-ask/2026-11-20/seg-14-host-2-11111111-0.jsonl',
      'audit/ai-ask/2026-11-21/05-host-1-00000000.jsonl',
    ]);
  });

  it('continues a shard in a new file before it passes its bound', async () => {
    const p = await place();
    const w = shardWriter(p.storeDir, undefined, 1000);
    for (let i = 0; i < 7; i++) await w.append('2026-11-20T10:00:00.000Z', [JSON.stringify({ i, pad: 'x'.repeat(280) })]);
    const dir = path.join(p.storeDir, 'ai-ask', '2026-11-20');
    const names = (await readdir(dir)).sort();
    expect(names.length).toBe(3);
    expect(names.every((n) => /^10-.+-\d+-[0-9a-f]{8}(\.\d)?\.jsonl$/.test(n))).toBe(true);
    for (const n of names) expect((await stat(path.join(dir, n))).size).toBeLessThanOrEqual(1000);
  });

  it('keeps the retention window: the first write removes the days before it', async () => {
    const p = await place();
    await mkdir(path.join(p.storeDir, 'ai-ask', '2026-08-01'), { recursive: true });
    await mkdir(path.join(p.storeDir, 'ai-ask', '2026-10-01'), { recursive: true });
    await shardWriter(p.storeDir, 90).append('2026-11-20T10:00:00.000Z', ['{}']);
    expect((await readdir(path.join(p.storeDir, 'ai-ask'))).sort()).toEqual(['2026-10-01', '2026-11-20']);
  });
});

describe('records that are cases (issue 20)', () => {
  it('a replayed request gets a record of its own, shares the request hash, and is never a new case', async () => {
    const p = await place();
    const card = { id: 'L2_TAG_000001', type: 'TAG', lane: 2, prio: 'B', input: 'x', output: 'y', accept: 'json:y' } as unknown as WorkCard;
    const text = 'going-concern '.repeat(40);
    const req = { card: card.id, cost_hint: 'LOW', task: { kind: 'TAG', chunk: { path: 'library/a.md', offset: 0, length: text.length, text } } } as unknown as WorkerRequest;
    const response = { json: { tags: [] }, provider: 'offline', model: 'rules', tokens: { in: 1, out: 1 }, cost_usd: 0, finish_reason: 'STOP', duration_ms: 1 };
    const hash = 'ab'.repeat(32);
    const noted = (cached: boolean): NotedCall => ({ req, meta: { question: 'tag library/a.md@0+560', inputKind: 'md', chunkLen: text.length }, startedAt: '2026-11-20T10:00:00.000Z', durationMs: 1, outcome: { response, hash, cached } });
    const end = { attempt: 1, error: undefined, accept: [{ rule: 'json:y', ok: true }], failfast: { fired: false } } as never;
    const paid = callRecords(card, { target: null, bullets: [] }, [noted(false)], end);
    const replay = callRecords(card, { target: null, bullets: [] }, [noted(true)], end);
    expect(paid[0]!.requestId).not.toBe(replay[0]!.requestId);
    expect([paid[0]!.requestHash, replay[0]!.requestHash]).toEqual([hash, hash]);
    expect(await auditLog(p.storeDir, true).write([...paid, ...replay])).toEqual({ written: 2, failed: undefined });
    const deps = { audit: p, window: windowFrom('30d', new Date('2026-11-21T00:00:00Z')), now: '2026-11-21T00:00:00.000Z', skills: {}, known: () => undefined, display: (f: string) => f };
    const { file } = await minePatterns(deps, { minRepeat: 1, minUniqueQuestions: 1, minChunkLen: 400, sanitize: true });
    expect(file.scanned).toMatchObject({ files: 1, records: 1, excluded: { replay: 1 } });
  });
});
