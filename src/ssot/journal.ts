// The journal (state/journal.jsonl): the append-only record of what the factory did. Card outcomes and
// run progress are views of it. Appends are whole fsynced lines; a torn last line (a crash mid-append)
// is ignored by readers and cut off by the next writer, since the event it held never completed. Any other
// line that is not a valid event stops the reader with file:line: skipping it would forget a result and run
// (and pay for) its card again.
import { access } from 'node:fs/promises';
import path from 'node:path';
import { SchemaError, type Problem } from '../contracts/errors.js';
import { explain, isValid } from '../contracts/validate.js';
import type { JournalEvent } from '../contracts/types.gen.js';
import { forEachLine } from './jsonl.js';
import { appendLines, repairTornTail } from './atomic.js';
import type { Layout } from './layout.js';
import { faultPoint, faultTornAppend } from '../host/faults.js';

export async function appendJournal(layout: Layout, events: JournalEvent[]): Promise<void> {
  const lines = events.map((e) => JSON.stringify(e));
  faultPoint('journal.append');
  faultTornAppend(layout.journalFile, lines.join('\n') + '\n');
  await appendLines(layout.journalFile, lines);
}

/** Called once by the writer before its first append. Returns the bytes cut. */
export async function repairJournal(layout: Layout): Promise<number> {
  return repairTornTail(layout.journalFile);
}

/** PASS and FAIL are results; SKIP is a person's decision (`g7 resume --skip`), with the reason in `detail`. */
export type CardOutcome = { status: 'PASS' | 'FAIL' | 'SKIP'; run: string | undefined; detail: string | undefined; cardSha?: string | undefined };

/** Every event, in order; for one lane of a lane run, the factory's journal first, then the lane's part. */
export async function readJournal(layout: Layout, onEvent: (e: JournalEvent, line: number) => void): Promise<void> {
  for (const file of layout.lane ? [layout.lane.factoryJournal, layout.journalFile] : [layout.journalFile]) {
    try {
      await access(file);
    } catch {
      continue;
    }
    await readJournalFile(layout, file, onEvent);
  }
}

/**
 * One journal file, every line checked: a line that does not parse or is not a journal event stops with its
 * file:line, except a torn last line (an append that never completed). `text` is the line as written.
 */
export async function readJournalFile(layout: Layout, file: string, onEvent: (e: JournalEvent, line: number, text: string) => void): Promise<void> {
  const shown = path.relative(layout.repoRoot, file) || file;
  const fix =
    'the journal is the record of what was done, so g7 will not guess: restore the line from git (`git log -p -- ' +
    shown +
    '`), or delete it if you know its card must run again; then run again';
  // An unparsable line is held until the next line shows it was not the last one (a torn tail is fine).
  let unparsable: number | undefined;
  const corrupt = (line: number, message: string, more: Problem[] = []): SchemaError =>
    new SchemaError([{ file: shown, line, rule: 'journal.corrupt', message, hint: fix }, ...more], `${shown}:${line}: ${message}; nothing was run\n    → ${fix}`);
  const scan = await forEachLine(file, (text, line) => {
    if (text.trim() === '') return;
    if (unparsable !== undefined) throw corrupt(unparsable, 'this line is not valid JSON and is not the last line (not a torn append)');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      unparsable = line;
      return;
    }
    if (!isValid('journal', value)) throw corrupt(line, 'this line is not a valid journal event', explain('journal', value, { file: shown, line }));
    onEvent(value as JournalEvent, line, text);
  });
  // Torn tail: the append never completed, so the event did not happen (the next writer cuts it off).
  if (unparsable !== undefined && scan.unterminated?.line !== unparsable) throw corrupt(unparsable, 'this line is not valid JSON and ends with a newline, so it is not a torn append');
}

export interface DayView {
  /** Final outcome of every card of the day that finished or was skipped by a person: the last event wins; a requeue clears it. */
  outcomes: Map<string, CardOutcome>;
  /** What each passed card wrote, with the sha256 journaled when it passed. */
  outputs: Map<string, { path: string; sha256: string }[]>;
}

/** One pass over the journal for everything a day needs. */
export async function readDay(layout: Layout, day: string): Promise<DayView> {
  const view: DayView = { outcomes: new Map(), outputs: new Map() };
  await readJournal(layout, (e) => {
    if (e.day !== day || !e.card) return;
    if (e.event === 'requeue') view.outcomes.delete(e.card);
    if (e.event === 'skip') view.outcomes.set(e.card, { status: 'SKIP', run: e.run, detail: e.detail });
    if (e.event !== 'card_result') return;
    if (e.status === 'PASS' || e.status === 'FAIL') view.outcomes.set(e.card, { status: e.status, run: e.run, detail: e.detail, cardSha: e.card_sha256 });
    if (e.status === 'PASS') view.outputs.set(e.card, e.outputs ?? []);
  });
  return view;
}

export async function readCardOutcomes(layout: Layout, day: string): Promise<Map<string, CardOutcome>> {
  return (await readDay(layout, day)).outcomes;
}

export function doneIds(outcomes: Map<string, CardOutcome>): Set<string> {
  const s = new Set<string>();
  for (const [id, o] of outcomes) if (o.status === 'PASS') s.add(id);
  return s;
}

/** Done cards with the sha256 of the card as it passed (undefined for results journaled before that was kept). */
export function doneCards(outcomes: Map<string, CardOutcome>): Map<string, string | undefined> {
  const m = new Map<string, string | undefined>();
  for (const [id, o] of outcomes) if (o.status === 'PASS') m.set(id, o.cardSha);
  return m;
}

/** A truck is named by its day, round and letter; journals written before rounds mean round 1. */
export function truckKey(day: string, round: number | undefined, truck: string): string {
  return `${day}/${round ?? 1}/${truck}`;
}

export interface TruckProgress {
  /** Runs that started on this truck, in order. */
  runs: string[];
  /** True when a run on it stopped with state READY: every card was dealt with. */
  finished: boolean;
}

/** Per truck (keyed by `truckKey`): which runs touched it and whether it finished. */
export async function readTruckProgress(layout: Layout): Promise<Map<string, TruckProgress>> {
  const out = new Map<string, TruckProgress>();
  await readJournal(layout, (e) => {
    if (!e.truck || !e.run) return;
    const key = truckKey(e.day, e.round, e.truck);
    const p = out.get(key) ?? { runs: [], finished: false };
    if (e.event === 'run_start' && !p.runs.includes(e.run)) p.runs.push(e.run);
    if (e.event === 'run_stop' && e.state === 'READY' && !e.lanes) p.finished = true;
    out.set(key, p);
  });
  return out;
}

/** Card results already journaled by one run (used to resume it after a crash). */
export async function readRunResults(layout: Layout, run: string): Promise<Map<string, JournalEvent>> {
  const out = new Map<string, JournalEvent>();
  await readJournal(layout, (e) => {
    if (e.run === run && e.event === 'card_result' && e.card) out.set(e.card, e);
  });
  return out;
}
