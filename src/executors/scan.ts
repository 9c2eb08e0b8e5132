// SCAN: the Layer-1 library index. Lists the files under the card's input, cuts each into chunks at line
// boundaries (~chunk_bytes each), and writes one line per chunk: path, offset, length, sha256, plus the
// file's size and mtime, so that the next scan copies the lines of files that did not change.
// Memory does not grow with the library's bytes: per file only its name, size, mtime and where its lines sit
// in the previous index are held; the previous index is streamed, and file contents pass through one reused
// buffer per thread. Many bytes to hash (256 MiB or more) → worker threads, one per core.
import { open, type FileHandle } from 'node:fs/promises';
import { readdirSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { PathError } from '../contracts/errors.js';
import { writeStreamAtomic } from '../ssot/atomic.js';
import { repoPathProblem, resolveInRepo, normalizeRepoPath } from '../ssot/paths.js';
import { LocalHasher, WorkerHasher, type Hasher, type Spans } from './scan-chunks.js';
import { emptyResult, type ExecContext, type ExecResult } from './types.js';

export interface ChunkLine {
  path: string;
  offset: number;
  length: number;
  sha256: string;
  size: number;
  mtime_ms: number;
}

/** A library file, with its size and mtime when listing already stat'ed it (a path named in the input). */
export interface ListedFile {
  rel: string;
  size?: number;
  mtimeMs?: number;
}

/** Below this many bytes to hash, worker start-up costs more than the threads save. Measured through `g7 run`
 * (bench:scan) on cards of 40 files: starting two workers cost a card ~200 ms, as long as hashing 90 MB in
 * this thread, so a card of 20-40 MB was 5x slower with threads than without; a whole library still gets them. */
const THREADS_FROM_BYTES = 256 * 2 ** 20;

// Listing, stats and the read of the previous index use the synchronous calls: a thread-pool round trip per
// call cost more than the call itself. The event loop gets a turn every YIELD_EVERY calls.
const YIELD_EVERY = 1024;
let sinceYield = 0;
const breathe = async () => {
  if (++sinceYield % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
};

async function listFiles(root: string, rel: string, out: ListedFile[], known?: { isFile(): boolean; isDirectory(): boolean }): Promise<void> {
  await breathe();
  const abs = path.join(root, rel);
  let kind = known;
  if (!kind || (!kind.isFile() && !kind.isDirectory())) {
    // A path named in the input, a symlink or an unknown entry type: this stat is the file's one stat.
    const st = statSync(abs);
    if (st.isFile()) {
      out.push({ rel, size: st.size, mtimeMs: Math.floor(st.mtimeMs) });
      return;
    }
    kind = st;
  }
  if (kind.isFile()) {
    out.push({ rel });
    return;
  }
  if (!kind.isDirectory()) return;
  const entries = readdirSync(abs, { withFileTypes: true }).filter((e) => !e.name.startsWith('.'));
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) await listFiles(root, rel ? `${rel}/${e.name}` : e.name, out, e.isSymbolicLink() ? undefined : e);
}

/** Byte ranges of the previous index that can be copied as they are, per file; `identical` when the whole
 * previous index is exactly what this scan would write. */
interface Reuse {
  start: Float64Array;
  end: Float64Array;
  lines: Uint32Array;
  identical: boolean;
}

/**
 * Streams the previous index (our own output: one JSON line per chunk, grouped by file) and finds, for each
 * listed file, its lines when they were written for the same size and mtime. Lines of one file share the
 * `{"path":…,` head and the `,"size":…,"mtime_ms":…}` tail, so only a file's first line is parsed. The bytes
 * are looked at as latin1 text: one character per byte, so string positions are file offsets.
 */
async function findReusable(indexFile: string, files: ListedFile[], sizes: Float64Array, mtimes: Float64Array): Promise<Reuse> {
  const n = files.length;
  const reuse: Reuse = { start: new Float64Array(n).fill(-1), end: new Float64Array(n).fill(-1), lines: new Uint32Array(n), identical: true };
  let fd: number;
  try {
    fd = openSync(indexFile, 'r');
  } catch {
    reuse.identical = false;
    return reuse;
  }
  const position = new Map<string, number>();
  files.forEach((f, i) => position.has(f.rel) || position.set(f.rel, i));
  const claimed = new Uint8Array(n);
  let expected = 0; // the file the next group must be for, for the index to be identical
  let group: { file: number; head: string; tail: string; start: number; end: number; lines: number; good: boolean } | undefined;
  const close = () => {
    if (group && group.good && group.file >= 0) {
      reuse.start[group.file] = group.start;
      reuse.end[group.file] = group.end;
      reuse.lines[group.file] = group.lines;
    } else if (group) reuse.identical = false;
    group = undefined;
  };
  const onLine = (buf: Buffer, text: string, a: number, b: number, at: number) => {
    if (group && b - a >= group.head.length + group.tail.length && text.startsWith(group.head, a)) {
      if (!text.endsWith(group.tail, b)) group.good = false;
      group.end = at + (b - a) + 1;
      group.lines++;
      return;
    }
    close();
    let c: Partial<ChunkLine>;
    try {
      c = JSON.parse(buf.toString('utf8', a, b)) as Partial<ChunkLine>;
    } catch {
      reuse.identical = false;
      return;
    }
    if (typeof c.path !== 'string' || c.offset !== 0 || typeof c.size !== 'number' || typeof c.mtime_ms !== 'number') {
      reuse.identical = false;
      return;
    }
    const head = Buffer.from(`{"path":${JSON.stringify(c.path)},`).toString('latin1');
    const tail = `,"size":${c.size},"mtime_ms":${c.mtime_ms}}`;
    const i = position.get(c.path);
    const usable = i !== undefined && !claimed[i];
    if (usable) claimed[i] = 1;
    if (!usable || i !== expected) reuse.identical = false;
    if (usable) expected = i + 1;
    const good = usable && sizes[i] === c.size && mtimes[i] === c.mtime_ms && text.startsWith(head, a) && text.endsWith(tail, b);
    group = { file: usable ? i : -1, head, tail, start: at, end: at + (b - a) + 1, lines: 1, good };
  };
  try {
    let buf = Buffer.allocUnsafe(1 << 18); // small enough for its latin1 text to be an ordinary V8 string
    let have = 0; // bytes in buf not yet consumed, from its start
    let base = 0; // file offset of buf[0]
    for (;;) {
      if (have === buf.length) buf = Buffer.concat([buf, Buffer.allocUnsafe(buf.length)]); // one line longer than the buffer
      await breathe();
      const bytesRead = readSync(fd, buf, have, buf.length - have, base + have);
      if (bytesRead === 0) break;
      const valid = have + bytesRead;
      const text = buf.toString('latin1', 0, valid);
      let a = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', a)) {
        onLine(buf, text, a, nl, base + a);
        a = nl + 1;
      }
      buf.copy(buf, 0, a, valid);
      have = valid - a;
      base += a;
    }
    if (have > 0) reuse.identical = false; // a torn last line: not ours to copy
  } finally {
    closeSync(fd);
  }
  close();
  if (expected !== n) reuse.identical = false;
  for (let i = 0; i < n && reuse.identical; i++) if (reuse.start[i]! < 0) reuse.identical = false;
  return reuse;
}

export interface ScanSummary {
  files: number;
  reused: number;
  chunks: number;
  bytes: number;
  /** Listed, but gone when their turn came: left out of the index. */
  vanished: string[];
  /** False when the previous index was already exactly this one, and was left alone. */
  written: boolean;
}

/**
 * Indexes `files` (in this order) into `out`, reusing the lines of the previous `out` for files whose size and
 * mtime are unchanged. `threads`: worker threads for hashing (0: this thread); by default one per core when
 * there is enough to hash.
 */
export async function scanFiles(opts: { libRoot: string; files: ListedFile[]; out: string; chunkBytes: number; threads?: number }): Promise<ScanSummary> {
  const { files, libRoot, chunkBytes } = opts;
  const n = files.length;
  const sizes = new Float64Array(n).fill(-1);
  const mtimes = new Float64Array(n);
  let toHash = 0;
  for (let i = 0; i < n; i++) {
    const f = files[i]!;
    if (f.size !== undefined && f.mtimeMs !== undefined) [sizes[i], mtimes[i]] = [f.size, f.mtimeMs];
    else {
      await breathe();
      const st = statSync(path.join(libRoot, f.rel), { throwIfNoEntry: false });
      if (st) [sizes[i], mtimes[i]] = [st.size, Math.floor(st.mtimeMs)];
    }
  }
  const reuse = await findReusable(opts.out, files, sizes, mtimes);
  const summary: ScanSummary = { files: n, reused: 0, chunks: 0, bytes: 0, vanished: [], written: !reuse.identical };
  for (let i = 0; i < n; i++) if (reuse.start[i]! < 0 && sizes[i]! >= 0) toHash += sizes[i]!;
  const threads = opts.threads ?? (toHash >= THREADS_FROM_BYTES ? Math.min(availableParallelism(), n) : 0);
  if (reuse.identical) {
    summary.reused = n;
    for (let i = 0; i < n; i++) summary.chunks += reuse.lines[i]!;
    return summary;
  }
  const hasher: Hasher = threads > 0 ? new WorkerHasher(threads) : new LocalHasher();
  const jobs: (Promise<Spans> | undefined)[] = new Array(n);
  const window = Math.max(4 * threads, 1); // files hashed ahead of the writer: bounds what is held
  let submitted = 0;
  const submitAhead = (upTo: number) => {
    for (; submitted < n && submitted <= upTo; submitted++) {
      const i = submitted;
      if (reuse.start[i]! < 0 && sizes[i]! >= 0) {
        jobs[i] = hasher.hash(path.join(libRoot, files[i]!.rel), sizes[i]!, chunkBytes);
        jobs[i]!.catch(() => {}); // awaited in order below; an early failure must not go unhandled meanwhile
      }
    }
  };
  let previous: FileHandle | undefined;
  try {
    await writeStreamAtomic(opts.out, async (write) => {
      const copyBuf = Buffer.allocUnsafe(1 << 20);
      const copy = async (from: number, to: number) => {
        previous ??= await open(opts.out, 'r');
        for (let at = from; at < to; ) {
          const { bytesRead } = await previous.read(copyBuf, 0, Math.min(copyBuf.length, to - at), at);
          if (bytesRead === 0) throw new Error(`the previous index ${opts.out} shrank while it was read`);
          await write(copyBuf.subarray(0, bytesRead));
          at += bytesRead;
        }
      };
      for (let i = 0; i < n; i++) {
        submitAhead(i + window);
        const rel = files[i]!.rel;
        if (reuse.start[i]! >= 0) {
          // Neighbours reused too sit next to each other in the previous index: copy them in one go.
          let j = i;
          while (j + 1 < n && reuse.start[j + 1] === reuse.end[j]) j++;
          for (let k = i; k <= j; k++) summary.chunks += reuse.lines[k]!;
          summary.reused += j - i + 1;
          await copy(reuse.start[i]!, reuse.end[j]!);
          i = j;
          continue;
        }
        const spans = sizes[i]! < 0 ? undefined : await jobs[i]!.catch((err: NodeJS.ErrnoException) => unreadable(rel, err));
        jobs[i] = undefined;
        if (!spans || spans.vanished) {
          summary.vanished.push(rel);
          continue;
        }
        summary.bytes += sizes[i]!;
        summary.chunks += spans.offsets.length;
        const head = `{"path":${JSON.stringify(rel)},"offset":`;
        const tail = `,"size":${sizes[i]},"mtime_ms":${mtimes[i]}}\n`;
        let text = '';
        for (let k = 0; k < spans.offsets.length; k++) text += `${head}${spans.offsets[k]},"length":${spans.lengths[k]},"sha256":"${spans.sha256[k]}"${tail}`;
        await write(text);
      }
    });
  } finally {
    await previous?.close();
    await hasher.close();
  }
  return summary;
}

function unreadable(rel: string, err: NodeJS.ErrnoException): never {
  throw new PathError([{ file: rel, field: 'input', rule: 'scan.unreadable', message: `cannot read library file "${rel}": ${err.code ?? err.message}`, hint: 'check its permissions' }]);
}

export async function scan(ctx: ExecContext): Promise<ExecResult> {
  const libRoot = path.resolve(ctx.layout.repoRoot, ctx.config.libraryRoot);
  const inputs = Array.isArray(ctx.card.input) ? ctx.card.input : [ctx.card.input];
  const files: ListedFile[] = [];
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
  const s = await scanFiles({ libRoot, files, out: resolveInRepo(ctx.layout.repoRoot, ctx.card.output), chunkBytes: ctx.config.scan.chunk_bytes });
  const r = emptyResult();
  r.stdout = `scanned ${s.files} files (${s.reused} unchanged, reused), ${s.chunks} chunks, ${s.bytes} bytes read\n`;
  if (s.vanished.length) r.stdout += `${s.vanished.length} listed file(s) vanished before they were read and are not indexed: ${s.vanished.slice(0, 5).join(', ')}\n`;
  r.outputs = [normalizeRepoPath(ctx.card.output)];
  return r;
}
