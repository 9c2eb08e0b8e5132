// The journal: the append-only record of what the factory did. Card outcomes and run progress are views of
// it. It is kept per backlog day, `state/journal/YYYYMMDD.jsonl` (rolling over to `YYYYMMDD.2.jsonl` … at
// 100,000 lines), so a command reads the day it works on, never the whole history. Every read goes through
// this module, which parses and checks each line once per process (a file that only grew is read from
// where it was). Appends are whole fsynced lines; a torn last line (a crash mid-append) is ignored by
// readers and cut off by the next writer, since the event it held never completed. Any other line that is
// not a valid event stops the reader with file:line: skipping it would forget a result and run (and pay
// for) its card again. A journal of an older g7, one `state/journal.jsonl`, is read as it is until the
// first append splits it into day files (journal-migrate.ts).
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { SchemaError, type Problem } from '../contracts/errors.js';
import { explain, isValid } from '../contracts/validate.js';
import type { JournalEvent } from '../contracts/types.gen.js';
import { forEachLine } from './jsonl.js';
import { appendLines, repairTornTail } from './atomic.js';
import { appendRolling, onlyGrew, partNumber, rollingPart, rollingParts, tailOf, type Seen } from './rolling.js';
import type { Layout } from './layout.js';
import { faultPoint, faultTornAppend } from '../host/faults.js';
import { migrateLegacyJournal } from './journal-migrate.js';

/** The journal of an older g7: one file for every day. */
export function legacyJournalFile(layout: Layout): string {
  return path.join(layout.stateDir, 'journal.jsonl');
}

/** The first file of a day's journal (its continuations follow it: rolling.ts). */
export function journalDayFile(layout: Layout, day: string): string {
  return path.join(layout.journalDir, `${day}.jsonl`);
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}

/** The files that hold the factory's events of `day`, in order (not a lane's part). */
async function factoryFilesOf(layout: Layout, day: string): Promise<{ files: string[]; legacy: boolean }> {
  const legacy = legacyJournalFile(layout);
  if (await exists(legacy)) return { files: [legacy], legacy: true };
  return { files: await rollingParts(journalDayFile(layout, day)), legacy: false };
}

/** The files a read of `day` opens, in order: the factory's, then (for a lane) the lane's part. */
export async function journalFilesOf(layout: Layout, day: string): Promise<string[]> {
  const { files } = await factoryFilesOf(layout, day);
  if (layout.lane && (await exists(layout.lane.journal))) files.push(layout.lane.journal);
  return files;
}

// ---- appends -------------------------------------------------------------------------------------------

/** Appends events; each goes to the journal of its own day (a lane's to the lane's part). */
export async function appendJournal(layout: Layout, events: JournalEvent[]): Promise<void> {
  if (events.length === 0) return;
  faultPoint('journal.append');
  if (layout.lane) {
    const lines = events.map((e) => JSON.stringify(e));
    await repairTornTail(layout.lane.journal);
    faultTornAppend(layout.lane.journal, lines.join('\n') + '\n');
    await appendLines(layout.lane.journal, lines);
    return;
  }
  const legacy = legacyJournalFile(layout);
  if (await exists(legacy)) {
    const shown = path.relative(layout.repoRoot, legacy);
    await migrateLegacyJournal(layout, legacy, shown, async (onLine) => void (await parseRange(legacy, shown, 0, (await stat(legacy)).size, 0, (e, _line, text) => onLine(e.day, text))));
    parsed.delete(legacy);
  }
  const byDay = new Map<string, string[]>();
  for (const e of events) byDay.set(e.day, [...(byDay.get(e.day) ?? []), JSON.stringify(e)]);
  for (const [day, lines] of byDay) {
    const base = journalDayFile(layout, day);
    const parts = await rollingParts(base);
    await repairTornTail(rollingPart(base, Math.max(1, parts.length)));
    await appendRolling(base, lines, { beforeWrite: faultTornAppend });
  }
}

/**
 * Called by the writer before its first append to `day` (the day of the truck it works on), so that a torn
 * tail left by a killed process is cut and said. Returns the bytes cut.
 */
export async function repairJournal(layout: Layout, day: string | null | undefined): Promise<number> {
  if (layout.lane) return repairTornTail(layout.lane.journal);
  if (!day || (await exists(legacyJournalFile(layout)))) return repairTornTail(legacyJournalFile(layout));
  const base = journalDayFile(layout, day);
  return repairTornTail(rollingPart(base, Math.max(1, (await rollingParts(base)).length)));
}

// ---- reads ---------------------------------------------------------------------------------------------

interface Parsed extends Seen {
  /** The file's size and mtime when read (`size` is where its last whole line ends). */
  statSize: number;
  /** The events of its whole lines, with their line numbers. */
  events: { e: JournalEvent; line: number }[];
  /** False for a file not in UTF-8 (a person re-saved it): read again whole when it changes. */
  incremental: boolean;
}

const parsed = new Map<string, Parsed>();

function corruptError(shown: string) {
  const fix =
    'the journal is the record of what was done, so g7 will not guess: restore the line from git (`git log -p -- ' +
    shown +
    '`), or delete it if you know its card must run again; then run again';
  return (line: number, message: string, more: Problem[] = []): SchemaError =>
    new SchemaError([{ file: shown, line, rule: 'journal.corrupt', message, hint: fix }, ...more], `${shown}:${line}: ${message}; nothing was run\n    → ${fix}`);
}

/** Parses bytes [start, end) of `file` (from the start of a line numbered `base + 1`), every line checked. */
async function parseRange(file: string, shown: string, start: number, end: number, base: number, onEvent: (e: JournalEvent, line: number, text: string) => void): Promise<{ lastNewline: number; lines: number; utf8: boolean }> {
  const corrupt = corruptError(shown);
  // An unparsable line is held until the next line shows it was not the last one (a torn tail is fine).
  let unparsable: number | undefined;
  if (start >= end) return { lastNewline: start, lines: base, utf8: true };
  let read = start;
  let lastNewline = start;
  const scan = await forEachLine(
    file,
    (text, at) => {
      const line = base + at;
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
    },
    shown,
    (raw) => {
      const nl = raw.lastIndexOf(10);
      if (nl !== -1) lastNewline = read + nl + 1;
      read += raw.length;
    },
    { start, end },
  );
  // Torn tail: the append never completed, so the event did not happen (the next writer cuts it off).
  if (unparsable !== undefined && scan.unterminated?.line !== unparsable - base) throw corrupt(unparsable, 'this line is not valid JSON and ends with a newline, so it is not a torn append');
  const lines = base + scan.lines - (scan.unterminated ? 1 : 0);
  return { lastNewline, lines, utf8: scan.encoding === 'utf-8' };
}

/** The events of one journal file, parsed once per process and then only what was appended since. */
async function parsedJournal(file: string, shown: string): Promise<Parsed> {
  const st = await stat(file);
  const seen = parsed.get(file);
  if (seen && seen.statSize === st.size && seen.mtimeMs === st.mtimeMs) return seen;
  let next: Parsed;
  // Grown, and the bytes that ended it still there: appended to. (An edit of earlier lines that also grew the
  // file is not seen by this process; a process reads its journal for minutes, and only g7 appends to it.)
  if (seen && seen.incremental && st.size > seen.statSize && (await onlyGrew(file, seen, st.size))) {
    const events = seen.events;
    const r = await parseRange(file, shown, seen.size, st.size, seen.lines, (e, line) => events.push({ e, line }));
    next = { ...seen, size: r.lastNewline, lines: r.lines, statSize: st.size, mtimeMs: st.mtimeMs, events };
  } else {
    const events: Parsed['events'] = [];
    const r = await parseRange(file, shown, 0, st.size, 0, (e, line) => events.push({ e, line }));
    next = { size: r.lastNewline, lines: r.lines, statSize: st.size, mtimeMs: st.mtimeMs, events, incremental: r.utf8, tail: Buffer.alloc(0) };
  }
  next.tail = await tailOf(file, next.size);
  parsed.set(file, next);
  return next;
}

/**
 * One journal file, every line checked: a line that does not parse or is not a journal event stops with its
 * file:line, except a torn last line (an append that never completed).
 */
export async function readJournalFile(layout: Layout, file: string, onEvent: (e: JournalEvent, line: number) => void, shown = path.relative(layout.repoRoot, file) || file): Promise<void> {
  for (const { e, line } of (await parsedJournal(file, shown)).events) onEvent(e, line);
}

/**
 * The events of `day`, in order: the factory's, then (for one lane of a lane run) the lane's part. `at` counts
 * the day's events from 1 across its files: journal order, which is not timestamp order (a lane's lines are
 * appended by the merge).
 */
export async function readJournalDay(layout: Layout, day: string, onEvent: (e: JournalEvent, at: number) => void): Promise<void> {
  let at = 0;
  for (const file of await journalFilesOf(layout, day))
    await readJournalFile(layout, file, (e) => {
      if (e.day === day) onEvent(e, ++at);
    });
}

/** The backlog days that have a journal, oldest first. */
export async function journalDays(layout: Layout): Promise<string[]> {
  const legacy = legacyJournalFile(layout);
  if (await exists(legacy)) {
    const days = new Set<string>();
    await readJournalFile(layout, legacy, (e) => days.add(e.day));
    return [...days].sort();
  }
  const names = await readdir(layout.journalDir).catch(() => [] as string[]);
  return [...new Set(names.map((n) => /^(\d{8})(\.\d+)?\.jsonl$/.exec(n)).filter((m) => m && partNumber(`${m[1]}.jsonl`, m[0]) !== undefined).map((m) => m![1]!))].sort();
}

/** The `ts` of the last line of `file`, read from its last 4 KiB alone; undefined when that line does not say. */
async function lastTs(file: string): Promise<string | undefined> {
  const st = await stat(file).catch(() => undefined);
  if (!st || st.size === 0) return undefined;
  const fh = await open(file, 'r');
  const buf = Buffer.alloc(Math.min(4096, st.size));
  try {
    await fh.read(buf, 0, buf.length, st.size - buf.length);
  } finally {
    await fh.close();
  }
  const text = buf.toString('utf8').replace(/\s+$/, '');
  try {
    const ts = (JSON.parse(text.slice(text.lastIndexOf('\n') + 1)) as { ts?: unknown }).ts;
    return typeof ts === 'string' ? ts : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The events whose `ts` falls in [since, until], day by day (`at` as in `readJournalDay`). A day whose last
 * line is older than `since` is not opened: a day's lines are appended as things happen, and the last one
 * (a stop, a merge's stop) is at least as new as every line before it.
 */
export async function readJournalWindow(layout: Layout, since: string, until: string, onEvent: (e: JournalEvent, at: number) => void): Promise<void> {
  const legacy = !!(await exists(legacyJournalFile(layout)));
  for (const day of await journalDays(layout)) {
    if (!legacy) {
      const parts = await rollingParts(journalDayFile(layout, day));
      const ts = await lastTs(parts.at(-1)!);
      if (ts !== undefined && ts < since) continue;
    }
    await readJournalDay(layout, day, (e, at) => {
      if (e.ts >= since && e.ts <= until) onEvent(e, at);
    });
  }
}

// ---- views ---------------------------------------------------------------------------------------------

/** PASS and FAIL are results; SKIP is a person's decision (`g7 resume --skip`), with the reason in `detail`. */
export type CardOutcome = { status: 'PASS' | 'FAIL' | 'SKIP'; run: string | undefined; detail: string | undefined; cardSha?: string | undefined };

export interface DayView {
  /** Final outcome of every card of the day that finished or was skipped by a person: the last event wins; a requeue clears it. */
  outcomes: Map<string, CardOutcome>;
  /** What each passed card wrote, with the sha256 journaled when it passed. */
  outputs: Map<string, { path: string; sha256: string }[]>;
}

/** One pass over the day's journal for everything a day needs. */
export async function readDay(layout: Layout, day: string): Promise<DayView> {
  const view: DayView = { outcomes: new Map(), outputs: new Map() };
  await readJournalDay(layout, day, (e) => {
    if (!e.card) return;
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

/** Per truck of `day` (keyed by `truckKey`): which runs touched it and whether it finished. */
export async function readTruckProgress(layout: Layout, day: string): Promise<Map<string, TruckProgress>> {
  const out = new Map<string, TruckProgress>();
  await readJournalDay(layout, day, (e) => {
    if (!e.truck || !e.run) return;
    const key = truckKey(e.day, e.round, e.truck);
    const p = out.get(key) ?? { runs: [], finished: false };
    if (e.event === 'run_start' && !p.runs.includes(e.run)) p.runs.push(e.run);
    if (e.event === 'run_stop' && e.state === 'READY' && !e.lanes) p.finished = true;
    out.set(key, p);
  });
  return out;
}

/** Card results already journaled by one run of `day` (used to resume it after a crash). */
export async function readRunResults(layout: Layout, run: string, day: string): Promise<Map<string, JournalEvent>> {
  const out = new Map<string, JournalEvent>();
  await readJournalDay(layout, day, (e) => {
    if (e.run === run && e.event === 'card_result' && e.card) out.set(e.card, e);
  });
  return out;
}
