// SCAN: the Layer-1 library index. Streams every file under the card's input, cuts it into chunks at
// line boundaries (~chunk_bytes each), and writes one line per chunk: path, offset, length, sha256, plus
// the file's size and mtime so that the next scan reuses the lines of files that did not change.
// Memory does not grow with the library: only the current read buffer and a running hash are held.
import { createReadStream } from 'node:fs';
import { stat, readdir } from 'node:fs/promises';
import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';
import { PathError } from '../contracts/errors.js';
import { writeStreamAtomic } from '../ssot/atomic.js';
import { forEachLine } from '../ssot/jsonl.js';
import { repoPathProblem, resolveInRepo, normalizeRepoPath } from '../ssot/paths.js';
import { emptyResult, type ExecContext, type ExecResult } from './types.js';

export interface ChunkLine {
  path: string;
  offset: number;
  length: number;
  sha256: string;
  size: number;
  mtime_ms: number;
}

/** Chunks of one file, streamed. A line longer than 8× the target is cut anyway, to bound chunk size. */
export async function chunkFile(abs: string, rel: string, chunkBytes: number, size: number, mtimeMs: number, emit: (c: ChunkLine) => Promise<void>): Promise<void> {
  let hash: Hash = createHash('sha256');
  let start = 0;
  let len = 0;
  const hardCap = chunkBytes * 8;
  const cut = async () => {
    await emit({ path: rel, offset: start, length: len, sha256: hash.digest('hex'), size, mtime_ms: mtimeMs });
    start += len;
    len = 0;
    hash = createHash('sha256');
  };
  for await (const buf of createReadStream(abs, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let pos = 0;
    while (pos < buf.length) {
      const room = hardCap - len; // bytes this chunk may still take before a forced cut
      const wanted = Math.max(chunkBytes - len, 1); // bytes it needs before it may end at a newline
      const nl = buf.indexOf(10, Math.min(pos + wanted - 1, buf.length));
      let end: number;
      let full: boolean;
      if (nl !== -1 && nl + 1 - pos <= room) [end, full] = [nl + 1, true];
      else if (buf.length - pos >= room) [end, full] = [pos + room, true];
      else [end, full] = [buf.length, false];
      hash.update(buf.subarray(pos, end));
      len += end - pos;
      pos = end;
      if (full) await cut();
    }
  }
  if (len > 0 || size === 0) await cut();
}

async function listFiles(root: string, rel: string, out: string[]): Promise<void> {
  const abs = path.join(root, rel);
  const st = await stat(abs);
  if (st.isFile()) {
    out.push(rel);
    return;
  }
  const names = (await readdir(abs)).sort();
  for (const n of names) if (!n.startsWith('.')) await listFiles(root, rel ? `${rel}/${n}` : n, out);
}

export async function scan(ctx: ExecContext): Promise<ExecResult> {
  const libRoot = path.resolve(ctx.layout.repoRoot, ctx.config.libraryRoot);
  const inputs = Array.isArray(ctx.card.input) ? ctx.card.input : [ctx.card.input];
  const files: string[] = [];
  for (const raw of inputs) {
    const why = repoPathProblem(raw);
    if (why) throw new PathError([{ file: ctx.card.id, field: 'input', rule: 'scan.path', message: `library path "${raw}" ${why.replace('repository', 'library')}` }]);
    const rel = normalizeRepoPath(raw) === '.' ? '' : normalizeRepoPath(raw);
    try {
      await listFiles(libRoot, rel, files);
    } catch {
      throw new PathError([{ file: ctx.card.id, field: 'input', rule: 'scan.missing', message: `library path "${raw}" does not exist under ${ctx.config.libraryRoot}`, hint: 'check library.root in factory.yaml, or recompile the plan' }]);
    }
  }
  const outAbs = resolveInRepo(ctx.layout.repoRoot, ctx.card.output);

  // Lines of the previous index, by file, to reuse for files whose size and mtime did not change.
  const previous = new Map<string, { size: number; mtime: number; lines: string[] }>();
  try {
    await forEachLine(outAbs, (text) => {
      if (!text.trim()) return;
      const c = JSON.parse(text) as ChunkLine;
      const p = previous.get(c.path) ?? { size: c.size, mtime: c.mtime_ms, lines: [] };
      p.lines.push(text);
      previous.set(c.path, p);
    });
  } catch {
    /* no previous index */
  }

  let reused = 0;
  let chunks = 0;
  let bytes = 0;
  await writeStreamAtomic(outAbs, async (write) => {
    for (const rel of files) {
      const abs = path.join(libRoot, rel);
      const st = await stat(abs);
      const prev = previous.get(rel);
      if (prev && prev.size === st.size && prev.mtime === Math.floor(st.mtimeMs)) {
        for (const l of prev.lines) await write(l + '\n');
        reused++;
        chunks += prev.lines.length;
        continue;
      }
      bytes += st.size;
      await chunkFile(abs, rel, ctx.config.scan.chunk_bytes, st.size, Math.floor(st.mtimeMs), async (c) => {
        chunks++;
        await write(JSON.stringify(c) + '\n');
      });
    }
  });
  const r = emptyResult();
  r.stdout = `scanned ${files.length} files (${reused} unchanged, reused), ${chunks} chunks, ${bytes} bytes read\n`;
  r.outputs = [normalizeRepoPath(ctx.card.output)];
  return r;
}
