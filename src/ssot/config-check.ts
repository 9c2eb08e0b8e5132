// What `g7 plan check factory.yaml` checks beyond the schema: that what the file names is there. A model
// without a price, a skill file or a library root that does not exist pass the schema, and `g7 run` (or
// the plan compiler, blaming the day plan) would only find them later. Each problem names its entry.
import { access } from 'node:fs/promises';
import type { Problem } from '../contracts/errors.js';
import type { Config } from './config.js';
import type { Layout } from './layout.js';
import { readText } from './text.js';
import { parseYaml } from './yaml.js';
import { resolveInRepo } from './paths.js';
import { parseTarget } from './skill-target.js';

const exists = (p: string) => access(p).then(() => true, () => false);

export async function configFileProblems(config: Config, layout: Layout, factoryFile: string, shown: string): Promise<Problem[]> {
  const doc = parseYaml(await readText(factoryFile, shown), shown);
  const at = (pointer: string, field: string) => {
    const pos = doc.locate(pointer);
    return { file: shown, line: pos?.line, col: pos?.col, field };
  };
  const problems: Problem[] = [];
  for (const h of ['LOW', 'MID', 'HIGH'] as const) {
    const model = config.models[h];
    if (!config.modelsAt?.[h] || config.prices[model]) continue; // a model written here, with no price
    problems.push({ ...at(`/models/${h}`, `models.${h}`), rule: 'config.no-price', message: `"${model}" has no price in prices_per_mtok, so the budgets cannot hold and g7 run refuses it`, hint: `add prices_per_mtok: { ${model}: { in: …, out: … } } in USD per million tokens, or use a priced model` });
  }
  for (const [type, spec] of Object.entries(config.skills)) {
    const file = parseTarget(spec).file;
    if (!(await exists(resolveInRepo(layout.repoRoot, file))))
      problems.push({ ...at(`/skills/${type}`, `skills.${type}`), rule: 'config.skill-missing', message: `skill file "${file}" does not exist`, hint: 'fix the path (relative to the repository root) or remove the entry' });
  }
  if (doc.locate('/library/root') && !(await exists(resolveInRepo(layout.repoRoot, config.libraryRoot))))
    problems.push({ ...at('/library/root', 'library.root'), rule: 'config.library-missing', message: `the library root "${config.libraryRoot}" does not exist`, hint: 'set library.root to a folder relative to the repository root' });
  return problems;
}
