// Before a truck departs: every model its model cards will ask for must exist on the service (the real one
// answers 404 NOT_FOUND for a typo, which would otherwise surface at the first model card, hours in) and
// must have a price, or the budgets cannot hold. Errors name the factory.yaml entry: file, line, field.
import { SchemaError, type Problem } from '../contracts/errors.js';
import type { Config } from '../ssot/config.js';
import { MODEL_CARD_TYPES, type CostHint } from './worker.js';
import type { CachedWorker } from './cached.js';

export async function checkModels(config: Config, worker: CachedWorker, file: string, cards: { type: string; cost_hint: CostHint }[], warn?: (line: string) => void): Promise<void> {
  const hints = [...new Set(cards.filter((c) => MODEL_CARD_TYPES.has(c.type)).map((c) => c.cost_hint))].sort();
  if (hints.length === 0) return;
  const { unknown, unpriced, unreachable } = await worker.checkModels(hints.map((h) => config.models[h]));
  // Not a refusal: the truck departs, and its model cards stop RECOVERABLE with the same cause if it lasts.
  if (unreachable) warn?.(`preflight: the models could not be checked: ${unreachable}`);
  const problems: Problem[] = [];
  for (const h of hints) {
    const model = config.models[h];
    const at = { file, line: config.modelsAt?.[h]?.line, col: config.modelsAt?.[h]?.col, field: `models.${h}` };
    if (unknown.includes(model))
      problems.push({ ...at, rule: 'config.unknown-model', message: `the Gemini API does not know model "${model}" (404 NOT_FOUND)`, hint: 'use a model id the API lists (ai.google.dev/gemini-api/docs/models), e.g. gemini-2.5-flash-lite, gemini-2.5-flash, gemini-2.5-pro' });
    else if (unpriced.includes(model))
      problems.push({ ...at, rule: 'config.no-price', message: `"${model}" has no price in prices_per_mtok, so budget.per_truck_usd and budget.per_night_usd cannot hold`, hint: `add prices_per_mtok: { ${model}: { in: …, out: … } } in USD per million tokens (ai.google.dev/gemini-api/docs/pricing)` });
  }
  if (problems.length) throw new SchemaError(problems, 'the truck did not depart: factory.yaml names a model the Gemini worker cannot use');
}
