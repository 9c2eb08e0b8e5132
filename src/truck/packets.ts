// The day's trucks as files: packets/<YYYYMMDD>/packet_{A,B}.jsonl and pack_report.json.
// A truck that has departed (a run started on it) is never repacked; the other is packed around it.
import type { PacketSlot, WorkCard } from '../contracts/types.gen.js';
import { SchemaError } from '../contracts/errors.js';
import { writeFileAtomic } from '../ssot/atomic.js';
import { forEachLine } from '../ssot/jsonl.js';
import { backlogFile, packetFile, packReportFile, workPackFile, type Layout } from '../ssot/layout.js';
import { loadBacklog, readCardsAtLines, fileExists, CHECKER } from '../plan/backlog.js';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { readCardOutcomes, readJournal, doneIds } from '../ssot/journal.js';
import { packDay, OPS_120PLUS120, TRUCKS, type TruckName, type Outcome, type DayPack } from './pack.js';
import { serializeCards } from '../plan/compile.js';

export interface PackReport {
  day: string;
  backlog: string;
  backlog_sha256: string;
  trucks: Record<TruckName, { cards: number; departed: boolean; by_quota: Record<string, number>; backfill: number; lanes: Record<string, number> }>;
  done: number;
  held: { id: string; line: number; reason: string }[];
  deferred: DayPack['deferred'];
}

/** Where the verdict of a full check of a day's backlog is kept: its sha256, made by this checker. */
export function checkedStampFile(layout: Layout, day: string): string {
  return path.join(layout.stateDir, 'checked', `backlog_${day}.json`);
}

async function readStamp(file: string): Promise<string | undefined> {
  try {
    const s = JSON.parse(await readFile(file, 'utf8')) as { sha256?: string; checker?: string };
    return s.checker === CHECKER && typeof s.sha256 === 'string' ? s.sha256 : undefined;
  } catch {
    return undefined;
  }
}

export async function departedTrucks(layout: Layout, day: string): Promise<Set<TruckName>> {
  const out = new Set<TruckName>();
  await readJournal(layout, (e) => {
    if (e.event === 'run_start' && e.day === day && e.truck) out.add(e.truck);
  });
  return out;
}

export async function readPacket(file: string): Promise<PacketSlot[]> {
  const slots: PacketSlot[] = [];
  await forEachLine(file, (text) => {
    if (text.trim() !== '') slots.push(JSON.parse(text) as PacketSlot);
  });
  return slots;
}

/** The newest day that has a backlog, from file names alone. */
export async function latestBacklogDay(layout: Layout): Promise<string | undefined> {
  let names: string[] = [];
  try {
    names = await readdir(layout.backlogDir);
  } catch {
    return undefined;
  }
  const days = names.map((n) => /^backlog_(\d{8})\.jsonl$/.exec(n)?.[1]).filter((d): d is string => !!d);
  return days.sort().at(-1);
}

function serializeSlot(day: string, truck: TruckName, slot: number, bundle: number, quota: string, backfill: boolean, card: WorkCard): string {
  return `{"day":"${day}","truck":"${truck}","slot":${slot},"bundle":${bundle},"quota":"${quota}","backfill":${backfill},"card":${serializeCards([card]).trimEnd()}}\n`;
}

export async function packDayFiles(layout: Layout, day: string, display: (p: string) => string): Promise<PackReport> {
  const file = backlogFile(layout, day);
  if (!(await fileExists(file))) throw new SchemaError([{ file: display(file), rule: 'file.missing', message: `no backlog for ${day}`, hint: 'compile the day plan first: g7 plan compile ssot/plans/dayplan_YYYYMMDD.yaml' }]);
  const outcomes = await readCardOutcomes(layout, day);
  const stamp = checkedStampFile(layout, day);
  const trusted = await readStamp(stamp);
  const done = doneIds(outcomes);
  // A stamp vouches for the file's own checks; deps on done cards must still be known, which the stamp
  // guarantees only for the done set it was made with. More cards done since can only satisfy more deps.
  const loaded = await loadBacklog(file, display(file), { known: done, packExists: (id) => fileExists(workPackFile(layout, id)), ...(trusted ? { trusted } : {}) });
  loaded.problems.throwIfAny(`the backlog ${display(file)} is invalid; nothing was packed`);
  if (loaded.sha256 !== trusted) await writeFileAtomic(stamp, JSON.stringify({ sha256: loaded.sha256, checker: CHECKER }) + '\n');

  const departed = await departedTrucks(layout, day);
  const departedSlots = new Map<TruckName, PacketSlot[]>();
  for (const t of departed) departedSlots.set(t, await readPacket(packetFile(layout, day, t)));
  const fixed: Partial<Record<TruckName, string[]>> = {};
  for (const [t, slots] of departedSlots) fixed[t] = slots.map((s) => s.card.id);
  const status = new Map<string, Outcome>([...outcomes].map(([id, o]) => [id, o.status]));
  const result = packDay(loaded.cards, status, fixed, loaded.index, loaded.index === undefined);

  const report: PackReport = {
    day,
    backlog: display(file),
    backlog_sha256: loaded.sha256,
    trucks: { A: undefined!, B: undefined! },
    done: result.done,
    held: result.held,
    deferred: result.deferred,
  };
  for (const t of TRUCKS) {
    // A departed truck is reported from its packet, which still lists the cards that since got done.
    const slots = departedSlots.get(t)?.map((s) => ({ ...s, card: { ...s.card, line: 0 } })) ?? result.trucks[t];
    const by_quota: Record<string, number> = { A: 0, B: 0, C: 0, D: 0 };
    const lanes: Record<string, number> = {};
    for (const s of slots) {
      by_quota[s.quota]!++;
      lanes[String(s.card.lane)] = (lanes[String(s.card.lane)] ?? 0) + 1;
    }
    report.trucks[t] = { cards: slots.length, departed: departed.has(t), by_quota, backfill: slots.filter((s) => s.backfill).length, lanes };
    if (departed.has(t)) continue;
    if (slots.length > OPS_120PLUS120.slots) throw new Error(`packer bug: truck ${t} has ${slots.length} slots`);
    const full = await readCardsAtLines(file, slots.map((s) => s.card.line));
    const text = slots.map((s, k) => serializeSlot(day, t, s.slot, s.bundle, s.quota, s.backfill, full[k]!)).join('');
    await writeFileAtomic(packetFile(layout, day, t), text);
  }
  await writeFileAtomic(packReportFile(layout, day), JSON.stringify(report, null, 2) + '\n');
  return report;
}
