// The batch ledger: one small file per batch job in state/batches/ (committed with the state: a job in flight
// must survive a discarded runner; before the store it was state/cache/batches/, still read), written before the job is created
// and updated as it moves on. It is what makes a job impossible to pay for twice: a run that crashed between
// creating a job and recording it in the state, or a state that lost the job, finds it here (or, if the
// crash came before the job's name was known, on the service by its display name). It also keeps the keys in
// the order they were sent, so that answers the service returns without their keys can be paired by position.
import path from 'node:path';
import { readFile, readdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { writeJsonAtomic } from '../ssot/atomic.js';

/** SPLIT: a queued part the service refused with nothing of ours in flight (too big for its queue), cut in two; never created. */
export type LedgerStatus = 'QUEUED' | 'SUBMITTING' | 'PENDING' | 'MERGED' | 'FAILED' | 'CANCELLED' | 'EXPIRED' | 'SPLIT';

export interface LedgerEntry {
  /** The job's name, once the service has given one. */
  name: string | null;
  /** Unique per card and request set, so a job whose name was never recorded can be found by it. */
  display_name: string;
  card: string;
  /** Request hashes, in the order they were sent. */
  keys: string[];
  status: LedgerStatus;
  /** The job's answers have been added to the night's spend (so a second poll does not count them again). */
  spent: boolean;
  submitted_at: string;
  updated_at: string;
  detail?: string | undefined;
  /** A part of a submission cut to fit the enqueued-token limit: the submission's id, and which part of how many. */
  submission?: string | undefined;
  part?: number | undefined;
  parts?: number | undefined;
  /** The model the job runs on, and the input tokens it holds in that model's batch queue (estimated). */
  model?: string | undefined;
  tokens?: number | undefined;
}

export interface BatchLedger {
  /** A short, stable identity of a request set. */
  setOf(keys: string[]): string;
  get(card: string, set: string): Promise<LedgerEntry | undefined>;
  /** The entry of a job by its name (a card has few), with its request set. */
  byName(card: string, name: string): Promise<{ entry: LedgerEntry; set: string } | undefined>;
  put(set: string, entry: LedgerEntry): Promise<void>;
  /** Every entry of a card, with its request set. */
  byCard(card: string): Promise<{ entry: LedgerEntry; set: string }[]>;
  /** Every entry (what is in flight across the factory is counted from them). */
  all(): Promise<{ entry: LedgerEntry; set: string }[]>;
}

export function batchLedger(dir: string, legacyDir?: string): BatchLedger {
  const fileOf = (card: string, set: string, d = dir) => path.join(d, `${card}.${set}.json`);
  const read = (file: string) => readFile(file, 'utf8').then((t) => JSON.parse(t) as LedgerEntry, () => undefined);
  const dirs = legacyDir ? [dir, legacyDir] : [dir];
  /** A card's entries (or all), the ledger's own before the legacy folder's; one per request set. */
  const entries = async (card: string | undefined) => {
    const out = new Map<string, { entry: LedgerEntry; set: string }>();
    for (const d of dirs) {
      const names = await readdir(d).catch(() => [] as string[]);
      for (const f of names.filter((n) => (card === undefined || n.startsWith(`${card}.`)) && n.endsWith('.json'))) {
        const entry = await read(path.join(d, f));
        if (!entry || out.has(f)) continue;
        out.set(f, { entry, set: f.slice(entry.card.length + 1, -'.json'.length) });
      }
    }
    return [...out.values()];
  };
  return {
    setOf: (keys) => createHash('sha256').update(keys.join('\n')).digest('hex').slice(0, 16),
    async get(card, set) {
      for (const d of dirs) {
        const e = await read(fileOf(card, set, d));
        if (e) return e;
      }
      return undefined;
    },
    async byName(card, name) {
      return (await entries(card)).find((e) => e.entry.name === name);
    },
    byCard: (card) => entries(card),
    all: () => entries(undefined),
    put: (set, entry) => writeJsonAtomic(fileOf(entry.card, set), entry),
  };
}
