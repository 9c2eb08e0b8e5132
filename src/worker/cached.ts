// The call site every worker request goes through: a response cache, so a resumed truck never pays twice
// for an answer already received. The cache lives in the store (ssot/store/cache/, never committed, SPEC
// 3a) and holds answers only: an entry is the answer with who gave it (worker and model), when, and what
// was asked as digests; never the library's text, the skill's text or any file the request carried (those
// are rebuilt from the files they came from, src/executors/rebuild.ts). Its key is the sha256 of what was
// asked (for TAG: the chunk's text and the taxonomy, so a chunk is answered once wherever it appears), the
// worker that answers it (the offline rules, or the model id), the skill's digest and the prompt version: a
// change of any of them asks again. Requests with one key asked at the same time are sent once. A skill text is kept once per digest beside the
// entries (parts/), for the reproduction check. The audit line of a call is the card's to write
// (src/factory/observe.ts): it names the steps the card took after the answer came back.
import path from 'node:path';
import { readFile, readdir, access, writeFile, mkdir, appendFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { writeJsonAtomic, writeFileAtomic } from '../ssot/atomic.js';
import { WorkerError, type TagTask, type Worker, type WorkerRequest, type WorkerResponse, type WorkerTask } from './worker.js';
import { batchLedger } from './batch-ledger.js';
import { batchJobs, type BatchCollected } from './batch-jobs.js';
import { DEFAULT_BATCH_LIMITS, type BatchLimits } from './gemini/batch-limits.js';
import { G7Error } from '../contracts/errors.js';
import { faultPoint } from '../host/faults.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The hash of the whole request, as the cache before the store keyed it (state/cache, read as a legacy fallback). */
export function requestHash(req: WorkerRequest): string {
  return sha(JSON.stringify(req));
}

/** Who answers a request: `offline:rules` or `gemini:<model>`, and the version of the prompt it is sent as. */
export interface WorkerIdentity {
  worker: string;
  prompt: string;
}

export function identityOf(w: Worker, req: WorkerRequest): WorkerIdentity {
  return w.identity?.(req) ?? { worker: w.provider, prompt: '1' };
}

/** The request without its skill (the skill has its own digest in the key). */
export function requestDigest(req: WorkerRequest): string {
  return sha(JSON.stringify({ ...req, skill: undefined }));
}

export function skillDigest(skill: string | undefined): string {
  return sha(skill ?? '');
}

/**
 * What a TAG answer depends on, and nothing else: the chunk's text (not its card, file or offset, which its
 * prompt does not name), the taxonomy and, for a rework, the first attempt's failure.
 */
export function tagDigest(task: TagTask, previousFailure: string | undefined): string {
  return sha(JSON.stringify([sha(task.chunk.text), sha(JSON.stringify(task.taxonomy)), previousFailure ?? null]));
}

/**
 * The cache key: what was asked, the worker (with its model), the skill's digest and the prompt version. A
 * TAG key (g7-cache-3) names the chunk by its text, so identical text anywhere in the library, or the same
 * chunk re-packed into another card, is asked once; other kinds (g7-cache-2) hash the whole request. TAG
 * entries of g7-cache-2 are never found again (their prompt named the chunk's place): asked once more.
 */
export function cacheKey(req: WorkerRequest, id: WorkerIdentity): string {
  if (req.task.kind === 'TAG') return sha(JSON.stringify(['g7-cache-3', 'TAG', tagDigest(req.task, req.previous_failure), id.worker, skillDigest(req.skill), id.prompt]));
  return sha(JSON.stringify(['g7-cache-2', requestDigest(req), id.worker, skillDigest(req.skill), id.prompt]));
}

/** What was asked, with every text the request carried replaced by its sha256 (rebuilt from its files). */
export type AskedTask =
  | { kind: 'TAG'; chunk: { path: string; offset: number; length: number; sha256: string; text_sha256: string }; taxonomy: unknown }
  | { kind: 'STRIKE'; item: unknown; text_sha256: string; sensors: unknown }
  | { kind: 'PATCH'; goal: string; allowed: { create: string[]; modify: string[] }; files: { path: string; sha256: string }[]; forbidden: string[] };

export interface Asked {
  card: string;
  cost_hint: WorkerRequest['cost_hint'];
  task: AskedTask;
  previous_failure?: string | undefined;
}

export function askedOf(req: WorkerRequest): Asked {
  const t: WorkerTask = req.task;
  const task: AskedTask =
    t.kind === 'TAG' ? { kind: 'TAG', chunk: { path: t.chunk.path, offset: t.chunk.offset, length: t.chunk.length, sha256: t.chunk.sha256, text_sha256: sha(t.chunk.text) }, taxonomy: t.taxonomy }
    : t.kind === 'STRIKE' ? { kind: 'STRIKE', item: t.item, text_sha256: sha(t.text), sensors: t.sensors }
    : { kind: 'PATCH', goal: t.goal, allowed: t.allowed, files: t.files.map((f) => ({ path: f.path, sha256: sha(f.content) })), forbidden: t.forbidden };
  return { card: req.card, cost_hint: req.cost_hint, task, ...(req.previous_failure !== undefined ? { previous_failure: req.previous_failure } : {}) };
}

/** A response cache entry (store/cache/KK/KK/<key>.json): the answer, who gave it, and digests of what was asked. */
export interface CacheEntry {
  key: string;
  recorded_at: string;
  worker: string;
  prompt_version: string;
  request_digest: string;
  skill_digest: string;
  request: Asked;
  response: WorkerResponse;
  /** Set when the answer was carried over from the cache before the store (state/cache). */
  migrated_from?: string;
}

/** Where the cache of a factory keeps its files. */
export interface CacheDirs {
  /** store/cache/: the entries, sharded by the key's first two bytes (65,536 folders). */
  dir: string;
  /** state/cache/: the cache before the store, read on a miss and carried over; never changed or deleted. */
  legacy?: string | undefined;
  /** state/batches/: the batch ledger (small, committed: an in-flight job survives a discarded runner). */
  ledger?: string | undefined;
}

/** The answers recorded and not yet on the data branch (src/worker/cache-sync.ts): one key per line. */
export const OUTBOX_FILE = 'outbox.keys';

/** The store is never committed, whatever the repository's own .gitignore says. */
export async function ignoreStore(cacheDir: string): Promise<void> {
  await mkdir(cacheDir, { recursive: true });
  await writeFile(path.join(cacheDir, '.gitignore'), '*\n', { flag: 'wx' }).catch(() => undefined);
}

export function cacheEntryFile(dir: string, key: string): string {
  return path.join(dir, key.slice(0, 2), key.slice(2, 4), `${key}.json`);
}

export function skillPartFile(dir: string, digest: string): string {
  return path.join(dir, 'parts', `${digest}.txt`);
}

/** The entry a request id (the key's first 16 hex digits, as audit records name it) points to. */
export async function cacheEntryById(dir: string, id: string): Promise<CacheEntry | undefined> {
  const shard = path.join(dir, id.slice(0, 2), id.slice(2, 4));
  const name = (await readdir(shard).catch(() => [] as string[])).find((n) => n.startsWith(id) && n.endsWith('.json'));
  if (!name) return undefined;
  return readFile(path.join(shard, name), 'utf8').then((t) => JSON.parse(t) as CacheEntry, () => undefined);
}

/** The skill text an entry was asked with, when it was not empty. */
export async function cachedSkill(dir: string, entry: CacheEntry): Promise<string | undefined> {
  if (entry.skill_digest === skillDigest(undefined)) return undefined;
  return readFile(skillPartFile(dir, entry.skill_digest), 'utf8').catch(() => undefined);
}

/** The model family of an answer, as identities name workers: a batch answer is the same model's. */
const answeredBy = (r: WorkerResponse) => `${r.provider === 'gemini-batch' ? 'gemini' : r.provider}:${r.model}`;

export interface CallOutcome {
  response: WorkerResponse;
  hash: string;
  cached: boolean;
  /**
   * The answer another card asked for (the same chunk text elsewhere in the library): its cost is that
   * card's, so this one counts it as $0.
   */
  reused?: boolean;
}

export type { BatchCollected } from './batch-jobs.js';

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

export function cachedWorker(inner: Worker, where: string | CacheDirs, now: () => string, redact: (s: string) => string = (s) => s, limits?: BatchLimits): CachedWorker {
  const dirs: CacheDirs = typeof where === 'string' ? { dir: where } : where;
  const cacheDir = dirs.dir;
  let paid = 0;
  let ignored = false;
  const keyOf = (req: WorkerRequest) => cacheKey(req, identityOf(inner, req));
  const fileOf = (key: string) => cacheEntryFile(cacheDir, key);
  const isCached = (key: string) => access(fileOf(key)).then(() => true, () => false);
  const ledger = batchLedger(dirs.ledger ?? path.join(cacheDir, 'batches'), dirs.legacy ? path.join(dirs.legacy, 'batches') : undefined);
  const ignore = async () => {
    if (ignored) return;
    await ignoreStore(cacheDir);
    ignored = true;
  };
  /** A paid answer is recorded in the cache before anyone uses it. */
  const record = async (req: WorkerRequest, key: string, response: WorkerResponse, extra: Partial<CacheEntry> = {}) => {
    faultPoint('worker.called');
    await ignore();
    const id = identityOf(inner, req);
    const digest = skillDigest(req.skill);
    if (req.skill !== undefined && !(await access(skillPartFile(cacheDir, digest)).then(() => true, () => false))) await writeFileAtomic(skillPartFile(cacheDir, digest), req.skill);
    const entry: CacheEntry = {
      key, recorded_at: now(), worker: id.worker, prompt_version: id.prompt, request_digest: requestDigest(req), skill_digest: digest,
      request: JSON.parse(redact(JSON.stringify(askedOf(req)))) as Asked, response, ...extra,
    };
    await writeJsonAtomic(fileOf(key), entry);
    // For the next checkpoint to append to the data branch g7/cache (a hosted runner's disk goes with it).
    await appendFile(path.join(cacheDir, OUTBOX_FILE), `${key}\n`);
    faultPoint('worker.cached');
  };
  /** An answer of the cache before the store, when the same worker and model gave it: carried over into the store. */
  const legacyHit = async (req: WorkerRequest, key: string): Promise<WorkerResponse | undefined> => {
    if (!dirs.legacy) return undefined;
    const id = identityOf(inner, req);
    if (id.prompt !== '1') return undefined;
    const h = requestHash(req);
    const old = await readFile(path.join(dirs.legacy, h.slice(0, 2), `${h}.json`), 'utf8').then((t) => JSON.parse(t) as { response?: WorkerResponse }, () => undefined);
    if (!old?.response || answeredBy(old.response) !== id.worker) return undefined;
    await record(req, key, old.response, { migrated_from: h });
    return old.response;
  };
  /** The requests without a recorded answer, once each, in order. */
  const todoOf = async (reqs: WorkerRequest[]) => {
    const todo = new Map<string, WorkerRequest>();
    for (const req of reqs) {
      const key = keyOf(req);
      if (!todo.has(key) && !(await isCached(key)) && !(await legacyHit(req, key))) todo.set(key, req);
    }
    return todo;
  };
  const inFlight = new Map<string, { card: string; outcome: Promise<CallOutcome> }>();
  /** The recorded answer, or the worker's, recorded before it is returned. */
  const askOnce = async (req: WorkerRequest, hash: string): Promise<CallOutcome> => {
    try {
      const hit = JSON.parse(await readFile(fileOf(hash), 'utf8')) as CacheEntry;
      // Another card's answer to the same text: that card's figures already count it.
      return { response: hit.response, hash, cached: true, ...(hit.request?.card !== undefined && hit.request.card !== req.card ? { reused: true } : {}) };
    } catch {
      /* not cached */
    }
    const carried = await legacyHit(req, hash);
    if (carried) return { response: carried, hash, cached: true };
    let response: WorkerResponse;
    try {
      paid++;
      response = await inner.call(req);
    } catch (err) {
      throw err instanceof G7Error ? err : new WorkerError(`worker failed: ${(err as Error).message}`, { transient: true });
    }
    await record(req, hash, response);
    return { response, hash, cached: false };
  };
  const jobs = inner.batch
    ? batchJobs({ batch: inner.batch, ledger, limits: limits ?? DEFAULT_BATCH_LIMITS, now, keyOf, todoOf, isCached, record: (req, key, response) => record(req, key, response), legacyKeyOf: requestHash, paid: (n) => void (paid += n) })
    : undefined;
  return {
    get paidCalls() {
      return paid;
    },
    canBatch: inner.batch !== undefined,
    async uncached(reqs) {
      return (await todoOf(reqs)).size;
    },
    async batchFor(reqs) {
      return jobs ? jobs.batchFor(reqs) : undefined;
    },
    async batchSubmit(reqs, displayName) {
      if (!jobs) throw new WorkerError(`${inner.provider} has no batch mode`, { transient: false });
      return jobs.batchSubmit(reqs, displayName);
    },
    async batchCollect(name, reqs) {
      if (!jobs) throw new WorkerError(`${inner.provider} has no batch mode`, { transient: false });
      return jobs.batchCollect(name, reqs);
    },
    async checkModels(models) {
      return inner.checkModels ? inner.checkModels(models) : { unknown: [], unpriced: [] };
    },
    async call(req) {
      const hash = keyOf(req);
      // The same chunk twice in one card (or in two lanes at once): the second waits for the first's answer.
      const asking = inFlight.get(hash);
      if (asking) {
        const first = await asking.outcome;
        return { response: first.response, hash, cached: true, ...(first.reused || asking.card !== req.card ? { reused: true } : {}) };
      }
      const ask = { card: req.card, outcome: askOnce(req, hash) };
      inFlight.set(hash, ask);
      try {
        return await ask.outcome;
      } finally {
        inFlight.delete(hash);
      }
    },
  };
}
