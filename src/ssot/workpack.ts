// Work packs (backlog/packs/<id>.json), the one reader: `plan check`, `plan compile`, `pack` and `run` all
// load a pack through here, so a pack with an unknown or a missing field is refused the same way everywhere.
import path from 'node:path';
import type { WorkPack } from '../contracts/types.gen.js';
import { PathError, SchemaError, type Problem } from '../contracts/errors.js';
import { explain } from '../contracts/validate.js';
import { readText } from './text.js';
import { parseJson } from './doc.js';
import { repoPathProblem } from './paths.js';
import { workPackFile, type Layout } from './layout.js';
import { access } from 'node:fs/promises';

/** Parses and checks one work pack file: its schema, that its id is its file name, that its paths stay in the repository. */
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

/** The work pack `id`, checked; a missing pack is a PATH error, an invalid one a SCHEMA error naming file, line and field. */
export async function readWorkPack(layout: Layout, id: string, display: (p: string) => string): Promise<WorkPack> {
  const file = workPackFile(layout, id);
  const shown = display(file);
  try {
    await access(file);
  } catch {
    throw new PathError([{ file: shown, rule: 'pack.missing', message: `work pack "${id}" not found`, hint: `add ${shown}, or fix the card's "pack"` }]);
  }
  const { pack, problems } = await checkWorkPack(file, shown);
  if (problems.length > 0 || !pack) throw new SchemaError(problems, `work pack "${id}" is invalid`);
  return pack;
}

/** What is wrong with the work pack `id` (empty when it loads), for checks that report rather than throw. */
export async function workPackProblems(layout: Layout, id: string, display: (p: string) => string): Promise<Problem[]> {
  try {
    await readWorkPack(layout, id, display);
    return [];
  } catch (err) {
    if (err instanceof SchemaError || err instanceof PathError) return err.problems;
    throw err;
  }
}
