// The Gemini worker's settings in factory.yaml: thinking budgets per cost hint, the answer's output cap, the
// longest retryDelay worth sleeping, and cached-token prices, as `g7` reads them and hands them to the worker.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/ssot/config.js';
import { pickWorker } from '../../src/cli/settings.js';
import { GeminiWorker } from '../../src/worker/gemini/worker.js';
import { SchemaError } from '../../src/contracts/errors.js';
import { tempRepo } from '../helpers.js';

describe('Gemini settings in factory.yaml', () => {
  it('defaults: thinking off for LOW, 512 for MID, 1024 for HIGH; a 2048-token answer; retryDelay up to 90 s', async () => {
    const repo = await tempRepo();
    const c = await loadConfig(repo.layout);
    expect(c.gemini).toMatchObject({ thinking_budget: { LOW: 0, MID: 512, HIGH: 1024 }, max_output_tokens: 2048 });
    expect(c.limits.max_retry_delay_s).toBe(90);
  });

  it('a partial thinking_budget keeps the other defaults, and the worker gets every setting', async () => {
    const repo = await tempRepo();
    await repo.write('ssot/factory.yaml', 'gemini: { thinking_budget: { HIGH: 4096 }, max_output_tokens: 3000 }\nlimits: { max_retry_delay_s: 30 }\nprices_per_mtok: { gemini-2.5-pro: { in: 1.25, out: 10, cached_in: 0.31 } }\n');
    const c = await loadConfig(repo.layout);
    expect(c.gemini.thinking_budget).toEqual({ LOW: 0, MID: 512, HIGH: 4096 });
    const w = (await pickWorker(c, repo.layout, 'k')) as GeminiWorker;
    expect(w).toBeInstanceOf(GeminiWorker);
    expect(w.o).toMatchObject({ thinkingBudget: { LOW: 0, MID: 512, HIGH: 4096 }, maxOutputTokens: 3000, maxRetryDelayMs: 30_000, prices: { 'gemini-2.5-pro': { cached_in: 0.31 } } });
    expect(w.request({ card: 'L3_STRIKE_000001', cost_hint: 'HIGH', task: { kind: 'STRIKE', item: {}, text: 't', sensors: [] } }).config).toMatchObject({ maxOutputTokens: 3000 + 4096, thinkingConfig: { thinkingBudget: 4096 } });
  });

  it.each([
    ['gemini:\n  thinking_budget: { HIGH: -2 }\n', 2, 'gemini.thinking_budget.HIGH'],
    ['gemini:\n  thinking_budget: { LOWEST: 0 }\n', 2, 'gemini.thinking_budget.LOWEST'],
    ['limits:\n  max_retry_delay_s: 0\n', 2, 'limits.max_retry_delay_s'],
    ['prices_per_mtok:\n  m: { in: 1, out: 1, cached_in: -1 }\n', 2, 'prices_per_mtok.m.cached_in'],
  ])('refuses %j at its line', async (yaml, line, field) => {
    const repo = await tempRepo();
    await repo.write('ssot/factory.yaml', yaml);
    const err = await loadConfig(repo.layout).catch((e) => e);
    expect(err).toBeInstanceOf(SchemaError);
    expect(err.problems[0]).toMatchObject({ line, field });
  });
});
