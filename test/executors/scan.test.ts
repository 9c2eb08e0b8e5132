// SCAN's chunk index is a contract (path, offset, length, sha256, size, mtime_ms per chunk, in listing
// order): these tests hold it to a plain reference reading of the rule, on the edge cases and on a mixed
// seeded corpus, through both the in-thread and the worker-thread hashing, and across incremental rescans.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFile, writeFile, appendFile, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { scan, scanFiles, type ChunkLine } from '../../src/executors/scan.js';
import { defaultConfig } from '../../src/ssot/config.js';
import type { ExecContext } from '../../src/executors/types.js';
import { writeCorpus } from '../../bench/corpus.js';
import { tempRepo, type TempRepo } from '../helpers.js';

const CHUNK = 1024; // the smallest chunk_bytes factory.yaml allows, so that 8x is a short line to write

/** The rule, read plainly from the whole file: a chunk ends at the first newline that makes it at least
 * CHUNK bytes long, or at 8x CHUNK, or at the end of the file; an empty file has one empty chunk. */
function reference(body: Buffer, rel: string, size: number, mtime: number): ChunkLine[] {
  const out: ChunkLine[] = [];
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  if (body.length === 0) return [{ path: rel, offset: 0, length: 0, sha256: sha(body), size, mtime_ms: mtime }];
  for (let s = 0; s < body.length; ) {
    const nl = body.indexOf(10, s + CHUNK - 1);
    const end = Math.min(nl === -1 ? Infinity : nl + 1, s + 8 * CHUNK, body.length);
    out.push({ path: rel, offset: s, length: end - s, sha256: sha(body.subarray(s, end)), size, mtime_ms: mtime });
    s = end;
  }
  return out;
}

async function expected(lib: string, rels: string[]): Promise<string> {
  const lines: string[] = [];
  for (const rel of rels) {
    const abs = path.join(lib, rel);
    const st = await stat(abs);
    for (const c of reference(await readFile(abs), rel, st.size, Math.floor(st.mtimeMs))) lines.push(JSON.stringify(c));
  }
  return lines.map((l) => l + '\n').join('');
}

function ctxFor(repo: TempRepo, input: string | string[], output = 'ssot/library_index/scan/1.jsonl'): ExecContext {
  const config = { ...defaultConfig(), libraryRoot: 'library', scan: { chunk_bytes: CHUNK } };
  return { layout: repo.layout, config, card: { id: 'L1_SCAN_000001', lane: 1, prio: 'A', type: 'SCAN', input, output, accept: 'exists:x', failfast: 'never', cost_hint: 'LOW', deps: [] } } as unknown as ExecContext;
}

const EDGE: Record<string, string | Buffer> = {
  'a/empty.txt': '',
  'a/no-final-newline.txt': 'first line\nsecond line without a newline',
  'a/crlf.txt': 'line one\r\nline two\r\n'.repeat(200),
  'a/long-line.txt': `short\n${'x'.repeat(8 * CHUNK * 3 + 17)}\nshort again\n`, // a line of over 24x the chunk size
  'a/newline-at-8x.txt': `${'y'.repeat(8 * CHUNK - 1)}\n${'z'.repeat(10)}\n`,
  'b/공시001.txt': '특수관계인 대여금 결의\n'.repeat(300),
  'b/only-newlines.txt': '\n'.repeat(5000),
};

async function edgeRepo(): Promise<{ repo: TempRepo; lib: string; rels: string[] }> {
  const repo = await tempRepo();
  for (const [rel, body] of Object.entries(EDGE)) await repo.write(path.join('library', rel), body);
  return { repo, lib: path.join(repo.root, 'library'), rels: Object.keys(EDGE).sort() };
}

describe('SCAN chunk index', () => {
  it('cuts the edge cases exactly as the rule says (empty file, no final newline, CRLF, a line over 8x the chunk size, Korean)', async () => {
    const { repo, lib, rels } = await edgeRepo();
    const r = await scan(ctxFor(repo, ['a', 'b']));
    const text = await readFile(path.join(repo.root, 'ssot/library_index/scan/1.jsonl'), 'utf8');
    expect(text).toBe(await expected(lib, rels));
    const long = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChunkLine).filter((c) => c.path === 'a/long-line.txt');
    expect(Math.max(...long.map((c) => c.length))).toBe(8 * CHUNK);
    expect(r.stdout).toContain(`scanned ${rels.length} files (0 unchanged, reused)`);
  });

  it('writes the same bytes as before this rewrite on a mixed seeded corpus, in-thread and in worker threads', async () => {
    const repo = await tempRepo();
    const lib = path.join(repo.root, 'library');
    const files = await writeCorpus(lib, { seed: 7, bytes: 3_000_000, minFile: 2_000, maxFile: 400_000, perDir: 4, longLines: 0.002 });
    const rels = files.map((f) => f.rel);
    // Pin the mtimes: the index records them, and the digest below was taken from the previous implementation.
    for (const [k, rel] of rels.entries()) await utimes(path.join(lib, rel), 1_700_000_000 + k, 1_700_000_000 + k);
    const want = await expected(lib, rels);
    expect(createHash('sha256').update(want).digest('hex')).toBe(PINNED_MIXED);
    for (const threads of [0, 2]) {
      const out = path.join(repo.root, `idx-${threads}.jsonl`);
      await scanFiles({ libRoot: lib, files: rels.map((rel) => ({ rel })), out, chunkBytes: CHUNK, threads });
      expect(await readFile(out, 'utf8'), `threads: ${threads}`).toBe(want);
    }
  });
});

const PINNED_MIXED = 'ad99877b16c5cab0ed157f48f40d21df4a1c9b8a396add8949aae857f6d02d10';

describe('SCAN incremental rescans', () => {
  it('reuses unchanged files and rescans changed, added and removed ones to the same bytes a fresh scan writes', async () => {
    const { repo, lib } = await edgeRepo();
    const ctx = ctxFor(repo, ['a', 'b']);
    await scan(ctx);
    await appendFile(path.join(lib, 'a/crlf.txt'), 'appended\r\n');
    await rm(path.join(lib, 'a/empty.txt'));
    await repo.write('library/a/new.txt', 'a new file\n');
    const r = await scan(ctx);
    const rels = [...Object.keys(EDGE).filter((k) => k !== 'a/empty.txt'), 'a/new.txt'].sort();
    expect(await readFile(path.join(repo.root, 'ssot/library_index/scan/1.jsonl'), 'utf8')).toBe(await expected(lib, rels));
    expect(r.stdout).toContain(`scanned ${rels.length} files (${rels.length - 2} unchanged, reused)`);
  });

  it('reads nothing again when nothing changed, and the index keeps its bytes', async () => {
    const { repo } = await edgeRepo();
    const ctx = ctxFor(repo, ['a', 'b']);
    await scan(ctx);
    const file = path.join(repo.root, 'ssot/library_index/scan/1.jsonl');
    const before = await readFile(file, 'utf8');
    const r = await scan(ctx);
    expect(r.stdout).toMatch(/\(7 unchanged, reused\), \d+ chunks, 0 bytes read/);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('a file touched with the same size is read again (its mtime changed)', async () => {
    const { repo, lib } = await edgeRepo();
    const ctx = ctxFor(repo, ['a', 'b']);
    await scan(ctx);
    await writeFile(path.join(lib, 'a/no-final-newline.txt'), 'FIRST LINE\nsecond line without a newline');
    await utimes(path.join(lib, 'a/no-final-newline.txt'), 1_600_000_000, 1_600_000_000);
    const r = await scan(ctx);
    expect(r.stdout).toContain('(6 unchanged, reused)');
    expect(await readFile(path.join(repo.root, 'ssot/library_index/scan/1.jsonl'), 'utf8')).toBe(await expected(lib, Object.keys(EDGE).sort()));
  });

  it('ignores a previous index it cannot read (garbage, another format) and scans everything', async () => {
    const { repo, lib, rels } = await edgeRepo();
    await repo.write('ssot/library_index/scan/1.jsonl', 'not json\n{"path":"a/crlf.txt"}\n');
    const r = await scan(ctxFor(repo, ['a', 'b']));
    expect(r.stdout).toContain('(0 unchanged, reused)');
    expect(await readFile(path.join(repo.root, 'ssot/library_index/scan/1.jsonl'), 'utf8')).toBe(await expected(lib, rels));
  });
});

describe('SCAN while the library changes under it', () => {
  it('a file that grows between listing and reading is indexed as it was listed, and read again next time', async () => {
    const { repo, lib } = await edgeRepo();
    const rel = 'a/crlf.txt';
    const st = await stat(path.join(lib, rel));
    const listed = { rel, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
    const before = await readFile(path.join(lib, rel));
    await appendFile(path.join(lib, rel), 'written after the listing\n');
    await utimes(path.join(lib, rel), 1_600_000_000, 1_600_000_000);
    const out = path.join(repo.root, 'idx.jsonl');
    await scanFiles({ libRoot: lib, files: [listed], out, chunkBytes: CHUNK, threads: 0 });
    const want = reference(before, rel, st.size, Math.floor(st.mtimeMs)).map((c) => JSON.stringify(c) + '\n').join('');
    expect(await readFile(out, 'utf8')).toBe(want);
    const again = await scanFiles({ libRoot: lib, files: [{ rel }], out, chunkBytes: CHUNK, threads: 0 });
    expect(again.reused).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(await expected(lib, [rel]));
  });

  it('a file that shrinks or vanishes between listing and reading is not indexed past what is there', async () => {
    const { repo, lib } = await edgeRepo();
    const listed = await Promise.all(['a/crlf.txt', 'b/only-newlines.txt'].map(async (rel) => {
      const st = await stat(path.join(lib, rel));
      return { rel, size: st.size, mtimeMs: Math.floor(st.mtimeMs) };
    }));
    await writeFile(path.join(lib, 'a/crlf.txt'), 'short now\r\n');
    await rm(path.join(lib, 'b/only-newlines.txt'));
    const out = path.join(repo.root, 'idx.jsonl');
    for (const threads of [0, 1]) {
      const r = await scanFiles({ libRoot: lib, files: listed, out, chunkBytes: CHUNK, threads });
      expect(r.vanished).toEqual(['b/only-newlines.txt']);
      const lines = (await readFile(out, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as ChunkLine);
      expect(lines.map((c) => [c.path, c.offset, c.length])).toEqual([['a/crlf.txt', 0, 11]]);
      // The size listed is kept: it no longer matches the file, so the next scan reads it again.
      expect(lines[0]!.size).toBe(listed[0]!.size);
    }
  });
});
