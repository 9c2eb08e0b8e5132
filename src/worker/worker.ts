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

export interface WorkerResponse {
  json: unknown;
  provider: string;
  model: string;
  tokens: { in: number; out: number };
  cost_usd: number;
  finish_reason: string;
  duration_ms: number;
  /** Retries the call needed (status and the wait before the next attempt), for the audit log. */
  retries?: { status: number | undefined; waited_ms: number }[];
}

export interface BatchResult {
  done: boolean;
  state: string;
  /** Per request key: the answer, or why that request failed. Results may come back in any order. */
  results: Map<string, WorkerResponse | WorkerError>;
}

export interface Worker {
  readonly provider: string;
  call(req: WorkerRequest): Promise<WorkerResponse>;
  /** Batch mode (half price, answered later), when the provider has one. */
  batch?: {
    submit(reqs: { key: string; req: WorkerRequest }[], displayName: string): Promise<string>;
    poll(name: string, reqs: { key: string; req: WorkerRequest }[]): Promise<BatchResult>;
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
 * A worker failure: always triaged API; `transient` when waiting (quota, 5xx, timeout) may help, with
 * `retryAfter` (ISO time) when the cause says when it clears.
 */
export class WorkerError extends G7Error {
  constructor(message: string, opts: { transient: boolean; hint?: string; retryAfter?: string }) {
    super('API', [{ file: '(worker)', rule: 'worker.error', message, hint: opts.hint }], { transient: opts.transient, summary: message, ...(opts.retryAfter ? { retryAfter: opts.retryAfter } : {}) });
    this.name = 'WorkerError';
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
