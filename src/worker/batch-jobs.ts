// A TAG card's batch submission, as jobs that fit the Batch API's quota: the card's unanswered requests are
// cut into parts within the model's enqueued-token limit (src/worker/gemini/batch-limits.ts), every part is
// written to the ledger (QUEUED) before any job is created, and parts are created while the factory's jobs
// in flight stay within the limit and the job cap. A part the service refuses with 429 (its own queue is
// full) stays QUEUED: the card waits for running jobs, and a later run creates it. Polling merges each
// part's answers into the cache as it ends; the submission is done when every part is. The ledger is what
// makes a part impossible to create twice: a run killed between parts finds the submission there and
// carries on with the parts not yet created (a part killed mid-create is looked up by its display name).
import { WorkerError, BatchQueueFull, type Worker, type WorkerRequest, type WorkerResponse } from './worker.js';
import type { BatchLedger, LedgerEntry } from './batch-ledger.js';
import { QUEUE_FILL, splitByTokens, type BatchLimits } from './gemini/batch-limits.js';
import { faultPoint } from '../host/faults.js';

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

export interface BatchJobsDeps {
  batch: NonNullable<Worker['batch']>;
  ledger: BatchLedger;
  limits: BatchLimits;
  now: () => string;
  keyOf: (req: WorkerRequest) => string;
  /** The requests without a recorded answer, once each, in order, by key. */
  todoOf: (reqs: WorkerRequest[]) => Promise<Map<string, WorkerRequest>>;
  isCached: (key: string) => Promise<boolean>;
  record: (req: WorkerRequest, key: string, response: WorkerResponse) => Promise<void>;
  /** The whole-request hash a job from before the store sent as its key. */
  legacyKeyOf: (req: WorkerRequest) => string;
  /** Counts requests sent in a job (the cached worker's paidCalls). */
  paid: (n: number) => void;
}

const ACTIVE = new Set(['QUEUED', 'SUBMITTING', 'PENDING']);
const NOTHING = { usd: 0, in: 0, out: 0 };
/** The handle a card's submission goes by before any of its jobs has a name. */
const QUEUED_PREFIX = 'queued:';
/** The handle of a card that waits for other cards' jobs asking the same texts (it never sends them twice). */
const WAIT_PREFIX = 'wait:';

type Part = { set: string; entry: LedgerEntry };

export function batchJobs(d: BatchJobsDeps) {
  const { ledger } = d;
  const room = (model: string) => Math.floor(d.limits.enqueuedTokens(model) * QUEUE_FILL);
  const put = (p: Part, patch: Partial<LedgerEntry>) => {
    p.entry = { ...p.entry, ...patch, updated_at: d.now() };
    return ledger.put(p.set, p.entry);
  };
  const jobEnded = (name: string, state: string) =>
    new WorkerError(`batch ${name} ended ${state}; none of its requests were answered`, { transient: false, hint: 'look at the job in AI Studio; `g7 resume` then submits the requests again as a new job' });
  /** A card's parts of one submission, in order (a job from before splitting is a submission of its own). */
  const partsOf = async (card: string, submission: string): Promise<Part[]> =>
    (await ledger.byCard(card)).filter((p) => (p.entry.submission ?? p.set) === submission).sort((a, b) => (a.entry.part ?? 1) - (b.entry.part ?? 1));
  const handleOf = (parts: Part[]) => parts.find((p) => p.entry.name)?.entry.name ?? `${QUEUED_PREFIX}${parts[0]!.entry.submission ?? parts[0]!.set}`;

  /** The other cards whose jobs in flight hold any of these keys. */
  const othersInFlight = async (card: string, keys: string[]) => {
    const wanted = new Set(keys);
    const cards = (await ledger.all()).filter((p) => p.entry.card !== card && ACTIVE.has(p.entry.status) && p.entry.keys.some((k) => wanted.has(k))).map((p) => p.entry.card);
    return [...new Set(cards)].sort();
  };

  /** Jobs in flight across the factory, and the tokens they hold per model, as the ledger knows them. */
  const inFlight = async () => {
    const flying = (await ledger.all()).filter((p) => p.entry.status === 'PENDING' || p.entry.status === 'SUBMITTING');
    const tokens = (model: string) => flying.filter((p) => p.entry.model === model).reduce((s, p) => s + (p.entry.tokens ?? 0), 0);
    return { jobs: flying.length, tokens };
  };

  /**
   * Creates the submission's queued parts, in order, while they fit; stops at the first that does not. A part
   * refused while nothing of ours holds that model's queue is too big for it (the estimate ran under the
   * service's count): it is cut in two, the halves recorded before the part is marked SPLIT.
   */
  const launch = async (parts: Part[], byKey: Map<string, WorkerRequest>) => {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (p.entry.status === 'SUBMITTING') {
        // A run died while creating it: the job may exist under its display name.
        const name = await d.batch.find(p.entry.display_name);
        if (name) {
          await put(p, { name, status: 'PENDING' });
          continue;
        }
        await put(p, { status: 'QUEUED' });
      }
      if (p.entry.status !== 'QUEUED') continue;
      const model = p.entry.model ?? '';
      const flying = await inFlight();
      const held = flying.tokens(model);
      if (flying.jobs >= d.limits.maxJobs || (held > 0 && held + (p.entry.tokens ?? 0) > room(model))) return;
      const reqs = p.entry.keys.map((key) => ({ key, req: byKey.get(key) }));
      if (reqs.some((r) => !r.req)) continue; // a part this run cannot rebuild (the card's chunks changed): left queued
      await put(p, { status: 'SUBMITTING' });
      let name: string;
      try {
        name = await d.batch.submit(reqs as { key: string; req: WorkerRequest }[], p.entry.display_name);
      } catch (err) {
        if (!(err instanceof BatchQueueFull)) throw err;
        // Refused outright (nothing created): the service's queue is full; wait for running jobs.
        await put(p, { status: 'QUEUED', detail: err.message });
        if (held > 0 || p.entry.keys.length < 2) return;
        const halves = [p.entry.keys.slice(0, p.entry.keys.length >> 1), p.entry.keys.slice(p.entry.keys.length >> 1)].map((keys): Part => {
          const set = ledger.setOf(keys);
          const tokens = keys.reduce((sum, k) => sum + d.batch.size(byKey.get(k)!).tokens, 0);
          const { name: _n, detail: _d, ...rest } = p.entry;
          return { set, entry: { ...rest, name: null, display_name: `${p.entry.display_name.slice(0, -p.set.length)}${set}`, keys, tokens, submission: p.entry.submission ?? p.set, status: 'QUEUED', updated_at: d.now() } };
        });
        for (const h of halves) await ledger.put(h.set, h.entry);
        await put(p, { status: 'SPLIT' });
        parts.splice(i + 1, 0, ...halves);
        continue;
      }
      d.paid(reqs.length);
      faultPoint('batch.created');
      await put(p, { name, status: 'PENDING', detail: undefined });
    }
  };

  /** Polls one part; when it has ended, merges its answers into the cache. */
  const collectPart = async (p: Part | undefined, name: string, reqs: WorkerRequest[], byKey: Map<string, WorkerRequest>) => {
    const entry = p?.entry;
    const keys = entry?.keys ?? reqs.map(d.keyOf); // a job from before the ledger: its keys in the order this card builds them
    const r = await d.batch.poll(name, keys.map((key) => ({ key, req: byKey.get(key) })), { recordSpend: !entry?.spent });
    if (!r.end) return { ended: false, state: r.state, answered: 0, failed: 0, unused: NOTHING };
    if (r.spent.items && p && !entry?.spent) await put(p, { spent: true });
    if (r.unpaired) {
      if (p) await put(p, { spent: true, detail: r.unpaired });
      throw new WorkerError(`batch ${name}: ${r.unpaired}`, { transient: true, hint: 'the job stays in the state and is polled again; if this repeats, a person should look at the job' });
    }
    if (r.end !== 'SUCCEEDED') {
      if (p) await put(p, { status: r.end });
      if (r.end === 'EXPIRED') return { ended: true, state: r.state, answered: 0, failed: 0, unused: NOTHING, expired: true };
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
      const req = byKey.get(key)!;
      if (!(await d.isCached(d.keyOf(req)))) await d.record(req, d.keyOf(req), got);
      answered++;
      unused.usd -= got.cost_usd;
      unused.in -= got.tokens.in;
      unused.out -= got.tokens.out;
    }
    if (p) await put(p, { status: 'MERGED' });
    // Answers used are counted where the card reads them from the cache; the rest was paid for all the same.
    return { ended: true, state: r.state, answered, failed, unused: entry?.spent ? NOTHING : { usd: Math.max(0, unused.usd), in: unused.in, out: unused.out } };
  };

  return {
    /** The card's submission in flight that covers these requests' unanswered ones, by its handle. */
    async batchFor(reqs: WorkerRequest[]): Promise<string | undefined> {
      const keys = [...(await d.todoOf(reqs)).keys()];
      if (keys.length === 0) return undefined;
      const card = reqs[0]!.card;
      const mine = (await ledger.byCard(card)).filter((p) => ACTIVE.has(p.entry.status));
      for (const submission of new Set(mine.map((p) => p.entry.submission ?? p.set))) {
        const parts = await partsOf(card, submission);
        const covered = new Set(parts.flatMap((p) => p.entry.keys));
        if (!keys.every((k) => covered.has(k))) continue;
        // A part killed mid-create is found on the service, or created again, by the poll that follows.
        const single = parts.length === 1 && parts[0]!.entry.submission === undefined ? parts[0]! : undefined;
        if (single?.entry.status === 'SUBMITTING') {
          const name = await d.batch.find(single.entry.display_name);
          if (!name) return undefined; // never created: submitted again, as before splitting
          await put(single, { name, status: 'PENDING' });
        }
        return handleOf(parts);
      }
      // The same texts in another card's jobs in flight: this card waits for their answers rather than pay twice.
      const elsewhere = await othersInFlight(card, keys);
      return elsewhere.length ? `${WAIT_PREFIX}${elsewhere.join(',')}` : undefined;
    },

    /** Cuts the unanswered requests into parts that fit, records them all, and creates what fits now; returns the handle. */
    async batchSubmit(reqs: WorkerRequest[], displayName: string): Promise<string> {
      const todo = await d.todoOf(reqs);
      const items = [...todo].map(([key, req]) => ({ key, req, ...d.batch.size(req) }));
      const model = items[0]!.model;
      const cut = splitByTokens(items, room(model));
      const submission = ledger.setOf(items.map((i) => i.key));
      const at = d.now();
      const card = reqs[0]!.card;
      const parts: Part[] = cut.map((part, i) => {
        const keys = part.map((x) => x.key);
        const set = ledger.setOf(keys);
        return {
          set,
          entry: {
            name: null, display_name: `${displayName} ${set}`, card, keys, status: 'QUEUED', spent: false, submitted_at: at, updated_at: at,
            ...(cut.length > 1 ? { submission, part: i + 1, parts: cut.length } : {}), model, tokens: part.reduce((s, x) => s + x.tokens, 0),
          } satisfies LedgerEntry,
        };
      });
      for (const p of parts) await ledger.put(p.set, p.entry);
      await launch(parts, todo);
      return handleOf(parts);
    },

    /** Polls the submission's jobs, merges what ended, and creates queued parts that now fit. */
    async batchCollect(handle: string, reqs: WorkerRequest[]): Promise<BatchCollected> {
      const card = reqs[0]!.card;
      if (handle.startsWith(WAIT_PREFIX)) {
        // Done waiting when no other card's job in flight holds this card's texts; then it submits the rest.
        const keys = [...(await d.todoOf(reqs)).keys()];
        const still = await othersInFlight(card, keys);
        return { done: still.length === 0, state: still.length ? `waiting for the batch jobs of ${still.join(', ')}, which ask the same texts` : 'answered by other cards\' jobs', answered: 0, failed: 0, resubmit: still.length === 0, unused: { ...NOTHING } };
      }
      const found = handle.startsWith(QUEUED_PREFIX) ? undefined : await ledger.byName(card, handle);
      const submission = handle.startsWith(QUEUED_PREFIX) ? handle.slice(QUEUED_PREFIX.length) : found ? (found.entry.submission ?? found.set) : undefined;
      const parts = submission ? await partsOf(card, submission) : [];
      const byKey = new Map(reqs.flatMap((r) => [[d.keyOf(r), r], [d.legacyKeyOf(r), r]] as const));
      const out: BatchCollected = { done: true, state: '', answered: 0, failed: 0, resubmit: false, unused: { ...NOTHING } };
      const add = (r: { answered: number; failed: number; unused: { usd: number; in: number; out: number } }) => {
        out.answered += r.answered;
        out.failed += r.failed;
        out.unused = { usd: out.unused.usd + r.unused.usd, in: out.unused.in + r.unused.in, out: out.unused.out + r.unused.out };
      };
      if (parts.length === 0) {
        // A job no ledger knows (submitted before the ledger): polled by the name the state holds.
        const r = await collectPart(undefined, handle, reqs, byKey);
        add(r);
        return { ...out, done: r.ended, state: r.state, resubmit: 'expired' in r };
      }
      const states: string[] = [];
      for (const p of parts) {
        const s = p.entry.status;
        if (s === 'FAILED' || s === 'CANCELLED') throw jobEnded(p.entry.name ?? handle, s);
        if (s === 'EXPIRED') out.resubmit = true;
        if (s !== 'PENDING' || !p.entry.name) continue;
        const r = await collectPart(p, p.entry.name, reqs, byKey);
        add(r);
        if ('expired' in r) out.resubmit = true;
        states.push(r.state);
      }
      await launch(parts, byKey);
      const waiting = parts.filter((p) => ACTIVE.has(p.entry.status));
      out.done = waiting.length === 0;
      const queued = waiting.filter((p) => p.entry.status === 'QUEUED').length;
      out.state = parts.length === 1 ? (states[0] ?? parts[0]!.entry.status) : `${parts.length - waiting.length} of ${parts.length} jobs done${queued ? `, ${queued} waiting for room in the batch queue` : ''}`;
      return out;
    },
  };
}
