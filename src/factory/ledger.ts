// Card outcomes, derived from the append-only journal (state/journal.jsonl). The journal is the record;
// this is a view of it. A torn last line (a crash mid-append) is ignored here and repaired by the writer.
import { access } from 'node:fs/promises';
import type { JournalEvent } from '../contracts/types.gen.js';
import { forEachLine } from '../ssot/jsonl.js';
import type { Layout } from '../ssot/layout.js';

export type CardOutcome = { status: 'PASS' | 'FAIL'; run: string | undefined; detail: string | undefined };

export async function readJournal(layout: Layout, onEvent: (e: JournalEvent, line: number) => void): Promise<void> {
  try {
    await access(layout.journalFile);
  } catch {
    return;
  }
  await forEachLine(layout.journalFile, (text, line) => {
    if (text.trim() === '') return;
    try {
      onEvent(JSON.parse(text) as JournalEvent, line);
    } catch {
      // torn tail: the append never completed, so the event did not happen
    }
  });
}

/** Final outcome of every card of `day` that finished: the last card_result wins; a requeue clears a FAIL. */
export async function readCardOutcomes(layout: Layout, day: string): Promise<Map<string, CardOutcome>> {
  const out = new Map<string, CardOutcome>();
  await readJournal(layout, (e) => {
    if (e.day !== day || !e.card) return;
    if (e.event === 'card_result' && (e.status === 'PASS' || e.status === 'FAIL')) out.set(e.card, { status: e.status, run: e.run, detail: e.detail });
    else if (e.event === 'requeue') out.delete(e.card);
  });
  return out;
}

export function doneIds(outcomes: Map<string, CardOutcome>): Set<string> {
  const s = new Set<string>();
  for (const [id, o] of outcomes) if (o.status === 'PASS') s.add(id);
  return s;
}
