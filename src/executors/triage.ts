// TRIAGE (D slots): turns open rework packs into proposed rework cards (ids L{lane}_{TYPE}_9NNNNN), written
// to the card's output for a person to add to a backlog, and marks those packs triaged.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../ssot/atomic.js';
import { resolveInRepo, normalizeRepoPath } from '../ssot/paths.js';
import type { ReworkPack } from '../ssot/rework-pack.js';
import { emptyResult, type ExecContext, type ExecResult } from './types.js';

export async function triage(ctx: ExecContext): Promise<ExecResult> {
  let names: string[] = [];
  try {
    names = (await readdir(ctx.layout.reworkDir)).filter((n) => n.endsWith('.json')).sort();
  } catch {
    /* no rework packs */
  }
  const cards: string[] = [];
  let n = 0;
  for (const name of names) {
    const file = path.join(ctx.layout.reworkDir, name);
    const pack = JSON.parse(await readFile(file, 'utf8')) as ReworkPack;
    if (pack.status !== 'open') continue;
    const c = pack.card;
    const id = `L${c.lane}_${c.type}_${String(900000 + ++n).padStart(6, '0')}`;
    cards.push(JSON.stringify({ ...c, id, deps: [], entry: `rework:${c.id}` }));
    await writeJsonAtomic(file, { ...pack, status: 'triaged', triaged_by: ctx.card.id, proposed_card: id });
  }
  await writeFileAtomic(resolveInRepo(ctx.layout.repoRoot, ctx.card.output), cards.map((l) => l + '\n').join(''));
  const r = emptyResult();
  r.stdout = `${cards.length} rework pack(s) turned into proposed cards\n`;
  r.outputs = [normalizeRepoPath(ctx.card.output)];
  return r;
}
