// Money: a price table per model, and budgets per truck and per night checked before every call.
// The night's spend survives across runs in state/spend_YYYYMMDD.json (UTC date).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../../ssot/atomic.js';
import { WorkerError } from '../worker.js';

/** USD per million tokens. */
export interface Price {
  in: number;
  out: number;
  /** Prompt tokens served from the (implicit or explicit) context cache; the full input price when unset. */
  cached_in?: number | undefined;
  /** The Batch API's discount: a batch answer costs (1 - discount) × the online price. */
  batch_discount?: number | undefined;
}

/** Tokens of one answer as billed: `in` counts the prompt (cached part included), `out` the answer and the thinking. */
export interface Billed {
  in: number;
  cached: number;
  out: number;
}

export function costUsd(prices: Record<string, Price>, model: string, t: Billed, batch = false): number {
  const p = prices[model];
  if (!p) return 0;
  const cached = Math.min(t.cached, t.in);
  const full = ((t.in - cached) * p.in + cached * (p.cached_in ?? p.in) + t.out * p.out) / 1e6;
  return batch ? full * (1 - (p.batch_discount ?? 0.5)) : full;
}

export interface Spend {
  usd: number;
  tokens_in: number;
  tokens_out: number;
  calls: number;
}

/** The first instant of the UTC day after `day` (YYYYMMDD): when the night's budget starts afresh. */
export function nextUtcDay(day: string): string {
  return new Date(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8)) + 1)).toISOString();
}

export class Budget {
  truck: Spend = { usd: 0, tokens_in: 0, tokens_out: 0, calls: 0 };
  private night: Spend | undefined;

  constructor(
    private readonly stateDir: string,
    private readonly limits: { per_truck_usd: number; per_night_usd: number },
    private readonly today: () => string,
  ) {}

  private file(): string {
    return path.join(this.stateDir, `spend_${this.today()}.json`);
  }

  async nightSpend(): Promise<Spend> {
    if (!this.night) {
      try {
        this.night = JSON.parse(await readFile(this.file(), 'utf8')) as Spend;
      } catch {
        this.night = { usd: 0, tokens_in: 0, tokens_out: 0, calls: 0 };
      }
    }
    return this.night;
  }

  /** Refuses a call whose estimated cost would cross either budget: the truck stops RECOVERABLE. */
  async check(estimateUsd: number): Promise<void> {
    const night = await this.nightSpend();
    if (this.truck.usd + estimateUsd > this.limits.per_truck_usd)
      throw new WorkerError(`budget: this truck has spent $${this.truck.usd.toFixed(4)} of its $${this.limits.per_truck_usd.toFixed(2)}`, { transient: true, hint: 'raise budget.per_truck_usd in factory.yaml, or let the next truck continue' });
    if (night.usd + estimateUsd > this.limits.per_night_usd)
      throw new WorkerError(`budget: tonight's spend is $${night.usd.toFixed(4)} of $${this.limits.per_night_usd.toFixed(2)}`, { transient: true, hint: 'the factory resumes tomorrow night (UTC), or raise budget.per_night_usd', retryAfter: nextUtcDay(this.today()) });
  }

  /** Adds paid answers (`calls` of them: a batch job's items are recorded at once) to the truck's and the night's spend. */
  async record(usd: number, tokensIn: number, tokensOut: number, calls = 1): Promise<void> {
    const night = await this.nightSpend();
    for (const s of [this.truck, night]) {
      s.usd += usd;
      s.tokens_in += tokensIn;
      s.tokens_out += tokensOut;
      s.calls += calls;
    }
    await writeJsonAtomic(this.file(), night);
  }
}
