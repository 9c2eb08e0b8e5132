// `g7 coreloop sanitize`: check audit logs for sensitive text, or write a copy fit to share. The originals
// are never written: --out may not be --in or inside it. Every mode masks secrets and personal data in
// every string of a record; then `hash` replaces question texts by keyed hashes (HMAC-SHA256, so a hashed
// question cannot be found again from a word list), `drop` removes them, `mask` keeps them masked.
import path from 'node:path';
import { createHmac } from 'node:crypto';
import { readdir, realpath, stat } from 'node:fs/promises';
import { UsageError, type Problem } from '../../contracts/errors.js';
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { writeStreamAtomic } from '../../ssot/atomic.js';
import { findSensitive, maskSpans, type Finding } from './detect.js';

export type SanitizeMode = 'hash' | 'drop' | 'mask';

export interface SanitizeReport {
  files: number;
  records: number;
  /** Findings by rule, over all files. */
  byRule: Record<string, number>;
  /** Findings as problems (file, line, field, rule), the first 50. */
  problems: Problem[];
  /** Lines that were not JSON: never copied. */
  skippedLines: number;
  written: string[];
}

/** All .jsonl files under a folder (or the file itself), sorted. */
export async function jsonlFiles(dir: string): Promise<string[]> {
  const s = await stat(dir).catch(() => undefined);
  if (!s) throw new UsageError(`${dir} does not exist`);
  if (s.isFile()) return [dir];
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && e.name.endsWith('.jsonl')) out.push(path.join(e.parentPath, e.name));
  return out.sort();
}

/** The real path of a folder that may not exist yet (its nearest existing parent, resolved, plus the rest). */
async function realish(p: string): Promise<string> {
  const abs = path.resolve(p);
  try {
    return await realpath(abs);
  } catch {
    const parent = path.dirname(abs);
    return parent === abs ? abs : path.join(await realish(parent), path.basename(abs));
  }
}

/** Refuses an --out that is --in or lies inside it (symlinks resolved): the originals are never written. */
export async function checkOutside(input: string, output: string): Promise<void> {
  const [i, o] = await Promise.all([realish(input), realish(output)]);
  const rel = path.relative(i, o);
  if (rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel)))
    throw new UsageError(`--out ${output} is ${rel === '' ? 'the same folder as' : 'inside'} --in ${input}; sanitize never writes where the originals are: choose a folder outside it`);
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Every string leaf of a record with its field path. */
function leaves(v: Json, at: string, out: { field: string; value: string }[]): void {
  if (typeof v === 'string') out.push({ field: at, value: v });
  else if (Array.isArray(v)) v.forEach((x, i) => leaves(x, `${at}[${i}]`, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, at ? `${at}.${k}` : k, out);
}

function mapLeaves(v: Json, at: string, fn: (field: string, s: string) => string): Json {
  if (typeof v === 'string') return fn(at, v);
  if (Array.isArray(v)) return v.map((x, i) => mapLeaves(x, `${at}[${i}]`, fn));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapLeaves(x, at ? `${at}.${k}` : k, fn)]));
  return v;
}

const SEP = '\n\u0000\n';

/** Findings per field of one record: one secretlint pass over all its strings joined. */
export async function findingsOf(record: Json): Promise<Map<string, Finding[]>> {
  const ls: { field: string; value: string }[] = [];
  leaves(record, '', ls);
  const joined = ls.map((l) => l.value).join(SEP);
  const found = await findSensitive(joined);
  const out = new Map<string, Finding[]>();
  let base = 0;
  let k = 0;
  for (const l of ls) {
    const end = base + l.value.length;
    while (k < found.length && found[k]!.start < end) {
      const f = found[k]!;
      if (f.end > base) out.set(l.field, [...(out.get(l.field) ?? []), { ...f, start: Math.max(0, f.start - base), end: Math.min(l.value.length, f.end - base) }]);
      if (f.end > end) break;
      k++;
    }
    base = end + SEP.length;
  }
  return out;
}

/** In mask mode, question texts also lose URLs and file paths (library file names carry company names). */
function maskNames(s: string): string {
  return s.replace(/\bhttps?:\/\/[^\s"'<>]+/g, '[url]').replace(/(?:[\p{L}\p{N}_.-]+\/)+[\p{L}\p{N}_.-]+|[\p{L}\p{N}_-]+\.(?:md|txt|pdf|html?|json|jsonl|csv|xlsx?|docx?)\b/gu, '[path]');
}

export function keyedHash(key: string, value: string): string {
  return `hmac-sha256:${createHmac('sha256', key).update(value).digest('hex')}`;
}

/** `key` is required for `hash` (sanitize() refuses to start without it). */
export function sanitizeRecord(rec: Record<string, Json>, found: Map<string, Finding[]>, mode: SanitizeMode, key: string | undefined): Record<string, Json> {
  const masked = mapLeaves(rec, '', (field, s) => {
    const f = found.get(field);
    return f ? maskSpans(s, f) : s;
  }) as Record<string, Json>;
  const calls = Array.isArray(masked.tool_calls) ? (masked.tool_calls as Record<string, Json>[]) : [];
  if (mode === 'mask') {
    if (typeof masked.question === 'string') masked.question = maskNames(masked.question);
    for (const c of calls) if (typeof c.args === 'string') c.args = maskNames(c.args);
    return masked;
  }
  if (mode === 'hash' && key) {
    const q = typeof rec.question === 'string' ? rec.question : String(rec.question_hash ?? '');
    masked.question_hash = keyedHash(key, q);
    for (const c of calls) c.args_hash = keyedHash(key, String(c.args_hash ?? ''));
  }
  masked.question = null;
  for (const c of calls) c.args = null;
  return masked;
}

const WHAT: Record<string, string> = { secret: 'a secret', email: 'an e-mail address', 'g7/url-credentials': 'a URL with credentials', phone: 'a phone number', card: 'a card number' };

function preview(s: string, f: Finding): string {
  const v = s.slice(f.start, f.end);
  return v.length <= 6 ? '***' : `${v.slice(0, 4)}… (${v.length} characters)`;
}

/**
 * Reads every audit log under `input`. With `output` and a mode, writes sanitized copies under `output`
 * (same relative paths, each file written atomically); without, only reports.
 */
export async function sanitize(opts: { input: string; output?: string | undefined; mode?: SanitizeMode | undefined; key?: string | undefined; display: (p: string) => string }): Promise<SanitizeReport> {
  if (opts.output) await checkOutside(opts.input, opts.output);
  if (opts.mode === 'hash' && !opts.key) throw new UsageError('--mode hash needs a key: set G7_SANITIZE_KEY to a long random secret (keep it to keep hashes comparable between exports)');
  const files = await jsonlFiles(opts.input);
  const isDir = (await stat(opts.input)).isDirectory();
  const report: SanitizeReport = { files: files.length, records: 0, byRule: {}, problems: [], skippedLines: 0, written: [] };
  for (const file of files) {
    const shown = opts.display(file);
    const each = async (emit: (line: string) => Promise<void>) => {
      let line = 0;
      for await (const raw of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
        line++;
        const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
        if (text.trim() === '') continue;
        let value: Json;
        try {
          value = JSON.parse(text) as Json;
        } catch {
          report.skippedLines++; // not JSON (a torn last line): never copied, it may hold anything
          continue;
        }
        if (!value || typeof value !== 'object' || Array.isArray(value)) {
          report.skippedLines++;
          continue;
        }
        report.records++;
        const found = await findingsOf(value);
        for (const [field, fs] of found)
          for (const f of fs) {
            report.byRule[f.rule] = (report.byRule[f.rule] ?? 0) + 1;
            if (report.problems.length < 50) report.problems.push({ file: shown, line, field, rule: f.rule, message: `${WHAT[f.rule] ?? WHAT[f.kind] ?? 'a secret'}: ${preview(leafAt(value, field), f)}`, hint: 'export with g7 coreloop sanitize --mode hash|drop|mask before sharing' });
          }
        if (opts.mode) await emit(JSON.stringify(sanitizeRecord(value as Record<string, Json>, found, opts.mode, opts.key)) + '\n');
      }
    };
    if (opts.output && opts.mode) {
      const target = path.join(opts.output, isDir ? path.relative(opts.input, file) : path.basename(file));
      await writeStreamAtomic(target, each);
      report.written.push(target);
    } else await each(async () => {});
  }
  return report;
}

function leafAt(v: Json, field: string): string {
  let cur: Json = v;
  for (const part of field.match(/[^.[\]]+/g) ?? []) cur = (cur as Record<string, Json>)?.[part] ?? null;
  return typeof cur === 'string' ? cur : '';
}
