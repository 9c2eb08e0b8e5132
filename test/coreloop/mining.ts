// Planted audit logs for the mining tests: records made by the real Observe writer, then bent into the
// shapes a test needs (a failure, an error, a short answer…).
import path from 'node:path';
import { mkdir, writeFile } from 'node:fs/promises';
import { auditLine, auditRecord } from '../../src/coreloop/audit.js';
import type { AuditRecord } from '../../src/contracts/types.gen.js';

let seq = 0;
export function rec(category: string, toolSeq: string, question: string, over: Partial<AuditRecord> = {}, ts = '2026-11-20T10:00:00.000Z'): AuditRecord {
  seq++;
  const base = auditRecord({
    ts, requestId: `req${String(seq).padStart(6, '0')}`, requestHash: String(seq).padStart(64, '0'), question, questionHash: `${question.length.toString(16).padStart(8, '0')}${Buffer.from(question).toString('hex').slice(0, 48)}`.slice(0, 56).padEnd(16, '0'),
    category, hint: null, provider: 'gemini', model: 'gemini-2.5-flash', error: null, violation: null, durationMs: 120,
    steps: [{ name: 'TAG', args: '{"card":"L2_TAG_000001"}', ok: true, error: null, durationMs: 120, resultSizeBytes: 900, overridesUsed: null, extremeFlags: [] }],
    tokens: { in: 500, out: 80 }, chunkLen: 900, skillUsed: null, overrides: [],
  });
  return { ...base, tool_sequence_hash: toolSeq, ...over };
}

/** question_hash must be hex: derive it from the question so equal questions share it. */
export function hashed(r: AuditRecord): AuditRecord {
  const hex = Buffer.from(r.question ?? '').toString('hex').padEnd(16, '0').slice(0, 64);
  return { ...r, question_hash: `sha256:${hex}` };
}

export async function writeDay(auditDir: string, day: string, records: AuditRecord[], extra = ''): Promise<string> {
  const file = path.join(auditDir, 'ai-ask', `${day}.jsonl`);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, records.map((r) => auditLine(hashed(r)) + '\n').join('') + extra);
  return file;
}

/** The planted log: one candidate and one near-miss of each kind. */
export function planted(): AuditRecord[] {
  const ok = (cat: string, s: string, q: string, over: Partial<AuditRecord> = {}) => rec(cat, s, q, over);
  const out: AuditRecord[] = [];
  for (let i = 1; i <= 4; i++) out.push(ok('TAG:tag', 'seq:aaaa0001', `tag disclosures/2026/report-${i}.md@0+1200`));
  for (let i = 1; i <= 4; i++) out.push(ok('TAG:onefail', 'seq:bbbb0002', `tag other/file-${i}.md@0+900`, i === 2 ? { tool_calls: [{ ...rec('x', 'y', 'z').tool_calls[0]!, ok: false, error: 'answer did not match the schema' }] } : {}));
  for (let i = 1; i <= 4; i++) out.push(ok('TAG:fewq', 'seq:cccc0003', `tag same/file-${i % 2}.md@0+900`));
  for (let i = 1; i <= 4; i++) out.push(ok('TAG:short', 'seq:dddd0004', `tag short/file-${i}.md@0+100`, { chunk_len: 120 }));
  for (let i = 1; i <= 5; i++) out.push(ok('TAG:errs', 'seq:eeee0005', `tag errs/file-${i}.md@0+900`, i <= 2 ? { error: 'HTTP 400 INVALID_ARGUMENT: answer failed schema check' } : i <= 4 ? { violation: 'wrote outside the pack' } : {}));
  return out;
}
