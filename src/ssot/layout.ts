// Where everything lives in an SSOT folder (SPEC 3). The repository root is the folder that holds it.
import path from 'node:path';

export interface Layout {
  repoRoot: string;
  ssotDir: string;
  factoryFile: string;
  plansDir: string;
  backlogDir: string;
  packsDir: string;
  packetsDir: string;
  runsDir: string;
  stateDir: string;
  stateFile: string;
  /** The journal, one file per backlog day: state/journal/YYYYMMDD.jsonl (src/ssot/journal.ts). */
  journalDir: string;
  lockFile: string;
  reworkDir: string;
  libraryIndexDir: string;
  auditDir: string;
  skillsDir: string;
  /** store/: what a night produces in bulk, never committed (README "Where each kind of data lives"). */
  storeDir: string;
  /** store/cache/: the response cache (answers only). Lanes share it: an entry is named by its key. */
  cacheDir: string;
  /**
   * Set for one lane of a lane run (`laneLayout`): the run's evidence folder is the lane's part, and the
   * journal, the state, the audit log, the spend and the strike candidates go to the lane's own records,
   * so that lanes running at once on separate runners never write the same file. The merge job folds
   * them into the factory's files.
   */
  lane?: LanePart | undefined;
}

export interface LanePart {
  run: string;
  lane: number;
  /** The lane's part of the run's evidence pack: runs/run_NNNN/lanes/<lane>/. */
  dir: string;
  /** What the lane records besides its evidence (journal part, state, audit records, spend, strike
   * candidates): state/lanes/run_NNNN/<lane>/, folded into the factory's files by the merge. */
  records: string;
  /** The lane's journal part, one file (the run is on one day): read after the factory's journal of that day. */
  journal: string;
  /** The factory's own state file (what the prepare job left). */
  factoryState: string;
}

export function layoutFor(ssot: string): Layout {
  const ssotDir = path.resolve(ssot);
  const j = (...p: string[]) => path.join(ssotDir, ...p);
  return {
    repoRoot: path.dirname(ssotDir),
    ssotDir,
    factoryFile: j('factory.yaml'),
    plansDir: j('plans'),
    backlogDir: j('backlog'),
    packsDir: j('backlog', 'packs'),
    packetsDir: j('packets'),
    runsDir: j('runs'),
    stateDir: j('state'),
    stateFile: j('state', 'factory_state.json'),
    journalDir: j('state', 'journal'),
    lockFile: j('state', 'run.lock'),
    reworkDir: j('rework'),
    libraryIndexDir: j('library_index'),
    auditDir: j('audit'),
    skillsDir: j('skills'),
    storeDir: j('store'),
    cacheDir: j('store', 'cache'),
  };
}

/** runs/run_NNNN/lanes/<lane>/: where one lane of a lane run writes everything it writes but card outputs. */
export function laneDir(layout: Layout, run: string, lane: number): string {
  return path.join(layout.runsDir, run, 'lanes', String(lane));
}

/** The layout one lane of a lane run works with: its evidence in its part of the run, its journal, state,
 * audit records and strike candidates (libraryIndexDir/strike_list.jsonl) in its own records folder. */
export function laneLayout(layout: Layout, run: string, lane: number): Layout {
  const dir = laneDir(layout, run, lane);
  const records = path.join(layout.stateDir, 'lanes', run, String(lane));
  return {
    ...layout,
    stateFile: path.join(records, 'state.json'),
    auditDir: records,
    libraryIndexDir: records,
    lane: { run, lane, dir, records, journal: path.join(records, 'journal.jsonl'), factoryState: layout.stateFile },
  };
}

/** `2026-11-21` → `20261121`. */
export function dayOf(date: string): string {
  return date.replace(/-/g, '');
}

export function backlogFile(layout: Layout, day: string): string {
  return path.join(layout.backlogDir, `backlog_${day}.jsonl`);
}

/** packets/<day>/round_NN/: one round of the day, two trucks. */
export function roundDir(layout: Layout, day: string, round: number): string {
  return path.join(layout.packetsDir, day, `round_${String(round).padStart(2, '0')}`);
}

export function packetFile(layout: Layout, day: string, round: number, truck: 'A' | 'B'): string {
  return path.join(roundDir(layout, day, round), `packet_${truck}.jsonl`);
}

export function packReportFile(layout: Layout, day: string, round: number): string {
  return path.join(roundDir(layout, day, round), 'pack_report.json');
}

/** Where `g7 plan compile` records what a backlog was compiled from (the plan, the lines of its `lines:` sources). */
export function compileStampFile(layout: Layout, day: string): string {
  return path.join(layout.stateDir, 'compiled', `backlog_${day}.json`);
}

export function workPackFile(layout: Layout, id: string): string {
  return path.join(layout.packsDir, `${id}.json`);
}
