// The Observe record itself: arguments capped with a hash of the whole, a line over 4 KB summarised and
// still a valid record, secrets replaced before anything reaches the disk, and the sequence hash telling
// outcomes apart.
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { auditLine, auditLog, auditRecord, sequenceHash, type AuditCall } from '../../src/coreloop/audit.js';
import { explain } from '../../src/contracts/validate.js';

const KEY = 'AIzaSyAuditTestKey-000000000000000001';

function call(over: Partial<AuditCall> = {}): AuditCall {
  return {
    ts: '2026-11-21T01:02:03.000Z', requestId: 'a'.repeat(16), requestHash: 'c'.repeat(64), question: 'tag library/a.md@0+1024', questionHash: 'b'.repeat(64), category: 'TAG:tag#12345678', hint: 'TAG work',
    provider: 'gemini', model: 'gemini-2.5-flash-lite', tokens: { in: 10, out: 5 }, chunkLen: 1024, error: null, violation: null, skillUsed: 'ssot/skills/TAG.md', skillBullets: ['G-0a1b2c3d'], durationMs: 12, overrides: [],
    steps: [
      { name: 'ask', args: '{"card":"L2_TAG_000001"}', ok: true, error: null, durationMs: 12, resultSizeBytes: 40, overridesUsed: null, extremeFlags: [] },
      { name: 'check', args: null, ok: true, error: null, durationMs: 0, resultSizeBytes: 0, overridesUsed: null, extremeFlags: [] },
      { name: 'accept:json', args: null, ok: true, error: null, durationMs: 0, resultSizeBytes: 0, overridesUsed: null, extremeFlags: [] },
    ],
    ...over,
  };
}

describe('the audit record', () => {
  it('caps arguments at 500 characters and hashes the whole', () => {
    const args = 'x'.repeat(1200);
    const r = auditRecord(call({ steps: [{ ...call().steps[0]!, args }] }));
    expect(r.tool_calls[0]!.args).toHaveLength(500);
    expect(r.tool_calls[0]!.args_hash).toBe(createHash('sha256').update(args).digest('hex').slice(0, 16));
  });

  it('summarises a line over 4 KB into a valid record that keeps its identity and its sequence hash', () => {
    const long = call({ question: 'q'.repeat(5000), error: 'e'.repeat(3000), steps: Array.from({ length: 30 }, (_, i) => ({ ...call().steps[0]!, name: `accept:p${i}`, error: 'why '.repeat(60) })) });
    const line = auditLine(auditRecord(long));
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096);
    const back = JSON.parse(line);
    expect(explain('audit_record', back, { file: 'audit' })).toEqual([]);
    expect(back).toMatchObject({ summarized: true, request_id: 'a'.repeat(16), tool_sequence_hash: auditRecord(long).tool_sequence_hash });
    expect(back.tool_calls.length).toBeGreaterThan(5);
    expect(back.tool_calls[0]).toMatchObject({ name: 'accept:p0', ok: true });
  });

  it('hashes the path by step names only: the same steps with one failing share it, another path does not', () => {
    const ok = call().steps;
    expect(sequenceHash(ok)).toBe(sequenceHash(ok.map((s) => ({ ...s }))));
    expect(sequenceHash(ok)).toBe(sequenceHash(ok.map((s, i) => ({ ...s, ok: i !== 2 }))));
    expect(sequenceHash(ok)).not.toBe(sequenceHash([{ name: 'rework' }, ...ok]));
  });

  it('replaces secrets before writing, and writes nothing when disabled', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-audit-'));
    const redact = (s: string) => s.split(KEY).join('***');
    const w = await auditLog(dir, true, redact).write([call({ error: `400 API key not valid: ${KEY}` })]);
    expect(w).toEqual({ written: 1, failed: undefined });
    const shards = await readdir(path.join(dir, 'ai-ask', '2026-11-21'));
    expect(shards).toEqual([expect.stringMatching(/^01-.+-\d+-[0-9a-f]{8}\.jsonl$/)]);
    const text = await readFile(path.join(dir, 'ai-ask', '2026-11-21', shards[0]!), 'utf8');
    expect(text).not.toContain(KEY);
    expect(text).toContain('API key not valid: ***');
    const off = await mkdtemp(path.join(tmpdir(), 'g7-audit-'));
    expect(await auditLog(off, false, redact).write([call()])).toEqual({ written: 0, failed: undefined });
    await expect(readdir(path.join(off, 'ai-ask'))).rejects.toThrow();
  });
});
