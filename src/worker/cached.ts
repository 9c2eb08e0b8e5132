// The call site every worker request goes through: a response cache keyed by the hash of the whole
// request, so a resumed truck never pays twice for a response already received. A cache entry keeps the
// request beside the response (secrets replaced), so recorded cases can be replayed with a changed skill
// docstring. The audit line of a call is the card's to write (src/factory/observe.ts): it names the steps
// the card took after the answer came back.
import path from 'node:path';
import { readFile, access } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { writeJsonAtomic } from '../ssot/atomic.js';
import { WorkerError, type Worker, type WorkerRequest, type WorkerResponse } from './worker.js';
import { batchLedger, type LedgerEntry } from './batch-ledger.js';
import { G7Error } from '../contracts/errors.js';
import { faultPoint } from '../host/faults.js';

export function requestHash(req: WorkerRequest): string {
  return createHash('sha256').update(JSON.stringify(req)).digest('hex');
}

/** A response cache file: the request (from this version on) and the response. */
export interface CacheEntry {
  request_hash: string;
  recorded_at: string;
  request?: WorkerRequest;
  response: WorkerResponse;
}

export interface CallOutcome {
  response: WorkerResponse;
  hash: string;
  cached: boolean;
}

export interface BatchCollected {
  done: boolean;
  state: string;
  answered: number;
  failed: number;
  /** The job expired unanswered: submit the requests again. */
  resubmit: boolean;
  /** What this poll paid for answers it could not use (failed checks, not ours): the card's cost includes it. */
  unused: { usd: number; in: number; out: number };
}

/** What a call is about, for its audit record: a one-line summary of the question and the kind of input. */
export interface CallMeta {
  question: string;
  /** e.g. the extension of the library file a chunk comes from: part of the kind of work. */
  inputKind: string;
  /** Characters of the material the worker is asked about. */
  chunkLen: number;
}

export interface CachedWorker {
  call(req: WorkerRequest, meta: CallMeta): Promise<CallOutcome>;
  /** Calls made (not served from the cache) in this process. */
  readonly paidCalls: number;
  /** True when the worker has a batch mode. */
  readonly canBatch: boolean;
  /** How many of these requests have no recorded answer yet. */
  uncached(reqs: WorkerRequest[]): Promise<number>;
  /** The batch job already submitted for exactly the unanswered ones of these requests, if there is one. */
  batchFor(reqs: WorkerRequest[]): Promise<string | undefined>;
  /** Submits the uncached requests as one batch job; returns its name. */
  batchSubmit(reqs: WorkerRequest[], displayName: string): Promise<string>;
  /**
   * Polls a job; when it succeeded, records every answer in the cache (so the card then finds them there).
   * Throws a transient error when the poll fails or the answers cannot be paired (the job stays), and a
   * non-transient one when the job failed or was cancelled.
   */
  batchCollect(name: string, reqs: WorkerRequest[]): Promise<BatchCollected>;
  /** Of these model ids, the ones the service does not know and the ones without a price (none for a worker that cannot tell). */
  checkModels(models: string[]): Promise<{ unknown: string[]; unpriced: string[]; unreachable?: string }>;
}

const NOTHING = { usd: 0, in: 0, out: 0 };

export function cachedWorker(inner: Worker, cacheDir: string, now: () => string, redact: (s: string) => string = (s) => s): CachedWorker {
  let paid = 0;
  const fileOf = (hash: string) => path.join(cacheDir, hash.slice(0, 2), `${hash}.json`);
  const isCached = (hash: string) => access(fileOf(hash)).then(() => true, () => false);
  const ledger = batchLedger(path.join(cacheDir, 'batches'));
  /** A paid answer is recorded in the cache before anyone uses it. */
  const record = async (req: WorkerRequest, hash: string, response: WorkerResponse) => {
    faultPoint('worker.called');
    const entry: CacheEntry = { request_hash: hash, recorded_at: now(), request: JSON.parse(redact(JSON.stringify(req))) as WorkerRequest, response };
    await writeJsonAtomic(fileOf(hash), entry);
    faultPoint('worker.cached');
  };
  /** The requests without a recorded answer, once each, in order. */
  const todoOf = async (reqs: WorkerRequest[]) => {
    const todo = new Map<string, WorkerRequest>();
    for (const req of reqs) {
      const key = requestHash(req);
      if (!todo.has(key) && !(await isCached(key))) todo.set(key, req);
    }
    return todo;
  };
  const jobEnded = (name: string, state: string) =>
    new WorkerError(`batch ${name} ended ${state}; none of its requests were answered`, { transient: false, hint: 'look at the job in AI Studio; `g7 resume` then submits the requests again as a new job' });
  return {
    get paidCalls() {
      return paid;
    },
    canBatch: inner.batch !== undefined,
    async uncached(reqs) {
      return (await todoOf(reqs)).size;
    },
    async batchFor(reqs) {
      const keys = [...(await todoOf(reqs)).keys()];
      if (!inner.batch || keys.length === 0) return undefined;
      const set = ledger.setOf(keys);
      const entry = await ledger.get(reqs[0]!.card, set);
      if (entry?.status === 'PENDING') return entry.name ?? undefined;
      if (entry?.status !== 'SUBMITTING') return undefined;
      // The run that submitted it died before it learned the job's name: look for it on the service.
      const name = await inner.batch.find(entry.display_name);
      if (name) await ledger.put(set, { ...entry, name, status: 'PENDING', updated_at: now() });
      return name;
    },
    async batchSubmit(reqs, displayName) {
      const todo = await todoOf(reqs);
      const keys = [...todo.keys()];
      const set = ledger.setOf(keys);
      const at = now();
      const entry: LedgerEntry = { name: null, display_name: `${displayName} ${set}`, card: reqs[0]!.card, keys, status: 'SUBMITTING', spent: false, submitted_at: at, updated_at: at };
      await ledger.put(set, entry);
      paid += keys.length;
      const name = await inner.batch!.submit([...todo].map(([key, req]) => ({ key, req })), entry.display_name);
      faultPoint('batch.created');
      await ledger.put(set, { ...entry, name, status: 'PENDING', updated_at: now() });
      return name;
    },
    async batchCollect(name, reqs) {
      const found = await ledger.byName(reqs[0]!.card, name);
      const entry = found?.entry;
      const done = (o: Partial<BatchCollected>): BatchCollected => ({ done: true, state: entry?.status ?? '', answered: 0, failed: 0, resubmit: false, unused: NOTHING, ...o });
      if (entry?.status === 'MERGED') return done({});
      if (entry?.status === 'EXPIRED') return done({ resubmit: true });
      if (entry?.status === 'FAILED' || entry?.status === 'CANCELLED') throw jobEnded(name, entry.status);
      const byKey = new Map(reqs.map((r) => [requestHash(r), r]));
      // A job from before the ledger: its keys in the order this card builds them.
      const keys = entry?.keys ?? [...byKey.keys()];
      const r = await inner.batch!.poll(name, keys.map((key) => ({ key, req: byKey.get(key) })), { recordSpend: !entry?.spent });
      if (!r.end) return { ...done({}), done: false, state: r.state };
      let current = entry;
      const update = async (patch: Partial<LedgerEntry>) => {
        if (!found || !current) return;
        current = { ...current, ...patch, updated_at: now() };
        await ledger.put(found.set, current);
      };
      if (r.spent.items && !entry?.spent) await update({ spent: true });
      if (r.unpaired) {
        await update({ spent: true, detail: r.unpaired });
        throw new WorkerError(`batch ${name}: ${r.unpaired}`, { transient: true, hint: 'the job stays in the state and is polled again; if this repeats, a person should look at the job' });
      }
      if (r.end !== 'SUCCEEDED') {
        await update({ status: r.end });
        if (r.end === 'EXPIRED') return done({ state: r.state, resubmit: true });
        throw jobEnded(name, r.end);
      }
      let answered = 0;
      let failed = 0;
      const unused = { ...r.spent };
      for (const key of keys) {
        const got = r.results.get(key);
        if (!got || got instanceof Error) {
          failed++;
          continue;
        }
        if (!(await isCached(key))) await record(byKey.get(key)!, key, got);
        answered++;
        unused.usd -= got.cost_usd;
        unused.in -= got.tokens.in;
        unused.out -= got.tokens.out;
      }
      await update({ status: 'MERGED' });
      // Answers used are counted where the card reads them from the cache; the rest was paid for all the same.
      return done({ state: r.state, answered, failed, unused: entry?.spent ? NOTHING : { usd: Math.max(0, unused.usd), in: unused.in, out: unused.out } });
    },
    async checkModels(models) {
      return inner.checkModels ? inner.checkModels(models) : { unknown: [], unpriced: [] };
    },
    async call(req) {
      const hash = requestHash(req);
      try {
        const hit = JSON.parse(await readFile(fileOf(hash), 'utf8')) as CacheEntry;
        return { response: hit.response, hash, cached: true };
      } catch {
        /* not cached */
      }
      let response: WorkerResponse;
      try {
        paid++;
        response = await inner.call(req);
      } catch (err) {
        throw err instanceof G7Error ? err : new WorkerError(`worker failed: ${(err as Error).message}`, { transient: true });
      }
      await record(req, hash, response);
      return { response, hash, cached: false };
    },
  };
}
