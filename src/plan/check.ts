// `g7 plan check`: validates day plans, backlogs and work packs without writing anything.
import path from 'node:path';
import { G7Error, type Problem } from '../contracts/errors.js';
import { checkWorkPack } from '../ssot/workpack.js';
import { workPackFile, type Layout } from '../ssot/layout.js';
import { loadConfig } from '../ssot/config.js';
import { configFileProblems } from '../ssot/config-check.js';
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

export async function checkFile(file: string, layout: Layout, display: (p: string) => string): Promise<CheckResult> {
  const kind = kindOf(file);
  const shown = display(file);
  try {
    switch (kind) {
      case 'factory': {
        const config = await loadConfig({ ...layout, factoryFile: path.resolve(file) }, display);
        const problems = await configFileProblems(config, layout, path.resolve(file), shown);
        return { file: shown, kind, ok: problems.length === 0, summary: problems.length ? `${problems.length} problem(s)` : 'valid factory config', problems };
      }
      case 'dayplan': {
        const config = await loadConfig(layout, display);
        const compiled = await compileDayPlan(file, { layout, config, doneOn: async () => new Map<string, string | undefined>(), display });
        return { file: shown, kind, ok: true, summary: `valid day plan: ${compiled.cards.length} cards from ${compiled.perEntry.length} entries`, problems: [] };
      }
      case 'backlog': {
        // The journal is JSONL too, but g7 writes it: checking it as a backlog would report every line.
        if (/^journal/.test(path.basename(file)) || path.basename(path.dirname(path.resolve(file))) === 'state' || path.basename(path.dirname(path.resolve(file))) === 'journal')
          return { file: shown, kind, ok: false, summary: 'not a backlog', problems: [{ file: shown, line: 1, rule: 'check.journal', message: 'this is the journal (what happened to each card), not a backlog; g7 writes it and it is not checked here', hint: 'check the backlog instead: ssot/backlog/backlog_YYYYMMDD.jsonl (g7 verify checks the evidence of a run)' }] };
        const day = /backlog_(\d{8})\.jsonl$/.exec(file)?.[1];
        const known = day ? doneIds(await readCardOutcomes(layout, day)) : new Set<string>();
        const loaded = await loadBacklog(file, shown, { known, packExists: (id) => fileExists(workPackFile(layout, id)) });
        const problems = [...loaded.problems.items];
        if (loaded.problems.dropped) problems.push({ file: shown, rule: 'problems.truncated', message: `… and ${loaded.problems.dropped} more problems not shown` });
        return { file: shown, kind, ok: problems.length === 0, summary: problems.length ? `${loaded.problems.size} problem(s)` : `valid backlog: ${loaded.cards.count} cards`, problems };
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
