// Reading the Observe log for mining: the files of a window (src/ssot/audit-store.ts lists only the days
// and hours of the window), streamed line by line (constant memory whatever their size), and what each
// record says about success and failure.
import type { AuditRecord } from '../contracts/types.gen.js';
import { UsageError } from '../contracts/errors.js';
import { forEachLine } from '../ssot/jsonl.js';
import type { AuditFile } from '../ssot/audit-store.js';

export interface Window {
  since: string;
  until: string;
}

/** `30d`, `12h`, `2w` back from now, or a date `YYYY-MM-DD`. */
export function windowFrom(since: string, now: Date): Window {
  const rel = /^(\d+)([hdw])$/.exec(since.trim());
  let from: Date;
  if (rel) from = new Date(now.getTime() - Number(rel[1]) * { h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[rel[2] as 'h' | 'd' | 'w']);
  else if (/^\d{4}-\d{2}-\d{2}$/.test(since.trim()) && !Number.isNaN(Date.parse(since))) from = new Date(`${since.trim()}T00:00:00Z`);
  else throw new UsageError(`--since takes a span such as 30d, 12h, 2w or a date YYYY-MM-DD; got "${since}"`);
  return { since: from.toISOString(), until: now.toISOString() };
}

export interface ReadStats {
  files: number;
  records: number;
  /** Lines that are not an audit record (bad JSON, a torn tail, missing fields). */
  invalid: number;
  /** Records of an answer replayed from the response cache: the same case again, never a new one. */
  replays: number;
}

/**
 * A record of an answer served from the response cache (after a crash, a rerun): marked by the audit
 * writer, or, in logs written before the mark, a record id seen already (ids were the request's hash).
 * Record ids are unique since `request_hash` exists, so an id seen again there is the same record read twice.
 */
export function isMarkedReplay(r: AuditRecord): boolean {
  const x = r as AuditRecord & { cached?: unknown; replay?: unknown };
  return x.cached === true || x.replay === true;
}

function looksLikeRecord(v: unknown): v is AuditRecord {
  const r = v as AuditRecord;
  return !!r && typeof r === 'object' && typeof r.category_hash === 'string' && typeof r.tool_sequence_hash === 'string' && typeof r.question_hash === 'string' && Array.isArray(r.tool_calls) && typeof r.ts === 'string';
}

/** The digest of a record's request: `request_hash`, or in records written before it, the id (its prefix). */
export function requestHashOf(r: AuditRecord): string {
  return r.request_hash ? r.request_hash.replace(/^[\w-]+:/, '') : r.request_id;
}

/**
 * Streams every record of the window to `onRecord`, in file order, each case once: records outside the
 * window and cached replays are skipped (an id seen again is looked for in its own day and the one before,
 * so memory stays bounded by two days of ids whatever the window).
 */
export async function forEachRecord(files: AuditFile[], w: Window, onRecord: (r: AuditRecord) => void, display: (p: string) => string): Promise<ReadStats> {
  const stats: ReadStats = { files: files.length, records: 0, invalid: 0, replays: 0 };
  let before = new Set<string>();
  let seen = new Set<string>();
  const firstDay = w.since.slice(0, 10);
  const lastDay = w.until.slice(0, 10);
  const since = Date.parse(w.since);
  const until = Date.parse(w.until);
  let current = '';
  for (const { path: file, day } of files) {
    // Only the first and last day of the window need each record's time checked.
    const edge = day === firstDay || day === lastDay;
    if (day !== current) {
      before = seen;
      seen = new Set();
      current = day;
    }
    await forEachLine(file, (text) => {
      if (text.length === 0) return;
      let v: unknown;
      try {
        v = JSON.parse(text);
      } catch {
        v = undefined;
      }
      if (!looksLikeRecord(v)) {
        stats.invalid++;
        return;
      }
      if (edge) {
        const t = Date.parse(v.ts);
        if (!(t >= since && t <= until)) return;
      }
      if (isMarkedReplay(v) || seen.has(v.request_id) || before.has(v.request_id)) {
        stats.replays++;
        return;
      }
      seen.add(v.request_id);
      stats.records++;
      onRecord(v);
    }, display(file));
  }
  return stats;
}

/** What went wrong in a record, typed so that refine can group it and leave transient causes out. */
export interface Signal {
  type: 'error' | 'violation' | 'short_chunk' | 'extreme_flag' | 'failed_override' | 'tool_failed';
  /** rate_limit, transient_network, schema, finish, auth, budget, safety, accept, other. */
  cause: string;
  /** A short description, numbers and paths taken out, so that equal causes group together. */
  detail: string;
}

export const TRANSIENT = new Set(['rate_limit', 'transient_network']);

/**
 * Why a record is noise rather than a case, if it is: an input too short to judge, or a transient API error
 * (quota, 5xx, the network) that says nothing about the work. Every other error or violation is a failure
 * of its group.
 */
export function noiseOf(r: AuditRecord, minChunkLen: number): 'short_chunk' | 'transient' | undefined {
  if (r.chunk_len < minChunkLen) return 'short_chunk';
  if (r.error && !r.violation && TRANSIENT.has(causeOf(r.error))) return 'transient';
  return undefined;
}

/** A record failed when it has an error or a violation, or a step failed. */
export function recordFailed(r: AuditRecord): boolean {
  return !!r.error || !!r.violation || !r.tool_calls.every((t) => t.ok);
}

export function causeOf(text: string): string {
  if (/\b429\b|RESOURCE_EXHAUSTED|rate.?limit|quota/i.test(text)) return 'rate_limit';
  if (/\b5\d\d\b|UNAVAILABLE|DEADLINE_EXCEEDED|time(d)? ?out|ECONNRESET|ECONNREFUSED|EAI_AGAIN|fetch failed|socket hang up|network/i.test(text)) return 'transient_network';
  if (/SAFETY|blocked/i.test(text)) return 'safety';
  if (/MAX_TOKENS|finish/i.test(text)) return 'finish';
  if (/api.?key|API_KEY|PERMISSION_DENIED|\b40[13]\b|unauthori[sz]ed/i.test(text)) return 'auth';
  if (/budget/i.test(text)) return 'budget';
  if (/schema|invalid|JSON|does not match|required/i.test(text)) return 'schema';
  return 'other';
}

/** Numbers, hashes, quoted values and paths out; at most 80 characters. */
export function normalizeDetail(text: string): string {
  return text
    .replace(/"[^"]*"|'[^']*'|`[^`]*`/g, '…')
    .replace(/(?:[\w.-]+\/)+[\w.-]+/g, '…')
    .replace(/\b[0-9a-f]{8,}\b/gi, '…')
    .replace(/\d+(\.\d+)?/g, 'N')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 80);
}

export function signalsOf(r: AuditRecord, shortChunk = 200): Signal[] {
  const out: Signal[] = [];
  if (r.error) out.push({ type: 'error', cause: causeOf(r.error), detail: normalizeDetail(r.error) });
  if (r.violation) out.push({ type: 'violation', cause: 'violation', detail: normalizeDetail(r.violation) });
  if (r.chunk_len < shortChunk) out.push({ type: 'short_chunk', cause: 'short_chunk', detail: `inputs under ${shortChunk} characters` });
  const triggers = r.override_calls.map((o) => o.trigger).join(' ');
  for (const t of r.tool_calls) {
    // A failed accept step: the answer had the right shape and the card's rule still did not hold.
    if (!t.ok && !r.error) out.push({ type: 'tool_failed', cause: t.name.startsWith('accept:') ? 'accept' : causeOf(t.error ?? ''), detail: normalizeDetail(`${t.name}: ${t.error ?? 'failed'}`) });
    for (const f of t.extreme_flags) {
      const cause = /^retries:/.test(f) ? (causeOf(triggers) === 'rate_limit' ? 'rate_limit' : 'transient_network') : causeOf(f);
      out.push({ type: 'extreme_flag', cause, detail: normalizeDetail(f.replace(/:\d+$/, '')) });
    }
  }
  for (const o of r.override_calls) if (!o.succeeded) out.push({ type: 'failed_override', cause: causeOf(o.trigger) === 'other' ? 'override' : causeOf(o.trigger), detail: normalizeDetail(`${o.tool} ${o.override_keys.join(',')}`) });
  return out;
}

/** The 95% Wilson score lower bound of a success rate: how sure n cases make us. */
export function wilsonLower(successes: number, n: number, z = 1.96): number {
  if (n === 0) return 0;
  const p = successes / n;
  const z2 = z * z;
  return (p + z2 / (2 * n) - z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
}

/**
 * The kind of work and its label: `TAG:tag#1a2b3c4d` (type, day-plan entry or work pack, then a hash of the
 * rest) → engine `tag`, axis `tag`; otherwise the first tool's name.
 */
export function engineAxis(category: string, tool: string | undefined): { engine: string; axis: string } {
  const m = /^([A-Z]+):(.+?)(?:#[0-9a-f]{8})?$/.exec(category);
  if (m) return { engine: m[1]!.toLowerCase(), axis: m[2]! };
  return { engine: (tool ?? 'work').toLowerCase(), axis: category };
}
