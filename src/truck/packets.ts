// The day's trucks as files: packets/<YYYYMMDD>/round_NN/packet_{A,B}.jsonl and pack_report.json. A day
// runs as many rounds of two trucks as its backlog needs; a round is packed from what the rounds before it
// left. A truck that has departed (a run started on it) is never repacked; the other is packed around it.
import { readFile, readdir, rename, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { PacketSlot, WorkCard } from '../contracts/types.gen.js';
import { SchemaError, type Problem } from '../contracts/errors.js';
import { writeFileAtomic } from '../ssot/atomic.js';
import { noteWrite } from '../ssot/written.js';
import { forEachLine } from '../ssot/jsonl.js';
import { backlogFile, packetFile, packReportFile, roundDir, workPackFile, type Layout } from '../ssot/layout.js';
import { readCardOutcomes, readJournalDay, readTruckProgress, doneIds, truckKey } from '../ssot/journal.js';
import { workPackProblems } from '../ssot/workpack.js';
import { loadBacklog, readCardsAtLines, fileExists, fileSha256, CHECKER, type Prio } from '../plan/backlog.js';
import { serializeCards } from '../plan/serialize.js';
import { packDay, OPS_120PLUS120, TRUCKS, type TruckName, type Outcome, type DayPack } from './pack.js';

export interface TruckReport {
  cards: number;
  departed: boolean;
  /** Slots used per quota section (A 60, B 36, C 18, D 6), whatever class of card fills them. */
  by_quota: Record<Prio, number>;
  /** Of those, slots filled by a card of another class (backfill), per quota section. */
  backfill_by_quota: Record<Prio, number>;
  backfill: number;
  lanes: Record<string, number>;
}

export interface PackReport {
  day: string;
  round: number;
  backlog: string;
  backlog_sha256: string;
  trucks: Record<TruckName, TruckReport>;
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

export async function departedTrucks(layout: Layout, day: string, round: number): Promise<Set<TruckName>> {
  const out = new Set<TruckName>();
  await readJournalDay(layout, day, (e) => {
    if (e.event === 'run_start' && (e.round ?? 1) === round && e.truck) out.add(e.truck);
  });
  return out;
}

/** The slots of a packet; a truck with no packet file has none. */
export async function readPacket(file: string): Promise<PacketSlot[]> {
  if (!(await fileExists(file))) return [];
  const slots: PacketSlot[] = [];
  await forEachLine(file, (text) => {
    if (text.trim() !== '') slots.push(JSON.parse(text) as PacketSlot);
  });
  return slots;
}

export async function readPackReport(layout: Layout, day: string, round: number): Promise<PackReport | undefined> {
  try {
    return JSON.parse(await readFile(packReportFile(layout, day, round), 'utf8')) as PackReport;
  } catch {
    return undefined;
  }
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

/** The rounds of a day that have been packed, in order. A day packed before rounds existed becomes round 1. */
export async function listRounds(layout: Layout, day: string): Promise<number[]> {
  const dir = path.join(layout.packetsDir, day);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  if (names.includes('packet_A.jsonl') && !names.includes('round_01')) {
    await mkdir(roundDir(layout, day, 1), { recursive: true });
    for (const n of ['packet_A.jsonl', 'packet_B.jsonl', 'pack_report.json']) if (names.includes(n)) {
      noteWrite(path.join(dir, n));
      noteWrite(path.join(roundDir(layout, day, 1), n));
      await rename(path.join(dir, n), path.join(roundDir(layout, day, 1), n));
    }
    names.push('round_01');
  }
  return names.map((n) => /^round_(\d+)$/.exec(n)?.[1]).filter((r): r is string => !!r).map(Number).sort((a, b) => a - b);
}

function serializeSlot(day: string, round: number, truck: TruckName, slot: number, bundle: number, quota: string, backfill: boolean, card: WorkCard): string {
  return `{"day":"${day}","round":${round},"truck":"${truck}","slot":${slot},"bundle":${bundle},"quota":"${quota}","backfill":${backfill},"card":${serializeCards([card]).trimEnd()}}\n`;
}

export type PackedRound = PackReport & { /** False when `skipIfEmpty` found nothing to load: no file was written. */ written: boolean };

/**
 * Packs one round of a day into its packets and report. Trucks of the round that departed are kept as they
 * are. With `skipIfEmpty`, a round with nothing to load is reported but not written; with `dryRun` nothing is
 * written at all (`written` then says whether it would be).
 */
export async function packRound(layout: Layout, day: string, round: number, display: (p: string) => string, opts: { skipIfEmpty?: boolean; dryRun?: boolean } = {}): Promise<PackedRound> {
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
  if (loaded.sha256 !== trusted && !opts.dryRun) await writeFileAtomic(stamp, JSON.stringify({ sha256: loaded.sha256, checker: CHECKER }) + '\n');

  const departed = await departedTrucks(layout, day, round);
  const departedSlots = new Map<TruckName, PacketSlot[]>();
  for (const t of departed) departedSlots.set(t, await readPacket(packetFile(layout, day, round, t)));
  const fixed: Partial<Record<TruckName, string[]>> = {};
  for (const [t, slots] of departedSlots) fixed[t] = slots.map((s) => s.card.id);
  const status = new Map<string, Outcome>([...outcomes].map(([id, o]) => [id, o.status]));
  const result = packDay(loaded.cards, status, fixed, true);
  const report: PackReport = { day, round, backlog: display(file), backlog_sha256: loaded.sha256, trucks: { A: undefined!, B: undefined! }, done: result.done, held: result.held, deferred: result.deferred };
  const packets: [TruckName, string][] = [];
  const packIds = new Set<string>();
  for (const t of TRUCKS) {
    // A departed truck is reported from its packet, which still lists the cards that since got done.
    const slots = departedSlots.get(t)?.map((s) => ({ ...s, card: { ...s.card, line: 0 } })) ?? result.trucks[t];
    const zero = (): Record<Prio, number> => ({ A: 0, B: 0, C: 0, D: 0 });
    const tr: TruckReport = { cards: slots.length, departed: departed.has(t), by_quota: zero(), backfill_by_quota: zero(), backfill: 0, lanes: {} };
    for (const s of slots) {
      tr.by_quota[s.quota as Prio]++;
      if (s.backfill) {
        tr.backfill++;
        tr.backfill_by_quota[s.quota as Prio]++;
      }
      tr.lanes[String(s.card.lane)] = (tr.lanes[String(s.card.lane)] ?? 0) + 1;
    }
    report.trucks[t] = tr;
    if (departed.has(t) || (opts.skipIfEmpty && departed.size === 0 && TRUCKS.every((x) => result.trucks[x].length === 0))) continue;
    if (opts.dryRun) {
      packets.push([t, '']);
      continue;
    }
    if (slots.length > OPS_120PLUS120.slots) throw new Error(`packer bug: truck ${t} has ${slots.length} slots`);
    const full = await readCardsAtLines(file, slots.map((s) => s.card.line));
    for (const c of full) if (c.pack) packIds.add(c.pack);
    packets.push([t, slots.map((s, k) => serializeSlot(day, round, t, s.slot, s.bundle, s.quota, s.backfill, full[k]!)).join('')]);
  }
  // A dry run (what `g7 status` asks) reports what would be written, and writes nothing.
  if (opts.dryRun) return { ...report, written: departed.size > 0 || packets.length > 0 };
  // The work packs of the cards loaded must load: a bad pack is refused now, not in the middle of the night.
  const packProblems: Problem[] = [];
  for (const id of [...packIds].sort()) packProblems.push(...(await workPackProblems(layout, id, display)));
  if (packProblems.length > 0) throw new SchemaError(packProblems, `a work pack of a card in round ${round} is invalid; nothing was packed`);
  if (departed.size === 0 && packets.length === 0) return { ...report, written: false };
  for (const [t, text] of packets) await writeFileAtomic(packetFile(layout, day, round, t), text);
  await writeFileAtomic(packReportFile(layout, day, round), JSON.stringify(report, null, 2) + '\n');
  return { ...report, written: true };
}

/**
 * `g7 pack`: packs the day's current round, the newest one while one of its trucks still has work, else
 * the next one from what is left (reported, not written, when nothing is left).
 */
export async function packDayFiles(layout: Layout, day: string, display: (p: string) => string): Promise<PackedRound> {
  const rounds = await listRounds(layout, day);
  let round = rounds.at(-1) ?? 1;
  if (rounds.length > 0) {
    const view = await viewRound(layout, day, round, await readTruckProgress(layout, day));
    if (TRUCKS.some((t) => view.trucks[t].departed) && openTrucks(view).length === 0) round++;
  }
  return packRound(layout, day, round, display, { skipIfEmpty: round > 1 });
}

export interface RoundView {
  round: number;
  /** The round's report, when it has been packed. */
  report: PackReport | undefined;
  trucks: Record<TruckName, { cards: number; departed: boolean; finished: boolean }>;
}

/** One round as the journal and its packets see it: per truck, how many cards, whether it departed and finished. */
export async function viewRound(layout: Layout, day: string, round: number, progress: Map<string, { runs: string[]; finished: boolean }>): Promise<RoundView> {
  const trucks = {} as RoundView['trucks'];
  for (const t of TRUCKS) {
    const p = progress.get(truckKey(day, round, t));
    trucks[t] = { cards: (await readPacket(packetFile(layout, day, round, t))).length, departed: (p?.runs.length ?? 0) > 0, finished: p?.finished ?? false };
  }
  return { round, report: await readPackReport(layout, day, round), trucks };
}

/** Trucks of a round that still have work: cards loaded and not finished. */
export function openTrucks(view: RoundView): TruckName[] {
  return TRUCKS.filter((t) => view.trucks[t].cards > 0 && !view.trucks[t].finished);
}

/** True when the backlog changed since the round was packed (or it never was): its undeparted trucks need packing. */
export async function roundIsStale(layout: Layout, day: string, view: RoundView): Promise<boolean> {
  if (!view.report) return true;
  const file = backlogFile(layout, day);
  return (await fileExists(file)) && (await fileSha256(file)) !== view.report.backlog_sha256;
}
