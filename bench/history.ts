// A factory's history, generated: journal day files (`state/journal/YYYYMMDD.jsonl`, rolled over at 100,000
// lines as g7 rolls them) with the events a night writes (run_start, a card_result per card with its
// outputs, bundle_done, run_stop), and a strike list of `strikeLines` lines (rolled over likewise). For the
// benchmarks that time commands against history (bench:growth, bench:history): deterministic, streamed to
// disk, so a 2 M-line journal costs no memory. `legacy` writes the journal as g7 did before it had day
// files: one `state/journal.jsonl`.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

const ROLL = 100_000;

export interface HistorySpec {
  /** Journal lines in all, spread over `days` backlog days that end the day before `lastDay`. */
  journalLines: number;
  days: number;
  /** The day history ends before (YYYYMMDD); the factory's own day. */
  lastDay: string;
  strikeLines: number;
  legacy?: boolean;
}

function dayBefore(day: string, n: number): string {
  const d = new Date(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8))));
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10).replace(/-/g, '');
}

const iso = (day: string, second: number) => new Date(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8)), 20) + second * 1000).toISOString();

async function write(s: WriteStream, text: string): Promise<void> {
  if (!s.write(text)) await new Promise<void>((r) => s.once('drain', () => r()));
}

async function close(s: WriteStream): Promise<void> {
  await new Promise<void>((r, j) => s.end((e?: Error | null) => (e ? j(e) : r())));
}

/** Lines of `file` (`NAME.jsonl`), rolled over at 100,000 lines; `line(i)` makes line i (0-based). */
async function writeRolling(file: string, lines: number, line: (i: number) => string, roll = true): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  let s: WriteStream | undefined;
  for (let i = 0; i < lines; i++) {
    if (!s || (roll && i % ROLL === 0)) {
      if (s) await close(s);
      const part = i / ROLL + 1;
      s = createWriteStream(roll && part > 1 ? file.replace(/\.jsonl$/, `.${part}.jsonl`) : file, { flags: 'a' });
    }
    await write(s, line(i) + '\n');
  }
  if (s) await close(s);
}

const sha = (n: number) => (n.toString(16).padStart(8, '0') + 'a5'.repeat(28)).slice(0, 64);

/** One night's events on `day`: a truck of 120 cards, run after run, numbered from `run`. */
function eventOf(day: string, i: number, runBase: number): string {
  const perRun = 124; // run_start, 120 results, 2 bundle_done, run_stop
  const run = `run_${String(runBase + Math.floor(i / perRun)).padStart(4, '0')}`;
  const k = i % perRun;
  const ts = iso(day, i);
  const base = { ts, day, run, round: 1 + Math.floor(i / (perRun * 2)), truck: Math.floor(i / perRun) % 2 ? 'B' : 'A' };
  if (k === 0) return JSON.stringify({ ...base, event: 'run_start' });
  if (k === perRun - 1) return JSON.stringify({ ...base, event: 'run_stop', state: 'READY', detail: 'finished' });
  if (k === 61 || k === 122) return JSON.stringify({ ...base, event: 'bundle_done', bundle: k === 61 ? 3 : 6 });
  const card = `L1_TAG_${String(i).padStart(6, '0')}`;
  return JSON.stringify({ ...base, event: 'card_result', card, slot: (k % 120) + 1, status: 'PASS', attempt: 1, outputs: [{ path: `ssot/library_index/tags/${day}-${i}.jsonl`, sha256: sha(i) }], card_sha256: sha(i + 1) });
}

export async function writeHistory(ssot: string, spec: HistorySpec): Promise<{ days: string[] }> {
  const days = Array.from({ length: spec.days }, (_, k) => dayBefore(spec.lastDay, spec.days - k));
  const perDay = Math.ceil(spec.journalLines / spec.days);
  let left = spec.journalLines;
  let run = 1;
  const legacy = path.join(ssot, 'state', 'journal.jsonl');
  for (const day of days) {
    const n = Math.min(perDay, left);
    left -= n;
    const file = spec.legacy ? legacy : path.join(ssot, 'state', 'journal', `${day}.jsonl`);
    await writeRolling(file, n, (i) => eventOf(day, i, run), !spec.legacy);
    run += Math.ceil(n / 124);
  }
  await writeRolling(path.join(ssot, 'library_index', 'strike_list.jsonl'), spec.strikeLines, (i) =>
    JSON.stringify({ key: `disclosures/doc${i}.md#0:${sha(i).slice(0, 16)}`, path: `disclosures/doc${i}.md`, offset: 0, length: 1800, sha256: sha(i), tags: ['related-party'], card: `L2_TAG_${String(1 + (i % 99_999)).padStart(6, '0')}` }),
  );
  return { days };
}
