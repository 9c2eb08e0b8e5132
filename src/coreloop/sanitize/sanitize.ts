// `g7 coreloop sanitize`: check audit logs for sensitive text, or write a copy fit to share. The originals
// are never written: --out may not be --in or inside it, and no file it would write may be an input file
// (its own folder, a symlink, a hard link). Every mode masks secrets, personal data and URLs in every string
// of a record, nested ones too, and replaces every hash and record id by a keyed one (HMAC-SHA256, so a
// guessed question cannot be confirmed); then `hash` and `drop` remove question texts, `mask` keeps them
// with file paths and company names masked.
import path from 'node:path';
import { createHmac } from 'node:crypto';
import { readdir, realpath, stat } from 'node:fs/promises';
import { companyMasker, maskUrls } from './names.js';
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

/**
 * Refuses a write plan in which any output is one of the inputs (same real path, or the same file through a
 * hard link): `--in DAY.jsonl --out` its own folder would otherwise write over the day it reads.
 */
export async function checkNoInputOverwritten(pairs: { input: string; output: string }[], outFlag: string): Promise<void> {
  const inputs = new Map<string, string>();
  const inodes = new Map<string, string>();
  for (const { input } of pairs) {
    inputs.set(await realish(input), input);
    const st = await stat(input);
    inodes.set(`${st.dev}:${st.ino}`, input);
  }
  for (const { output } of pairs) {
    const st = await stat(output).catch(() => undefined);
    const hit = inputs.get(await realish(output)) ?? (st ? inodes.get(`${st.dev}:${st.ino}`) : undefined);
    if (hit) throw new UsageError(`--out ${outFlag} would write ${output} over the input file ${hit}; sanitize never writes where the originals are: choose a folder that holds none of them`);
  }
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

/** In mask mode, question texts also lose file paths (library file names carry company names). */
function maskPaths(s: string): string {
  return s.replace(/(?:[\p{L}\p{N}_.-]+\/)+[\p{L}\p{N}_.-]+|[\p{L}\p{N}_-]+\.(?:md|txt|pdf|html?|json|jsonl|csv|xlsx?|docx?)\b/gu, '[path]');
}

export function keyedHash(key: string, value: string): string {
  return `hmac-sha256:${createHmac('sha256', key).update(value).digest('hex')}`;
}

/**
 * A hash field or record id, keyed: `sha256:…` becomes `hmac-sha256:…`; another prefix (`seq:…`) is kept
 * with a keyed hash of the same length; a bare id becomes a keyed id of its length (16 to 64 characters).
 */
function keyedId(key: string, value: string): string {
  const hex = createHmac('sha256', key).update(value).digest('hex');
  const m = /^([a-z0-9-]+):([0-9a-f]+)$/.exec(value);
  if (m && (m[1] === 'sha256' || m[1] === 'hmac-sha256')) return `hmac-sha256:${hex}`;
  if (m) return `${m[1]}:${hex.slice(0, Math.max(16, Math.min(64, m[2]!.length)))}`;
  return hex.slice(0, Math.max(16, Math.min(64, value.length)));
}

const HASHED = (k: string) => k === 'request_id' || k.endsWith('_hash');

function keyHashes(v: Json, key: string): Json {
  if (Array.isArray(v)) return v.map((x) => keyHashes(x, key));
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, typeof x === 'string' && HASHED(k) ? keyedId(key, x) : keyHashes(x, key)]));
  return v;
}

export interface SanitizeOptions {
  mode: SanitizeMode;
  key: string;
  /** Names to mask in mask mode besides the built-in company forms (factory.yaml `coreloop.sanitize.names`). */
  names?: readonly string[] | undefined;
}

export function sanitizeRecord(rec: Record<string, Json>, found: Map<string, Finding[]>, opts: SanitizeOptions): Record<string, Json> {
  const companies = companyMasker(opts.names ?? []);
  const masked = mapLeaves(keyHashes(rec, opts.key), '', (field, s) => {
    const f = found.get(field);
    const t = maskUrls(f ? maskSpans(s, f) : s);
    if (opts.mode !== 'mask') return t;
    return companies(field === 'question' || /^tool_calls\[\d+\]\.args$/.test(field) ? maskPaths(t) : t);
  }) as Record<string, Json>;
  if (typeof rec.question === 'string') masked.question_hash = keyedHash(opts.key, rec.question);
  if (opts.mode === 'mask') return masked;
  masked.question = null;
  for (const c of Array.isArray(masked.tool_calls) ? (masked.tool_calls as Record<string, Json>[]) : []) c.args = null;
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
export async function sanitize(opts: { input: string; output?: string | undefined; mode?: SanitizeMode | undefined; key?: string | undefined; names?: readonly string[] | undefined; display: (p: string) => string }): Promise<SanitizeReport> {
  if (opts.output) await checkOutside(opts.input, opts.output);
  if (opts.mode && !opts.key) throw new UsageError(`--mode ${opts.mode} needs a key: every hash in a sanitized copy is keyed`);
  const files = await jsonlFiles(opts.input);
  const isDir = (await stat(opts.input)).isDirectory();
  const targetOf = (file: string) => path.join(opts.output!, isDir ? path.relative(opts.input, file) : path.basename(file));
  if (opts.output && opts.mode) await checkNoInputOverwritten(files.map((f) => ({ input: f, output: targetOf(f) })), opts.display(opts.output));
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
        if (opts.mode) await emit(JSON.stringify(sanitizeRecord(value as Record<string, Json>, found, { mode: opts.mode, key: opts.key!, names: opts.names })) + '\n');
      }
    };
    if (opts.output && opts.mode) {
      const target = targetOf(file);
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
