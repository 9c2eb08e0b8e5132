// Shared pieces of the worker tests: clocks we drive, a Gemini worker on the fake, distinctive prices.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FakeGemini, Recorded } from '../fakes/gemini-server.js';
import { GeminiWorker, type GeminiOptions } from '../../src/worker/gemini/worker.js';
import { RateLimiter } from '../../src/worker/gemini/limiter.js';
import { Budget } from '../../src/worker/gemini/budget.js';
import type { WorkerRequest } from '../../src/worker/worker.js';

/** Prices no formula guesses by accident; a batch discount that is not 0.5, so "discount" and "multiplier" differ. */
export const PRICES = {
  'gemini-2.5-flash-lite': { in: 0.13, out: 0.47, cached_in: 0.029, batch_discount: 0.37 },
  'gemini-2.5-flash': { in: 0.31, out: 2.53, cached_in: 0.071, batch_discount: 0.37 },
  'gemini-2.5-pro': { in: 1.27, out: 10.09, cached_in: 0.313, batch_discount: 0.37 },
};
export const MODELS = { LOW: 'gemini-2.5-flash-lite', MID: 'gemini-2.5-flash', HIGH: 'gemini-2.5-pro' } as const;

/** The usage the fake reported for a request, and what it costs at PRICES (computed here, not by g7). */
export function billedBy(rec: Recorded, batch = false) {
  const u = ((rec.response as { usageMetadata?: Record<string, number> }).usageMetadata ?? {}) as Record<string, number>;
  return usageCost(rec.model!, u, batch);
}

export function usageCost(model: string, u: Record<string, number | undefined>, batch = false) {
  const p = PRICES[model as keyof typeof PRICES];
  const prompt = u.promptTokenCount ?? 0;
  const cached = u.cachedContentTokenCount ?? 0;
  const out = (u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0);
  const usd = ((prompt - cached) * p.in + cached * p.cached_in + out * p.out) / 1e6;
  return { in: prompt, out, usd: batch ? usd * (1 - p.batch_discount) : usd };
}

/** A clock whose sleeps return at once, advancing time by what they slept. */
export function instantClock() {
  const c = { t: 0, sleeps: [] as number[], now: () => c.t, sleep: async (ms: number) => void (c.sleeps.push(ms), (c.t += ms)) };
  return c;
}

/** A clock that stands still until the test moves it: sleepers wake in order as `advance` passes their time. */
export function manualClock() {
  let t = 0;
  const sleepers: { at: number; wake: () => void }[] = [];
  return {
    now: () => t,
    sleep: (ms: number) => new Promise<void>((wake) => void sleepers.push({ at: t + ms, wake })),
    get sleeping() {
      return sleepers.length;
    },
    async advance(ms: number) {
      const end = t + ms;
      for (;;) {
        sleepers.sort((a, b) => a.at - b.at);
        if (!sleepers[0] || sleepers[0].at > end) break;
        const s = sleepers.shift()!;
        t = s.at;
        s.wake();
        await new Promise((r) => setImmediate(r));
      }
      t = end;
    },
  };
}

/** Waits (in real time) until a condition holds: for things the loopback server does on its own schedule. */
export async function waitFor(cond: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i > 2000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function geminiOn(fake: FakeGemini, over: Partial<GeminiOptions> = {}) {
  const clock = over.clock ?? instantClock();
  return new GeminiWorker({
    apiKey: [...fake.keys][0]!, baseUrl: fake.url, models: MODELS, prices: PRICES, timeoutMs: 5000, maxInputTokens: 4000, maxAttempts: 5,
    limiter: new RateLimiter(1000, 10_000_000, clock), budget: new Budget(await mkdtemp(path.join(tmpdir(), 'g7-budget-')), { per_truck_usd: 5, per_night_usd: 10 }, () => '20261121'),
    clock, random: () => 0.5, wallClock: () => Date.parse('2026-11-21T10:00:00Z'),
    ...over,
  });
}

export const TAG: WorkerRequest = {
  card: 'L2_TAG_000001', cost_hint: 'LOW', skill: '# TAG skill\n## Guide\n- prefer precise tags\n## Caveats\n- never tag headers',
  task: { kind: 'TAG', chunk: { path: 'a.md', offset: 0, length: 40, sha256: '0'.repeat(64), text: 'The board approved a related-party loan.' }, taxonomy: { tags: [{ name: 'risk', keywords: ['related-party'], strike: true }] } },
};

export const tagFor = (n: number, hint: WorkerRequest['cost_hint'] = 'LOW'): WorkerRequest => ({ ...TAG, card: `L2_TAG_${String(n).padStart(6, '0')}`, cost_hint: hint });
