// Coreloop Observe: one JSON line per worker call in audit/ai-ask/YYYY-MM-DD.jsonl (UTC), schema v2.
// An I/O failure here never breaks a run; G7_AUDIT_DISABLE=1 (passed in as `enabled: false`) turns it off.
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { AuditRecord } from '../contracts/types.gen.js';
import { appendLines } from '../ssot/atomic.js';

const MAX_LINE = 4096;
const MAX_ARG = 500;

export interface AuditCall {
  ts: string;
  requestId: string;
  question: string;
  questionHash: string;
  category: string;
  provider: string;
  model: string;
  toolName: string;
  args: string;
  ok: boolean;
  error: string | null;
  durationMs: number;
  resultSizeBytes: number;
  tokens: { in: number; out: number };
  chunkLen: number;
  skillUsed: string | null;
  /** Ids of the Guide/Caveats bullets in the prompt's skill docstring (see skill/bullets.ts bulletIds). */
  skillBullets?: string[] | undefined;
  extremeFlags: string[];
  overrides: { tool: string; override_keys: string[]; trigger: string; succeeded: boolean }[];
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export function auditRecord(c: AuditCall): AuditRecord {
  return {
    schema_version: 2,
    ts: c.ts,
    request_id: c.requestId,
    question: c.question,
    question_hash: `sha256:${c.questionHash}`,
    category_hash: c.category,
    hint: null,
    provider: c.provider,
    model: c.model,
    tool_calls: [
      {
        name: c.toolName,
        args: c.args.length > MAX_ARG ? c.args.slice(0, MAX_ARG) : c.args,
        args_hash: sha(c.args).slice(0, 16),
        ok: c.ok,
        error: c.error,
        duration_ms: Math.round(c.durationMs),
        result_size_bytes: c.resultSizeBytes,
        overrides_used: c.overrides.length ? c.overrides.flatMap((o) => o.override_keys) : null,
        extreme_flags: c.extremeFlags,
      },
    ],
    tool_sequence_hash: `seq:${sha(c.toolName).slice(0, 8)}`,
    override_calls: c.overrides,
    rounds: 1,
    chunk_len: c.chunkLen,
    error: c.error,
    violation: null,
    skill_used: c.skillUsed,
    ...(c.skillBullets?.length ? { skill_bullets: c.skillBullets } : {}),
    duration_total_ms: Math.round(c.durationMs),
    tokens: c.tokens,
    judgment: { verdict: null, judged_at: null, judged_by: null, pr_url: null },
  };
}

/** A line over 4 KB keeps its identity and figures and drops the long text. */
export function auditLine(rec: AuditRecord): string {
  const line = JSON.stringify(rec);
  if (Buffer.byteLength(line) <= MAX_LINE) return line;
  const short: AuditRecord = { ...rec, question: rec.question ? rec.question.slice(0, 200) : rec.question, summarized: true, tool_calls: rec.tool_calls.map((t) => ({ ...t, args: typeof t.args === 'string' ? t.args.slice(0, 200) : null })) };
  return JSON.stringify(short);
}

export interface AuditLog {
  write(c: AuditCall): Promise<void>;
}

export function auditLog(auditDir: string, enabled: boolean, onError: (msg: string) => void): AuditLog {
  return {
    async write(c) {
      if (!enabled) return;
      try {
        const day = c.ts.slice(0, 10);
        await appendLines(path.join(auditDir, 'ai-ask', `${day}.jsonl`), [auditLine(auditRecord(c))], { fsync: false });
      } catch (err) {
        onError(`audit log not written: ${(err as Error).message}`);
      }
    },
  };
}
