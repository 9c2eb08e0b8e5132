// The night's schedule comes from the shipped workflow: its cron, expanded as GitHub fires it, and nothing else.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { REPO } from '../helpers.js';
import { cronTimes, scheduledRuns } from './schedule.js';
import { factoryWorkflow } from '../../src/cli/scaffold.js';
import { nightCron } from '../../src/ssot/night.js';
import { DEFAULT_NIGHT } from '../../src/ssot/night.js';

describe('the night harness reads the schedule from the workflow file', () => {
  it('expands minute and hour fields into UTC times within the span', () => {
    expect(cronTimes('23 15,17,19,21 * * *', '2026-11-20T16:00:00.000Z', '2026-11-21T16:00:00.000Z')).toEqual([
      '2026-11-20T17:23:00.000Z', '2026-11-20T19:23:00.000Z', '2026-11-20T21:23:00.000Z', '2026-11-21T15:23:00.000Z',
    ]);
    expect(cronTimes('5,35 1-3/2 * * *', '2026-11-20T00:00:00.000Z', '2026-11-20T04:00:00.000Z')).toEqual([
      '2026-11-20T01:05:00.000Z', '2026-11-20T01:35:00.000Z', '2026-11-20T03:05:00.000Z', '2026-11-20T03:35:00.000Z',
    ]);
  });

  it('refuses what it cannot play rather than ignore it', () => {
    expect(() => cronTimes('23 15 * * 1-5', '2026-11-20T00:00:00.000Z', '2026-11-21T00:00:00.000Z')).toThrow(/daily schedules only/);
    expect(() => cronTimes('23 25 * * *', '2026-11-20T00:00:00.000Z', '2026-11-21T00:00:00.000Z')).toThrow(/outside 0-23/);
    expect(() => cronTimes('H 1 * * *', '2026-11-20T00:00:00.000Z', '2026-11-21T00:00:00.000Z')).toThrow(/not a cron value/);
  });

  it('the shipped factory.yml fires inside the default night (00:00–07:00 Seoul), as the scaffold writes it', async () => {
    const runs = await scheduledRuns(path.join(REPO, '.github/workflows/factory.yml'), '2026-11-20T12:00:00.000Z', '2026-11-21T12:00:00.000Z');
    expect(runs.length).toBeGreaterThan(0);
    expect(factoryWorkflow({ local: true })).toContain(`cron: "${nightCron(DEFAULT_NIGHT)}"`);
    for (const t of runs) {
      const seoulHour = (new Date(t).getUTCHours() + 9) % 24;
      expect(seoulHour, t).toBeLessThan(7);
    }
  });
});
