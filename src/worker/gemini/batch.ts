// Batch mode on @google/genai: submit (inline, or an uploaded JSONL file past the 20 MB inline limit), find a
// job by its display name, and poll: the job's state, then its answers (inline, or a results file downloaded
// with a timeout sized to the file), paired with the submitted requests by key, or by position when the
// service left the keys out and the counts match. Every answer the job returned is priced at the batch rate.
// Poll, file lookup and download are retried like any call; creating a job is retried only when the service
// refused it outright (429 with a delay to wait, 503), so that a job is never created twice; a 429 for a full
// batch queue is not retried here (BatchQueueFull: the caller leaves the job queued until running jobs end).
import type { BatchJob, GenerateContentResponse } from '@google/genai';
import { mkdtemp, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WorkerError, BatchQueueFull, type BatchEnd, type BatchResult, type WorkerRequest, type WorkerResponse } from '../worker.js';
import { classifyApiError } from './errors.js';
import { costUsd } from './budget.js';
import type { GeminiWorker } from './worker.js';

interface Item {
  response?: GenerateContentResponse | undefined;
  error?: { message?: string } | undefined;
  key?: string | undefined;
}

const ENDS: Record<string, BatchEnd> = { JOB_STATE_SUCCEEDED: 'SUCCEEDED', JOB_STATE_FAILED: 'FAILED', JOB_STATE_CANCELLED: 'CANCELLED', JOB_STATE_EXPIRED: 'EXPIRED' };
const LIST_PAGES = 5;

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), 'g7-batch-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Pairs answers with the submitted keys: by the key each answer echoes; when none do and the counts match,
 * by position (the documented order); otherwise not at all, with the reason.
 */
export function pairAnswers(items: Item[], keys: string[]): { pairs: { key: string; item: Item }[] } | { unpaired: string } {
  if (items.every((i) => i.key !== undefined)) return { pairs: items.map((item) => ({ key: item.key!, item })) };
  if (items.some((i) => i.key !== undefined)) return { unpaired: `${items.filter((i) => i.key === undefined).length} of ${items.length} answers carry no key` };
  if (items.length !== keys.length) return { unpaired: `${items.length} answers without keys came back for ${keys.length} requests, so they cannot be paired by position` };
  return { pairs: items.map((item, i) => ({ key: keys[i]!, item })) };
}

export function geminiBatch(w: GeminiWorker) {
  const retrying = <T>(what: string, send: () => Promise<T>) => w.retrying(what, send).then((r) => r.value);

  /** Writes the requests as the Batch API's JSONL ({key, request} per line, REST field names) and uploads it. */
  const uploadRequests = (src: { contents: unknown; config: Record<string, unknown>; metadata: { key: string } }[], displayName: string): Promise<string> =>
    inTempDir(async (dir) => {
      const lines = src.map(({ contents, config, metadata }) => {
        const { systemInstruction, ...generationConfig } = config;
        return JSON.stringify({ key: metadata.key, request: { contents, systemInstruction: { parts: [{ text: systemInstruction }] }, generationConfig } });
      });
      const file = path.join(dir, 'requests.jsonl');
      await writeFile(file, lines.join('\n') + '\n');
      const uploaded = await retrying(`upload ${displayName}`, () => w.ai.files.upload({ file, config: { mimeType: 'jsonl', displayName: `${displayName} requests` } }));
      return uploaded.name!;
    });

  /** Downloads a job's results file (one {key, response | error} per line), with a timeout that grows with its size. */
  const downloadResults = async (fileName: string): Promise<Item[]> => {
    const meta = await retrying(`files.get ${fileName}`, () => w.ai.files.get({ name: fileName }));
    const timeout = w.o.timeoutMs + Math.ceil((Number(meta.sizeBytes ?? 0) / (w.o.downloadBytesPerSecond ?? 1_000_000)) * 1000);
    const text = await inTempDir(async (dir) => {
      const file = path.join(dir, 'results.jsonl');
      await retrying(`download ${fileName}`, () => download(fileName, file, timeout));
      return readFile(file, 'utf8');
    });
    return text.split('\n').filter((l) => l.trim()).map((l) => {
      const o = JSON.parse(l) as { key?: string; response?: GenerateContentResponse; error?: { message?: string } };
      return { response: o.response, error: o.error, key: o.key };
    });
  };

  // The SDK's downloader pipes the body into the file and waits for the file to finish; if the body errors
  // (our timeout aborting it), the file never finishes. A timer of our own makes that a timeout we can retry.
  const download = (name: string, file: string, timeout: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(Object.assign(new Error(`download of ${name} timed out after ${timeout} ms`), { name: 'TimeoutError' })), timeout + 1000);
      w.ai.files.download({ file: name, downloadPath: file, config: { httpOptions: { timeout } } }).then(
        () => (clearTimeout(timer), resolve()),
        (err) => (clearTimeout(timer), reject(err)),
      );
    });

  const itemsOf = async (job: BatchJob): Promise<Item[]> => {
    if (job.dest?.fileName) return downloadResults(job.dest.fileName);
    return (job.dest?.inlinedResponses ?? []).map((r) => ({ response: r.response, error: r.error, key: (r.metadata as Record<string, unknown> | undefined)?.key as string | undefined }));
  };

  return {
    /** One batch job for requests that share a model (a TAG card's); returns the job name. */
    submit: async (reqs: { key: string; req: WorkerRequest }[], displayName: string): Promise<string> => {
      const built = reqs.map(({ req }) => w.request(req));
      const first = built[0]!;
      await w.o.budget.check(built.reduce((a, b) => a + costUsd(w.o.prices, first.model, { in: b.estIn, cached: 0, out: b.maxOut }, true), 0));
      const src = built.map((b, i) => ({ contents: b.contents, config: b.config, metadata: { key: reqs[i]!.key } }));
      const inline = Buffer.byteLength(JSON.stringify(src)) <= (w.o.batchInlineMaxBytes ?? 20_000_000);
      const input = inline ? src : await uploadRequests(src, displayName);
      const attempts = w.o.maxAttempts ?? 5;
      for (let attempt = 1; ; attempt++) {
        try {
          const job = await w.ai.batches.create({ model: first.model, src: input, config: { displayName } });
          return job.name!;
        } catch (err) {
          const c = classifyApiError(err);
          // A 429 that names no per-minute window to wait out (the service sends only a Help link when the
          // model's enqueued-token limit or the cap on jobs at once is reached): it clears as running jobs end.
          if (c.status === 429 && c.retryDelayMs === undefined && c.kind !== 'daily-quota' && c.kind !== 'no-quota')
            throw new BatchQueueFull(`batch ${displayName} refused for now (429: ${c.message}); it is created once running jobs end`);
          // Refused outright (nothing was created): worth another try. Anything else may have created the job;
          // the caller finds it by its display name rather than create a second one.
          const refused = c.status === 429 || c.status === 503;
          if (!refused || c.kind === 'daily-quota' || attempt >= attempts)
            throw new WorkerError(`batch submit failed (${c.status ?? 'no response'}): ${c.message}`, { transient: c.kind === 'retry' || c.kind === 'rate' || c.kind === 'daily-quota', status: c.status });
          await w.clock.sleep(c.retryDelayMs ?? 1000 * attempt);
        }
      }
    },

    size: (req: WorkerRequest) => {
      const b = w.request(req);
      return { model: b.model, tokens: b.estIn };
    },

    find: async (displayName: string): Promise<string | undefined> => {
      const pager = await retrying('batches.list', () => w.ai.batches.list({ config: { pageSize: 100 } }));
      for (let page = 0; page < LIST_PAGES; page++) {
        const hit = pager.page.find((j) => j.displayName === displayName);
        if (hit?.name) return hit.name;
        if (!pager.hasNextPage()) return undefined;
        await retrying('batches.list', () => pager.nextPage());
      }
      return undefined;
    },

    poll: async (name: string, submitted: { key: string; req: WorkerRequest | undefined }[], o: { recordSpend: boolean }): Promise<BatchResult> => {
      const job = await retrying(`batches.get ${name}`, () => w.ai.batches.get({ name }));
      const state = String(job.state ?? 'JOB_STATE_UNSPECIFIED');
      const end = ENDS[state];
      const results = new Map<string, WorkerResponse | WorkerError>();
      const spent = { usd: 0, in: 0, out: 0, items: 0 };
      if (end !== 'SUCCEEDED') return { state, end, results, spent };
      const model = String(job.model ?? '').replace(/^models\//, '');
      const items = await itemsOf(job);
      // Every returned answer was paid for, whether or not it pairs or passes its checks.
      const priced = new Map<Item, { cost: number }>();
      for (const item of items) {
        if (!item.response) continue;
        const b = w.billed(item.response, 0);
        const cost = costUsd(w.o.prices, model, b, true);
        priced.set(item, { cost });
        spent.usd += cost;
        spent.in += b.in;
        spent.out += b.out;
        spent.items++;
      }
      if (o.recordSpend && spent.items) await w.o.budget.record(spent.usd, spent.in, spent.out, spent.items);
      const paired = pairAnswers(items, submitted.map((s) => s.key));
      if ('unpaired' in paired) return { state, end, results, spent, unpaired: paired.unpaired };
      const reqOf = new Map(submitted.map((s) => [s.key, s.req]));
      await w.learn(paired.pairs.flatMap(({ key, item }) => {
        const req = reqOf.get(key);
        return req && item.response ? [{ built: w.request(req), res: item.response }] : [];
      }));
      for (const { key, item } of paired.pairs) {
        const req = reqOf.get(key);
        if (!req) continue; // not one of ours, or a request this run cannot rebuild: paid for (above), not used
        if (item.error || !item.response) {
          results.set(key, new WorkerError(`batch request ${key.slice(0, 12)} failed: ${item.error?.message ?? 'no response'}`, { transient: false }));
          continue;
        }
        try {
          results.set(key, w.answer(req, w.request(req), item.response, priced.get(item)!.cost, true));
        } catch (err) {
          results.set(key, err instanceof WorkerError ? err : new WorkerError((err as Error).message, { transient: false }));
        }
      }
      return { state, end, results, spent };
    },
  };
}
