// Library files written on Windows (PowerShell's UTF-16, with or without BOM) are scanned as bytes and
// tagged as text: a UTF-16 file that names a taxonomy keyword gets its tag, in every chunk.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { factory } from '../factory/fixture.js';

// Every line names the keyword, so a chunk misread as raw bytes (or a code unit off) loses its tag.
const TEXT = Array.from({ length: 60 }, (_, i) => `${i}: 이사회가 related-party 대여를 승인했다.`).join('\r\n') + '\r\n';
const utf16be = (s: string) => {
  const le = Buffer.from(s, 'utf16le');
  for (let i = 0; i < le.length; i += 2) [le[i], le[i + 1]] = [le[i + 1]!, le[i]!];
  return le;
};

describe('TAG over UTF-16 library files', () => {
  it.each([
    ['UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TEXT, 'utf16le')])],
    ['UTF-16BE with BOM', Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(TEXT)])],
    ['UTF-16LE without BOM', Buffer.from(TEXT, 'utf16le')],
  ])('%s: every chunk is read as text and the keyword is tagged', async (_name, bytes) => {
    const f = await factory(
      [
        { id: 'L1_SCAN_000001', prio: 'A', input: ['windows.md'], output: 'ssot/library_index/scan/1.jsonl' },
        { id: 'L2_TAG_000001', prio: 'A', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', deps: ['L1_SCAN_000001'] },
      ],
      { libraryFiles: 0, files: { 'library/windows.md': bytes } },
    );
    expect((await f.g7('run')).code).toBe(0);
    const chunks = (await readFile(path.join(f.ssot, 'library_index/tags/1.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(chunks.length).toBeGreaterThan(1); // the file is cut into several chunks, at odd byte offsets too
    expect(chunks.every((c) => c.tags.includes('risk'))).toBe(true);
    expect(chunks.every((c) => /keyword "related-party"/.test(c.why))).toBe(true);
  });
});
