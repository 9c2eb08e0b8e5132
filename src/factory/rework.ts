// Rework packs: what a person needs the morning after a card failed twice.
import path from 'node:path';
import { writeJsonAtomic } from '../ssot/atomic.js';
import type { Layout } from '../ssot/layout.js';
import type { ReworkPack, Triage } from '../ssot/rework-pack.js';

export type { ReworkPack };

const ADVICE: Record<Triage['class'], string> = {
  IMPORT: 'A module or dependency could not be resolved. Check the install step and the import named in the excerpt.',
  PATH: 'A file is missing or a path is outside what the card or its work pack allows. Check the paths named in the excerpt against the work pack.',
  SCHEMA: 'A card, pack, plan or worker answer did not match its contract. Fix the file named in the excerpt, or the skill docstring if the worker answered wrongly twice.',
  TEST: 'The accept rule or the test command failed twice. Read the failing predicate and the test output in the evidence.',
  API: 'The model or GitHub API refused. Check the key, quota and budget.',
};

/** API failures have causes that need different fixes: nothing refused when there was no key or no answer. */
function apiAdvice(triage: Triage): string {
  if (/^no key\b/.test(triage.reason)) return 'Nothing refused: no key was set, so the card could not ask a model. Set GEMINI_API_KEY.';
  if (/could not reach|no response|fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|timed out/i.test(triage.reason))
    return 'Nothing refused: the API could not be reached (no answer came back). Check the network, gemini.base_url and the proxy.';
  return ADVICE.API;
}

export function reworkFile(layout: Layout, day: string, card: string, run: string): string {
  return path.join(layout.reworkDir, `${day}_${card}_${run}.json`);
}

/** What the pack tells a person: the cause's own fix first (e.g. which variable to set), then the class's advice. */
export function lookAt(triage: Triage, note?: string): string {
  return [note, triage.hint ? `Fix: ${triage.hint}.` : undefined, triage.class === 'API' ? apiAdvice(triage) : ADVICE[triage.class], 'Then run `g7 resume` (or `g7 resume --skip CARD --reason "…"` to drop the card).'].filter(Boolean).join(' ');
}

export async function writeReworkPack(layout: Layout, pack: Omit<ReworkPack, 'look_at' | 'status'>, note?: string): Promise<string> {
  const file = reworkFile(layout, pack.day, pack.card.id, pack.run);
  await writeJsonAtomic(file, { status: 'open', ...pack, look_at: lookAt(pack.triage, note) });
  return file;
}
