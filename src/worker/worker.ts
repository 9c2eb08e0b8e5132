// The worker: one request in, structured JSON out. It touches no files and remembers nothing; the
// orchestrator builds requests from files and owns what happens to the answer.
import { G7Error } from '../contracts/errors.js';

export type CostHint = 'LOW' | 'MID' | 'HIGH';

export interface TagTask {
  kind: 'TAG';
  chunk: { path: string; offset: number; length: number; sha256: string; text: string };
  taxonomy: Taxonomy;
}
export interface StrikeTask {
  kind: 'STRIKE';
  item: unknown;
  text: string;
  sensors: unknown;
}
export interface PatchTask {
  kind: 'PATCH';
  goal: string;
  allowed: { create: string[]; modify: string[] };
  files: { path: string; content: string }[];
  forbidden: string[];
}
export type WorkerTask = TagTask | StrikeTask | PatchTask;

export interface WorkerRequest {
  card: string;
  cost_hint: CostHint;
  task: WorkerTask;
  /** The skill docstring for this kind of work, with its Guide and Caveats sections. */
  skill?: string | undefined;
  /** For a rework attempt: what went wrong the first time. */
  previous_failure?: string | undefined;
}

/** The card types whose executors call the worker. */
export const MODEL_CARD_TYPES: ReadonlySet<string> = new Set(['TAG', 'STRIKE', 'PATCH']);

export interface WorkerResponse {
  json: unknown;
  provider: string;
  model: string;
  /** Billed tokens: `in` is the prompt (its cached part included), `out` the answer plus the thinking. */
  tokens: { in: number; out: number };
  /** The service's own counts, as it reported them. */
  usage?: { prompt: number; cached: number; candidates: number; thoughts: number } | undefined;
  cost_usd: number;
  finish_reason: string;
  duration_ms: number;
  /** Retries the call needed (status and the wait before the next attempt), for the audit log. */
  retries?: { status: number | undefined; waited_ms: number }[];
}

/** How a batch job ended, when it has. */
export type BatchEnd = 'SUCCEEDED' | 'FAILED' | 'CANCELLED' | 'EXPIRED';

export interface BatchResult {
  /** The job's state as the service names it. */
  state: string;
  /** Set once the job is over. */
  end?: BatchEnd | undefined;
  /** Per request key: the answer, or why that request failed. Results may come back in any order. */
  results: Map<string, WorkerResponse | WorkerError>;
  /** What every answer the job returned cost, paired or not (already added to the budget when asked to). */
  spent: { usd: number; in: number; out: number; items: number };
  /** Set when the answers could not be paired with the requests: why. */
  unpaired?: string | undefined;
}

export interface Worker {
  readonly provider: string;
  call(req: WorkerRequest): Promise<WorkerResponse>;
  /**
   * Who would answer this request (`offline:rules`, `gemini:<model>`) and the version of the prompt it is
   * sent as: part of the response cache's key, so a key set later, another model or a new prompt asks again.
   */
  identity?(req: WorkerRequest): { worker: string; prompt: string };
  /** Of these model ids, the ones the service does not know and the ones without a price (checked before a truck departs). */
  checkModels?(models: string[]): Promise<{ unknown: string[]; unpriced: string[]; unreachable?: string }>;
  /** Batch mode (cheaper, answered later), when the provider has one. */
  batch?: {
    /** Creates one job; throws BatchQueueFull when the service refused it for a full queue (nothing was created). */
    submit(reqs: { key: string; req: WorkerRequest }[], displayName: string): Promise<string>;
    /** The model a request goes to and its estimated input tokens: what it holds in the batch queue. */
    size(req: WorkerRequest): { model: string; tokens: number };
    /** The newest job with this display name, if the service has one (to adopt a job whose name was never recorded). */
    find(displayName: string): Promise<string | undefined>;
    /**
     * Polls a job. `submitted` is the job's requests in the order they were sent (`req` missing for one this
     * run cannot rebuild); answers are paired by key, or by position when the service left the keys out.
     */
    poll(name: string, submitted: { key: string; req: WorkerRequest | undefined }[], o: { recordSpend: boolean }): Promise<BatchResult>;
  };
}

/** A card whose requests went into a batch job: not a failure, the truck waits for the job (RECOVERABLE). */
export class BatchPending extends G7Error {
  constructor(readonly batchName: string, message: string) {
    super('API', [{ file: '(worker)', rule: 'worker.batch-pending', message }], { transient: true, summary: message });
    this.name = 'BatchPending';
  }
}

/**
 * A batch job the service refused to create because the project's batch queue is full (429: the model's
 * enqueued-token limit, or the cap on jobs at once). Nothing was created; it fits once running jobs end.
 */
export class BatchQueueFull extends G7Error {
  constructor(message: string) {
    super('API', [{ file: '(worker)', rule: 'worker.batch-queue-full', message }], { transient: true, summary: message });
    this.name = 'BatchQueueFull';
  }
}

/**
 * A worker failure: always triaged API; `transient` when waiting (quota, 5xx, timeout) may help, with
 * `retryAfter` (ISO time) when the cause says when it clears.
 */
export class WorkerError extends G7Error {
  /** The HTTP status the service answered with, when it did. */
  readonly status: number | undefined;
  constructor(message: string, opts: { transient: boolean; hint?: string | undefined; retryAfter?: string | undefined; status?: number | undefined }) {
    super('API', [{ file: '(worker)', rule: 'worker.error', message, hint: opts.hint }], { transient: opts.transient, summary: message, ...(opts.retryAfter ? { retryAfter: opts.retryAfter } : {}) });
    this.name = 'WorkerError';
    this.status = opts.status;
  }
}

export interface TaxonomyTag {
  name: string;
  keywords?: string[];
  regex?: string[];
  strike?: boolean;
}
export interface Taxonomy {
  tags: TaxonomyTag[];
}
