// Decoding of files written by people on any OS: UTF-8 with or without BOM, UTF-16 LE/BE (PowerShell's
// "Unicode"), CRLF or CR line ends. Invalid bytes are an error that names the line, never a silent U+FFFD.
import { readFile } from 'node:fs/promises';
import { SchemaError } from '../contracts/errors.js';

export type TextEncodingName = 'utf-8' | 'utf-16le' | 'utf-16be';

export interface Sniffed {
  encoding: TextEncodingName;
  /** Bytes of byte-order mark to skip. */
  bomLength: number;
}

/** Looks at the first bytes: a BOM decides; without one, a NUL in every other byte means BOM-less UTF-16. */
export function sniffEncoding(head: Uint8Array): Sniffed {
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', bomLength: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', bomLength: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', bomLength: 2 };
  if (head.length >= 4) {
    if (head[0] !== 0 && head[1] === 0 && head[2] !== 0 && head[3] === 0) return { encoding: 'utf-16le', bomLength: 0 };
    if (head[0] === 0 && head[1] !== 0 && head[2] === 0 && head[3] !== 0) return { encoding: 'utf-16be', bomLength: 0 };
  }
  return { encoding: 'utf-8', bomLength: 0 };
}

/** Line and column (1-based) of a UTF-8 byte offset: used to point at an invalid byte. */
export function lineColOfByte(bytes: Uint8Array, offset: number): { line: number; col: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: offset - lineStart + 1 };
}

/** Offset of the first byte that does not belong to valid UTF-8 (the length when there is none). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const need = b < 0x80 ? 0 : b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : -1;
    if (need < 0) return i;
    for (let k = 1; k <= need; k++) if (((bytes[i + k] ?? 0) & 0xc0) !== 0x80) return i;
    i += need + 1;
  }
  return bytes.length;
}

/** Normalises line ends to \n. */
export function normalizeNewlines(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/** Decodes a whole file's bytes to a string with \n line ends. */
export function decodeText(bytes: Uint8Array, file: string): string {
  const { encoding, bomLength } = sniffEncoding(bytes);
  const body = bytes.subarray(bomLength);
  try {
    return normalizeNewlines(new TextDecoder(encoding, { fatal: true }).decode(body));
  } catch {
    const at = encoding === 'utf-8' ? lineColOfByte(body, firstInvalidUtf8(body)) : { line: undefined, col: undefined };
    throw new SchemaError([
      {
        file,
        line: at.line,
        col: at.col,
        rule: 'text.encoding',
        message: `not valid ${encoding.toUpperCase()} text`,
        hint: 'save the file as UTF-8 (with or without BOM) or UTF-16 with a BOM',
      },
    ]);
  }
}

/** Reads and decodes a text file; a missing file is reported as a problem, not an ENOENT stack. */
export async function readText(file: string, shown: string = file): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SchemaError([
      {
        file: shown,
        rule: code === 'ENOENT' ? 'file.missing' : 'file.unreadable',
        message: code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? 'error'})`,
        hint: code === 'ENOENT' ? 'check the path; paths are relative to the current folder' : undefined,
      },
    ]);
  }
  return decodeText(bytes, shown);
}
