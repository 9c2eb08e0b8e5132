// A lane's share of what the factory may spend: lanes run at once against one API key and one night's
// budget, so each of N lanes takes 1/N of the model rate limits (rpm, tpm), of the truck's budget, and of
// what is left of tonight's budget when the lanes depart.
import type { Config } from '../ssot/config.js';

export interface LaneShare {
  rpm: number;
  tpm: number;
  per_truck_usd: number;
  per_night_usd: number;
}

export function laneShare(config: Pick<Config, 'limits' | 'budget'>, lanes: number, nightSpentUsd: number): LaneShare {
  const n = Math.max(1, lanes);
  return {
    rpm: Math.max(1, Math.floor(config.limits.rpm / n)),
    tpm: Math.max(1, Math.floor(config.limits.tpm / n)),
    per_truck_usd: config.budget.per_truck_usd / n,
    per_night_usd: Math.max(0, config.budget.per_night_usd - nightSpentUsd) / n,
  };
}
