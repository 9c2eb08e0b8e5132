// What an executor is handed and what it returns. Executors never read process.env, never pick a worker
// or a shell themselves, and write their outputs atomically; a failure they can name is thrown as a G7Error
// with its triage class.
import type { WorkCard, WorkPack } from '../contracts/types.gen.js';
import type { Config } from '../ssot/config.js';
import type { Layout } from '../ssot/layout.js';
import type { Shell } from '../host/shell.js';
import type { CachedWorker } from '../worker/cached.js';

export interface ExecContext {
  layout: Layout;
  config: Config;
  card: WorkCard;
  pack: WorkPack | undefined;
  attempt: number;
  /** For the rework attempt: the first attempt's failure, to put in the worker's prompt. */
  previousFailure: string | undefined;
  /** The skill docstring for this card type, if configured. */
  skill: string | undefined;
  worker: CachedWorker;
  shell: Shell;
  timeoutMs: number;
  /** Outputs of the card's deps with the sha256 journaled when they passed (for VERIFY). */
  depOutputs: { card: string; path: string; sha256: string }[];
  log: (line: string) => void;
  now: () => string;
  /** A batch job this card submitted in an earlier run, to collect now. */
  batch: string | undefined;
  /** Replaces secret values: anything an executor writes from a command's output goes through it. */
  redact: (s: string) => string;
}

export interface ExecResult {
  exit: number;
  stdout: string;
  stderr: string;
  /** Repository-relative files this card wrote. */
  outputs: string[];
  tokens: { in: number; out: number };
  cost: number;
  /** Worker calls: request hashes, and whether each came from the cache. */
  calls: { hash: string; cached: boolean }[];
  /** Extra evidence files to keep in the card's folder (name → content). */
  evidence: Record<string, string>;
  /** The change a PATCH card proposed, as a unified diff: kept whole beside the attempt (attempt-N.patch). */
  patch?: string | undefined;
}

export function emptyResult(): ExecResult {
  return { exit: 0, stdout: '', stderr: '', outputs: [], tokens: { in: 0, out: 0 }, cost: 0, calls: [], evidence: {} };
}

/** The kind of input a worker call is about, for its kind of work: a file's extension (`md`), or `none`. */
export function inputKindOf(file: string): string {
  const m = /\.([A-Za-z0-9]{1,8})$/.exec(file);
  return m ? m[1]!.toLowerCase() : 'none';
}

export type Executor = (ctx: ExecContext) => Promise<ExecResult>;

const countedHashes = new WeakMap<ExecResult, Set<string>>();

/** Adds one worker call (from the cache or paid) to a card's result: its hash, tokens and cost. */
export function countCall(r: ExecResult, call: { hash: string; cached: boolean; reused?: boolean | undefined; response: { tokens: { in: number; out: number }; cost_usd: number } }): void {
  // One answer used twice (the same chunk text twice in a card), or paid for by another card: counted once, there.
  const seen = countedHashes.get(r) ?? countedHashes.set(r, new Set()).get(r)!;
  r.calls.push({ hash: call.hash, cached: call.cached });
  if (call.reused || seen.has(call.hash)) return;
  seen.add(call.hash);
  r.tokens.in += call.response.tokens.in;
  r.tokens.out += call.response.tokens.out;
  r.cost += call.response.cost_usd;
}
