// Coreloop Observe: one JSON line per worker call, schema v2, in the store's shards of the audit log
// (src/ssot/audit-store.ts: a folder per UTC day, a file per process and hour; never committed to main).
// The run loop writes the lines when a card's attempt is over (src/factory/observe.ts), because a record
// names every step the card took after the call: the answer check, applying it, each accept predicate.
// An I/O failure here never breaks a run; G7_AUDIT_DISABLE=1 (passed in as `enabled: false`) turns it off.
import { createHash } from 'node:crypto';
import type { AuditRecord } from '../contracts/types.gen.js';
import { shardWriter } from '../ssot/audit-store.js';

const MAX_LINE = 4096;
const MAX_ARG = 500;

/** One step of a card as the record lists it: `ask` (the worker call), `check`, `apply`, `accept:…`, `rework`. */
export interface AuditStep {
  name: string;
  /** The step's arguments as text (capped at 500 characters in the record, hashed whole). */
  args: string | null;
  ok: boolean;
  error: string | null;
  durationMs: number;
  resultSizeBytes: number;
  overridesUsed: string[] | null;
  extremeFlags: string[];
}

export interface AuditCall {
  ts: string;
  /** This record's own id, unique: a replay of the same request gets another one. */
  requestId: string;
  /** Hex sha256 of the request (the response cache's key): equal requests share it. */
  requestHash: string;
  /** What was asked, in one line (`tag disclosures/a.md@0+1024`): a summary, never the prompt. */
  question: string;
  /** Hex sha256 of what identifies the question (equal questions share it). */
  questionHash: string;
  category: string;
  /** The parts of the category in words, for people reading a draft. */
  hint: string | null;
  provider: string;
  model: string;
  steps: AuditStep[];
  overrides: { tool: string; override_keys: string[]; trigger: string; succeeded: boolean }[];
  tokens: { in: number; out: number };
  /** Characters of the material the worker was asked about (the library chunk, the files of a patch). */
  chunkLen: number;
  error: string | null;
  violation: string | null;
  /** The skill target in the prompt (`ssot/skills/TAG.md`, `src/x.py::f`). */
  skillUsed: string | null;
  /** Ids of the Guide/Caveats bullets in the prompt's skill docstring (see skill/bullets.ts bulletIds). */
  skillBullets?: string[] | undefined;
  durationMs: number;
  /** The answer came from the response cache: a replay, marked so that no reader counts it as a new case. */
  cached?: boolean | undefined;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The path a card took, by step name (SPEC 10: the outcome of a step is what the success rate measures, so it
 * is not part of the path): a call whose check failed and one whose check passed share it.
 */
export function sequenceHash(steps: Pick<AuditStep, 'name'>[]): string {
  return `seq:${sha(steps.map((s) => s.name).join('>')).slice(0, 8)}`;
}

/** The kind of work: readable `TYPE:entry`, then a hash of everything that tells two kinds apart. */
export function categoryHash(type: string, parts: { entry: string; skill: string | null; inputKind: string }): string {
  return `${type}:${parts.entry}#${sha([type, parts.entry, parts.skill ?? '', parts.inputKind].join('\u0000')).slice(0, 8)}`;
}

export function auditRecord(c: AuditCall): AuditRecord {
  return {
    schema_version: 2,
    ts: c.ts,
    request_id: c.requestId,
    request_hash: `sha256:${c.requestHash}`,
    ...(c.cached ? { cached: true } : {}),
    question: c.question,
    question_hash: `sha256:${c.questionHash}`,
    category_hash: c.category,
    hint: c.hint,
    provider: c.provider,
    model: c.model,
    tool_calls: c.steps.map((s) => ({
      name: s.name,
      args: s.args === null ? null : s.args.length > MAX_ARG ? s.args.slice(0, MAX_ARG) : s.args,
      args_hash: sha(s.args ?? '').slice(0, 16),
      ok: s.ok,
      error: s.error,
      duration_ms: Math.max(0, Math.round(s.durationMs)),
      result_size_bytes: s.resultSizeBytes,
      overrides_used: s.overridesUsed,
      extreme_flags: s.extremeFlags,
    })),
    tool_sequence_hash: sequenceHash(c.steps),
    override_calls: c.overrides,
    rounds: 1,
    chunk_len: c.chunkLen,
    error: c.error,
    violation: c.violation,
    skill_used: c.skillUsed,
    ...(c.skillBullets?.length ? { skill_bullets: c.skillBullets } : {}),
    duration_total_ms: Math.max(0, Math.round(c.durationMs)),
    tokens: c.tokens,
    judgment: { verdict: null, judged_at: null, judged_by: null, pr_url: null },
  };
}

/** A line over 4 KB keeps its identity and figures and drops the long text. */
export function auditLine(rec: AuditRecord): string {
  const line = JSON.stringify(rec);
  if (Buffer.byteLength(line) <= MAX_LINE) return line;
  const cut = (s: string | null, n: number) => (s && s.length > n ? `${s.slice(0, n)}…` : s);
  const short: AuditRecord = {
    ...rec,
    question: cut(rec.question, 200),
    error: cut(rec.error, 200),
    violation: cut(rec.violation, 200),
    summarized: true,
    tool_calls: rec.tool_calls.map((t) => ({ ...t, args: typeof t.args === 'string' ? cut(t.args, 100) : null, error: cut(t.error, 100) })),
  };
  const again = JSON.stringify(short);
  if (Buffer.byteLength(again) <= MAX_LINE) return again;
  // Still too long (many steps): the steps lose their texts, then the last ones go. tool_sequence_hash was
  // computed from all of them, so the record still groups with the calls that went the same way.
  const bare = { ...short, skill_bullets: short.skill_bullets?.slice(0, 20), tool_calls: short.tool_calls.map((t) => ({ ...t, args: null, error: t.error ? 'see the evidence' : null })) };
  let text = JSON.stringify(bare);
  while (Buffer.byteLength(text) > MAX_LINE && bare.tool_calls.length > 1) {
    bare.tool_calls = bare.tool_calls.slice(0, Math.max(1, Math.floor(bare.tool_calls.length * 0.8)));
    text = JSON.stringify(bare);
  }
  return text;
}

export interface AuditLog {
  /** Appends the records of one attempt (one line each). Never throws: returns what went wrong, if anything. */
  write(calls: AuditCall[]): Promise<{ written: number; failed: string | undefined }>;
}

/**
 * The writer of the store's shards under `storeDir` (store/audit). `redact` replaces secret values: an error
 * text from a service never carries a key into the log. `keepDays` (store.audit_days): the store keeps that
 * many days, on a disk that persists too.
 */
export function auditLog(storeDir: string, enabled: boolean, redact: (s: string) => string = (s) => s, keepDays?: number): AuditLog {
  const shards = shardWriter(storeDir, keepDays);
  return {
    async write(calls) {
      if (!enabled || calls.length === 0) return { written: 0, failed: undefined };
      try {
        const byHour = new Map<string, string[]>();
        for (const c of calls) {
          const hour = c.ts.slice(0, 13);
          byHour.set(hour, [...(byHour.get(hour) ?? []), redact(auditLine(auditRecord(c)))]);
        }
        for (const [hour, lines] of byHour) await shards.append(hour, lines);
        return { written: calls.length, failed: undefined };
      } catch (err) {
        return { written: 0, failed: `audit log not written: ${(err as Error).message}` };
      }
    },
  };
}
