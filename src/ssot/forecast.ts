// The day's forecast (`g7 plan estimate --record`): what the plan was expected to cost before the night paid
// for it, kept in the state (state/forecast_YYYYMMDD.json) so the morning report can hold it against what the
// night's verify reports say was paid.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type { Layout } from './layout.js';

export interface Forecast {
  plan: string;
  day: string;
  recorded_at: string;
  worker: 'gemini' | 'offline';
  /** Model requests to send: neither answered in the cache nor a repeat of a text asked already. */
  requests: number;
  tokens_in: number;
  tokens_out: number;
  /** As the night pays it: with the key's worker, batch where it batches; offline, what Gemini would cost. */
  usd: number;
}

export const forecastFile = (layout: Layout, day: string) => path.join(layout.stateDir, `forecast_${day}.json`);

export async function readForecast(layout: Layout, day: string): Promise<Forecast | undefined> {
  return readFile(forecastFile(layout, day), 'utf8').then((t) => JSON.parse(t) as Forecast, () => undefined);
}
