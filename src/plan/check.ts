// `g7 plan check`: validates day plans, backlogs and work packs without writing anything.
import path from 'node:path';
import type { WorkPack } from '../contracts/types.gen.js';
import { G7Error, type Problem } from '../contracts/errors.js';
import { explain } from '../contracts/validate.js';
import { readText } from '../ssot/text.js';
import { parseJson } from '../ssot/doc.js';
import { repoPathProblem } from '../ssot/paths.js';
import { workPackFile, type Layout } from '../ssot/layout.js';
import { loadConfig } from '../ssot/config.js';
import { compileDayPlan } from './compile.js';
import { loadBacklog, fileExists } from './backlog.js';
import { readCardOutcomes, doneIds } from '../ssot/journal.js';

export type CheckedKind = 'dayplan' | 'backlog' | 'pack' | 'factory';

export interface CheckResult {
  file: string;
  kind: CheckedKind;
  ok: boolean;
  summary: string;
  problems: Problem[];
}

export function kindOf(file: string): CheckedKind {
  const base = path.basename(file);
  if (base === 'factory.yaml' || base === 'factory.yml') return 'factory';
  if (/\.ya?ml$/i.test(base)) return 'dayplan';
  if (/\.jsonl$/i.test(base)) return 'backlog';
  return 'pack';
}

export async function checkWorkPack(file: string, display: string): Promise<{ pack?: WorkPack; problems: Problem[] }> {
  const doc = parseJson(await readText(file, display), display);
  const problems = explain('pack', doc.value, { file: display, doc });
  if (problems.length > 0) return { problems };
  const pack = doc.value as WorkPack;
  const base = path.basename(file).replace(/\.json$/i, '');
  if (pack.id !== base) {
    const pos = doc.locate('/id');
    problems.push({ file: display, line: pos?.line, col: pos?.col, field: 'id', rule: 'pack.id-file', message: `id "${pack.id}" does not match the file name "${base}.json"`, hint: 'a pack is found by its id: name the file <id>.json' });
  }
  for (const list of ['create', 'modify'] as const) {
    pack.files[list].forEach((p, i) => {
      const why = repoPathProblem(p);
      if (!why) return;
      const pos = doc.locate(`/files/${list}/${i}`);
      problems.push({ file: display, line: pos?.line, col: pos?.col, field: `files.${list}[${i}]`, rule: 'pack.path-escape', message: `"${p}" ${why}`, hint: 'a pack may only allow paths inside the repository' });
    });
  }
  return { pack, problems };
}

export async function checkFile(file: string, layout: Layout, display: (p: string) => string): Promise<CheckResult> {
  const kind = kindOf(file);
  const shown = display(file);
  try {
    switch (kind) {
      case 'factory': {
        await loadConfig({ ...layout, factoryFile: path.resolve(file) }, display);
        return { file: shown, kind, ok: true, summary: 'valid factory config', problems: [] };
      }
      case 'dayplan': {
        const config = await loadConfig(layout, display);
        const compiled = await compileDayPlan(file, { layout, config, doneOn: async () => new Set<string>(), display });
        return { file: shown, kind, ok: true, summary: `valid day plan: ${compiled.cards.length} cards from ${compiled.perEntry.length} entries`, problems: [] };
      }
      case 'backlog': {
        const day = /backlog_(\d{8})\.jsonl$/.exec(file)?.[1];
        const known = day ? doneIds(await readCardOutcomes(layout, day)) : new Set<string>();
        const loaded = await loadBacklog(file, shown, { known, packExists: (id) => fileExists(workPackFile(layout, id)) });
        const problems = [...loaded.problems.items];
        if (loaded.problems.dropped) problems.push({ file: shown, rule: 'problems.truncated', message: `… and ${loaded.problems.dropped} more problems not shown` });
        return { file: shown, kind, ok: problems.length === 0, summary: problems.length ? `${loaded.problems.size} problem(s)` : `valid backlog: ${loaded.cards.length} cards`, problems };
      }
      case 'pack': {
        const { problems } = await checkWorkPack(file, shown);
        return { file: shown, kind, ok: problems.length === 0, summary: problems.length ? `${problems.length} problem(s)` : 'valid work pack', problems };
      }
    }
  } catch (err) {
    if (err instanceof G7Error) return { file: shown, kind, ok: false, summary: `${err.problems.length} problem(s)`, problems: err.problems };
    throw err;
  }
}
