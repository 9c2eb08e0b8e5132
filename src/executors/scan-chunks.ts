// Cutting one library file into chunks and hashing each, in this thread or in worker threads. A chunk ends
// at the first newline that makes it at least `chunkBytes` long, at 8x `chunkBytes` when a line is longer,
// or at the end of the file; an empty file has one empty chunk. Reads go into one buffer per thread, reused
// from file to file and grown to the file's size up to MAX_BUFFER, so hashing allocates nothing per read.
// 256 KiB: what was just read is still in the core's cache when it is hashed (2 MiB read and hashed 10-20%
// slower here).
import { Worker } from 'node:worker_threads';
import { openSync, readSync, closeSync } from 'node:fs';
import { createHash, type Hash } from 'node:crypto';

const MAX_BUFFER = 1 << 18;

/** Chunk offsets, lengths and sha256 of one file, or `vanished` when it was gone by the time it was opened. */
export interface Spans {
  offsets: number[];
  lengths: number[];
  sha256: string[];
  vanished?: boolean;
}

interface ChunkIo {
  openSync: typeof openSync;
  readSync: typeof readSync;
  closeSync: typeof closeSync;
  createHash: (algorithm: string) => Hash;
  maxBuffer: number;
}

const localIo: ChunkIo = { openSync, readSync, closeSync, createHash, maxBuffer: MAX_BUFFER };

/**
 * Chunks the first `size` bytes of a file (its size when it was listed: bytes appended since belong to the
 * next scan, which sees a new mtime). Self-contained, its I/O handed in: worker threads run it from its
 * source text, so it must not use anything else from this module.
 */
export function chunkFileSync(io: ChunkIo, abs: string, size: number, chunkBytes: number, buf: Buffer): { spans: Spans; buf: Buffer } {
  const spans: Spans = { offsets: [], lengths: [], sha256: [] };
  let fd: number;
  try {
    fd = io.openSync(abs, 'r');
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return { spans: { ...spans, vanished: true }, buf };
    throw err;
  }
  try {
    if (size > buf.length && buf.length < io.maxBuffer) buf = Buffer.allocUnsafe(Math.min(Math.max(size, 1 << 16), io.maxBuffer));
    const hardCap = chunkBytes * 8;
    let hash = io.createHash('sha256');
    let start = 0;
    let len = 0;
    const cut = () => {
      spans.offsets.push(start);
      spans.lengths.push(len);
      spans.sha256.push(hash.digest('hex'));
      start += len;
      len = 0;
      hash = io.createHash('sha256');
    };
    for (let read = 0; read < size; ) {
      const n = io.readSync(fd, buf, 0, Math.min(buf.length, size - read), read);
      if (n === 0) break; // shrank since it was listed
      read += n;
      const data = n === buf.length ? buf : buf.subarray(0, n);
      for (let pos = 0; pos < n; ) {
        const room = hardCap - len; // bytes this chunk may still take before a forced cut
        const from = pos + Math.max(chunkBytes - len, 1) - 1; // the first newline that may end it
        const limit = Math.min(n, pos + room);
        const nl = from < limit ? data.indexOf(10, from) : -1;
        let end: number;
        let full = true;
        if (nl !== -1 && nl < limit) end = nl + 1;
        else if (n - pos >= room) end = pos + room;
        else {
          end = n;
          full = false;
        }
        hash.update(data.subarray(pos, end));
        len += end - pos;
        pos = end;
        if (full) cut();
      }
    }
    if (len > 0 || size === 0) cut();
  } finally {
    io.closeSync(fd);
  }
  return { spans, buf };
}

/** Hashes files in this thread; for a few small files a worker's start-up costs more than it saves. */
export class LocalHasher {
  private buf: Buffer = Buffer.alloc(0);
  hash(abs: string, size: number, chunkBytes: number): Promise<Spans> {
    const r = chunkFileSync(localIo, abs, size, chunkBytes, this.buf);
    this.buf = r.buf;
    return Promise.resolve(r.spans);
  }
  async close(): Promise<void> {}
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { openSync, readSync, closeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const chunkFileSync = ${chunkFileSync.toString()};
const io = { openSync, readSync, closeSync, createHash, maxBuffer: ${MAX_BUFFER} };
let buf = Buffer.alloc(0);
parentPort.on('message', (job) => {
  try {
    const r = chunkFileSync(io, job.abs, job.size, job.chunkBytes, buf);
    buf = r.buf;
    parentPort.postMessage({ id: job.id, spans: r.spans });
  } catch (err) {
    parentPort.postMessage({ id: job.id, error: { code: err.code, message: String(err.message) } });
  }
});`;

/** Hashes files in worker threads, one file per message, each thread with its own reused buffer. */
export class WorkerHasher {
  private readonly workers: { worker: Worker; inFlight: number }[] = [];
  private readonly waiting = new Map<number, { resolve: (s: Spans) => void; reject: (e: Error) => void; slot: { inFlight: number } }>();
  private nextId = 0;

  constructor(threads: number) {
    for (let k = 0; k < threads; k++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      const slot = { worker, inFlight: 0 };
      worker.on('message', (m: { id: number; spans?: Spans; error?: { code?: string; message: string } }) => {
        const w = this.waiting.get(m.id)!;
        this.waiting.delete(m.id);
        w.slot.inFlight--;
        if (m.spans) w.resolve(m.spans);
        else w.reject(Object.assign(new Error(m.error!.message), { code: m.error!.code }));
      });
      worker.on('error', (err) => {
        for (const [id, w] of this.waiting) if (w.slot === slot) (this.waiting.delete(id), w.reject(err));
      });
      this.workers.push(slot);
    }
  }

  hash(abs: string, size: number, chunkBytes: number): Promise<Spans> {
    const slot = this.workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
    const id = this.nextId++;
    slot.inFlight++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject, slot });
      slot.worker.postMessage({ id, abs, size, chunkBytes });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

export type Hasher = LocalHasher | WorkerHasher;
