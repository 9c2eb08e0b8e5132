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
  journalFile: string;
  lockFile: string;
  reworkDir: string;
  libraryIndexDir: string;
  auditDir: string;
  skillsDir: string;
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
    journalFile: j('state', 'journal.jsonl'),
    lockFile: j('state', 'run.lock'),
    reworkDir: j('rework'),
    libraryIndexDir: j('library_index'),
    auditDir: j('audit'),
    skillsDir: j('skills'),
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
