// Streaming JSONL: constant memory whatever the file size, every bad line reported (bounded), and a torn
// last line (an interrupted append) told apart from a bad line so that our own logs can be repaired.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { sniffEncoding, firstInvalidUtf8, type TextEncodingName } from './text.js';
import { ProblemList, SchemaError, type Problem } from '../contracts/errors.js';
import { parseJson } from './doc.js';

export interface LineScan {
  /** Number of the last line seen (1-based). */
  lines: number;
  /** The final line when the file does not end in a newline. */
  unterminated?: { text: string; line: number } | undefined;
  encoding: TextEncodingName;
  bytes: number;
}

/** A part of a UTF-8 file, in bytes [start, end), that begins at the start of a line; its lines are numbered from 1. */
export interface ByteRange {
  start: number;
  end: number;
}

/** Calls `onLine` for every line, \r stripped, in order. Decodes BOM/UTF-16 on the fly (for a `range` that
 * does not start the file: UTF-8). */
export async function forEachLine(
  file: string,
  onLine: (text: string, line: number) => void | 'stop',
  shown: string = file,
  onChunk?: (raw: Buffer) => void,
  range?: ByteRange,
): Promise<LineScan> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch {
    throw new SchemaError([{ file: shown, rule: 'file.missing', message: 'file not found', hint: 'check the path' }]);
  }
  if (range) size = Math.max(0, Math.min(range.end, size) - range.start);
  // Reads of up to 1 MiB, but no bigger than the file: most files read here are a few hundred bytes, and a
  // 1 MiB buffer each is work for the garbage collector.
  const highWaterMark = Math.min(1 << 20, Math.max(size + 1, 1024));
  const stream = createReadStream(file, range ? { highWaterMark, start: range.start, end: range.start + size - 1 } : { highWaterMark });
  let encoding: TextEncodingName = 'utf-8';
  let decoder: TextDecoder | undefined = range && range.start > 0 ? new TextDecoder(encoding, { fatal: true }) : undefined;
  let carry = '';
  let line = 0;
  let stopped = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      onChunk?.(chunk);
      let buf: Uint8Array = chunk;
      if (!decoder) {
        const sniff = sniffEncoding(chunk);
        encoding = sniff.encoding;
        decoder = new TextDecoder(encoding, { fatal: true });
        buf = chunk.subarray(sniff.bomLength);
      }
      let text: string;
      try {
        text = carry + decoder.decode(buf, { stream: true });
      } catch {
        // The line of the first bad byte (lines of this read before it, after those of earlier reads), so
        // that a file read in parts names the same line as one read whole.
        let at = line + 1;
        if (encoding === 'utf-8') for (let k = 0, bad = firstInvalidUtf8(buf); k < bad; k++) if (buf[k] === 10) at++;
        throw new SchemaError([{ file: shown, line: at, rule: 'text.encoding', message: `not valid ${encoding.toUpperCase()} text near this line`, hint: 'save the file as UTF-8' }]);
      }
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        line++;
        const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
        if (onLine(text.slice(start, end), line) === 'stop') {
          stopped = true;
          break;
        }
        start = nl + 1;
      }
      if (stopped) break;
      carry = text.slice(start);
    }
  } finally {
    stream.destroy();
  }
  let unterminated: LineScan['unterminated'];
  if (!stopped) {
    const rest = carry + (decoder ? decoder.decode() : '');
    const tail = rest.endsWith('\r') ? rest.slice(0, -1) : rest;
    if (tail.length > 0) {
      line++;
      unterminated = { text: tail, line };
      onLine(tail, line);
    }
  }
  return { lines: line, unterminated, encoding, bytes: size };
}

export interface JsonlRead {
  scan: LineScan;
  problems: ProblemList;
  /** Set when the last line has no newline and is not valid JSON: an interrupted append. */
  tornTail?: { line: number } | undefined;
  records: number;
}

/**
 * Parses each non-blank line as JSON and hands it to `onRecord`, which may return problems about it.
 * Problems are collected (bounded by `maxProblems`), never thrown per line, so a person sees them all.
 */
export async function readJsonl(
  file: string,
  onRecord: (value: unknown, line: number, text: string) => Problem[] | void,
  opts: { maxProblems?: number; display?: string; onChunk?: (raw: Buffer) => void; range?: ByteRange } = {},
): Promise<JsonlRead> {
  const shown = opts.display ?? file;
  const problems = new ProblemList(opts.maxProblems ?? 50);
  let records = 0;
  let lastBad: { line: number; text: string } | undefined;
  const scan = await forEachLine(file, (text, line) => {
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      lastBad = { line, text };
      try {
        parseJson(text, shown, line - 1);
        problems.add({ file: shown, line, rule: 'json.syntax', message: 'invalid JSON' });
      } catch (err) {
        problems.addAll((err as SchemaError).problems ?? []);
      }
      return;
    }
    records++;
    const found = onRecord(value, line, text);
    if (found) problems.addAll(found);
  }, shown, opts.onChunk, opts.range);
  let tornTail: JsonlRead['tornTail'];
  if (scan.unterminated && lastBad?.line === scan.unterminated.line) {
    tornTail = { line: lastBad.line };
    // Replace the generic syntax problem for that line with the precise diagnosis.
    const idx = problems.items.findIndex((p) => p.line === lastBad!.line && p.rule === 'json.syntax');
    const torn: Problem = {
      file: shown,
      line: lastBad.line,
      rule: 'jsonl.torn-tail',
      message: 'the last line is cut short (no newline at the end and not valid JSON): a write was interrupted',
      hint: 'delete the partial last line; g7 repairs its own journals and logs this way on read',
    };
    if (idx >= 0) problems.items[idx] = torn;
    else problems.add(torn);
  }
  return { scan, problems, tornTail, records };
}
