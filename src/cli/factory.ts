// `g7 run | resume | verify | log`: the factory commands (`g7 status` is in status.ts).
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { formatProblem, UsageError } from '../contracts/errors.js';
import type { JournalEvent } from '../contracts/types.gen.js';
import type { Layout } from '../ssot/layout.js';
import { backlogFile, packetFile } from '../ssot/layout.js';
import { writeJsonAtomic } from '../ssot/atomic.js';
import { runFactory, timeBudgetFrom, type RunOutcome, type TimeBudget } from '../factory/run.js';
import { commitWritten, keepWrittenFiles } from '../factory/checkpoint.js';
import type { FactoryDeps } from '../factory/deps.js';
import { readState, writeState } from '../factory/state.js';
import { appendJournal } from '../ssot/journal.js';
import { listRuns, verifyRun } from '../factory/evidence.js';
import { latestBacklogDay, listRounds } from '../truck/packets.js';
import { Git } from '../git/git.js';
import { factoryDeps } from './settings.js';
import { commitsIn } from '../factory/gates.js';
import { loadConfig } from '../ssot/config.js';
import { nowIso, nowMs } from '../host/clock.js';
import { EXIT } from './exit.js';
import type { Io } from './main.js';
import type { Worker } from '../worker/worker.js';

export interface Common {
  layout: Layout;
  json: boolean;
  io: Io;
  display: (p: string) => string;
  worker?: Worker;
}

const CODE = { OK: EXIT.OK, NOTHING: EXIT.OK, WAITING: EXIT.OK, FAIL_STOP: EXIT.FAIL_STOP, RECOVERABLE: EXIT.RECOVERABLE, REFUSED: EXIT.REFUSED, BUSY: EXIT.BUSY, UNPUSHED: EXIT.UNPUSHED, CANCELLED: EXIT.CANCELLED } as const;

/** `--max-minutes N` / the action's `max-minutes`: the budget from now on. Undefined when not given. */
function timeBudgetOf(text: string | undefined, what: string): TimeBudget | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const minutes = Number(text);
  if (!Number.isFinite(minutes) || minutes <= 0) throw new UsageError(`${what} takes a number of minutes above 0 (e.g. 50), got "${text}"`);
  return timeBudgetFrom(minutes, nowMs());
}

export async function runCommand(c: Common, opts: { truck?: string; lanes?: string; commit: boolean; push?: boolean; maxMinutes?: string }): Promise<number> {
  const timeBudget = timeBudgetOf(opts.maxMinutes, '--max-minutes');
  if (opts.truck && opts.truck !== 'A' && opts.truck !== 'B') throw new UsageError(`--truck must be A or B, got "${opts.truck}"`);
  const lanes = opts.lanes ? opts.lanes.split(',').map((s) => Number(s.trim())) : undefined;
  if (lanes && lanes.some((l) => !Number.isInteger(l) || l < 1 || l > 8)) throw new UsageError(`--lanes takes lane numbers 1-8, comma separated; got "${opts.lanes}"`);
  const { deps, config } = await factoryDeps({
    layout: c.layout, display: c.display, worker: c.worker,
    log: (l) => (c.json ? undefined : c.io.out(l)), warn: (l) => c.io.err(`warning: ${l}`),
  });
  const commit = commitsIn(c.display(c.layout.repoRoot), deps.git !== undefined, opts.commit, config);
  const push = opts.push ?? config.git.push;
  // A push to a remote that does not exist is not the remote refusing it: say so before anything runs.
  if (push && deps.git && (await deps.git.run(['remote', 'get-url', config.git.remote], { allowFail: true })).code !== 0) {
    const asked = opts.push ? '--push' : 'git.push: true in factory.yaml';
    throw new UsageError(`${asked}, but this repository has no git remote "${config.git.remote}"\n  → add it (git remote add ${config.git.remote} URL) or run without ${opts.push ? '--push' : 'git.push'}`);
  }
  const outcome = await runFactory(deps, { truck: opts.truck as 'A' | 'B' | undefined, lanes, commit, push, unpushedOk: opts.push === false, timeBudget });
  return reportOutcome(c, 'g7 run', outcome, deps);
}

/** Prints a run's outcome (the log said the rest) and returns the exit code. */
export function reportOutcome(c: Common, name: string, outcome: RunOutcome, deps: Pick<FactoryDeps, 'redact' | 'worker'>): number {
  const message = deps.redact(outcome.message);
  if (c.json) c.io.out(JSON.stringify({ ...outcome, message, paid_worker_calls: deps.worker.paidCalls }));
  else if (outcome.code === 'NOTHING' || outcome.code === 'WAITING') c.io.out(message);
  else if (outcome.code === 'OK') return EXIT.OK; // the run's last log line said it
  else c.io.err(`${name}: ${outcome.code}: ${message}`);
  return outcome.code === 'CANCELLED' && outcome.signal === 'SIGTERM' ? 143 : CODE[outcome.code];
}

/** True when `id` is a card of the day: in its backlog, or in a packet (a card since dropped from a recompiled backlog). */
async function isCardOf(layout: Layout, day: string, id: string): Promise<boolean> {
  const needle = `"id":${JSON.stringify(id)}`;
  const files = [backlogFile(layout, day)];
  for (const r of await listRounds(layout, day)) for (const t of ['A', 'B'] as const) files.push(packetFile(layout, day, r, t));
  for (const f of files) if ((await readFile(f, 'utf8').catch(() => '')).includes(needle)) return true;
  return false;
}

export async function resumeCommand(c: Common, opts: { commit: boolean; skip?: string; reason?: string }): Promise<number> {
  if (opts.skip !== undefined && !opts.reason?.trim()) throw new UsageError('--skip needs --reason "…": why the card is dropped goes into the journal');
  if (opts.reason !== undefined && opts.skip === undefined) throw new UsageError('--reason goes with --skip CARD');
  const now = nowIso();
  const state = await readState(c.layout, c.display, now);
  if (state.state === 'RUNNING') {
    c.io.out('a run is in progress or was interrupted: `g7 run` resumes it (no `g7 resume` needed)');
    return EXIT.OK;
  }
  if (state.state === 'READY' && opts.skip === undefined) {
    c.io.out('nothing to resume: the factory is READY');
    return EXIT.OK;
  }
  const git = new Git(c.layout.repoRoot);
  const commit = commitsIn(c.display(c.layout.repoRoot), await git.isRepo(), opts.commit, await loadConfig(c.layout, c.display));
  if (commit) await keepWrittenFiles(git);
  const day = state.day ?? (await latestBacklogDay(c.layout));
  const skip = opts.skip;
  if (skip !== undefined && (!day || !(await isCardOf(c.layout, day, skip)))) throw new UsageError(`no card ${skip} in the backlog or the trucks of ${day ?? 'any day'}`);
  const run = state.run_id ? { run: state.run_id } : {};
  const failed = state.state === 'FAIL_STOP' ? (state.last_stop?.card ?? undefined) : undefined;
  const events: JournalEvent[] = [];
  if (skip !== undefined) events.push({ ts: now, event: 'skip', day: day!, card: skip, ...run, detail: opts.reason!.trim() });
  if (failed && failed !== skip && day) events.push({ ts: now, event: 'requeue', day, card: failed, ...run, ...(state.truck ? { truck: state.truck } : {}), detail: `requeued by g7 resume on ${hostname()}` });
  events.push({ ts: now, event: 'resume', day: day ?? now.slice(0, 10).replace(/-/g, ''), state: 'READY', ...run, detail: `from ${state.state}` });
  await appendJournal(c.layout, events);
  if (failed) {
    for (const f of state.last_stop?.files ?? []) {
      if (!f.includes('/rework/')) continue;
      const abs = path.join(c.layout.repoRoot, f);
      try {
        const pack = JSON.parse(await readFile(abs, 'utf8'));
        await writeJsonAtomic(abs, failed === skip ? { ...pack, status: 'skipped', skipped_at: now, skipped_because: opts.reason!.trim() } : { ...pack, status: 'requeued', requeued_at: now });
      } catch {
        /* a rework pack a person removed */
      }
    }
  }
  await writeState(c.layout, { ...state, state: 'READY', owner: null, last_stop: null, stalled: 0, updated_at: now });
  const did = [skip !== undefined ? `${skip} skipped (its dependents are held back)` : '', failed && failed !== skip ? `${failed} requeued` : ''].filter(Boolean).join('; ');
  c.io.out(`${state.state} → READY${did ? `; ${did}` : ''}. The next \`g7 run\` continues ${state.truck ? `round ${state.round ?? 1} truck ${state.truck} of ${state.day}` : 'with the next truck'}.`);
  if (commit) {
    const trailers: Record<string, string> = { 'G7-Run': state.run_id ?? 'none', 'G7-State': 'READY', 'G7-Resume': state.state };
    if (skip !== undefined) trailers['G7-Skip'] = skip;
    await commitWritten(git, c.layout, [], `g7: resume ${state.run_id ?? ''} from ${state.state}${skip ? `, skip ${skip}` : ''}`, trailers);
  }
  return EXIT.OK;
}

export async function verifyCommand(c: Common, arg: string | undefined): Promise<number> {
  const runs = await listRuns(c.layout);
  // A run id, or the path of its folder (what g7 status and g7 run print).
  let id = arg ?? runs.at(-1);
  if (arg && /[\\/]/.test(arg)) {
    const abs = path.resolve(arg);
    if (path.dirname(abs) !== c.layout.runsDir) throw new UsageError(`${arg} is not a run folder of ${c.display(c.layout.runsDir)}`);
    id = path.basename(abs);
  }
  if (!id) {
    // Nothing has run yet: nothing is wrong (like `g7 run` with nothing to run), and nothing was checked.
    if (c.json) c.io.out(JSON.stringify({ run: null, ok: true, complete: false, checked: 'nothing: there is no run yet', history: null, problems: [] }));
    else c.io.out('nothing to verify: there is no run yet');
    return EXIT.OK;
  }
  if (!/^run_\d{4,}$/.test(id)) throw new UsageError(`a run id looks like run_0001 (or its folder, ssot/runs/run_0001), got "${id}"`);
  if (!runs.includes(id)) throw new UsageError(`no such run: ${id} (${runs.length ? `the runs are ${runs[0]} … ${runs.at(-1)}` : 'there are no runs yet'})`);
  const git = new Git(c.layout.repoRoot);
  const v = await verifyRun(c.layout, id, c.display, git);
  const against = v.history
    ? `evidence against its manifest; ${v.history.outputs} output(s) rewritten since, checked against the run's seal commit ${v.history.commit.slice(0, 10)}`
    : 'evidence and outputs against its manifest, in the working tree';
  if (c.json) c.io.out(JSON.stringify({ run: id, ok: v.ok, complete: v.complete, checked: against, history: v.history ?? null, problems: v.problems }));
  else {
    c.io.out(`${v.ok ? 'ok  ' : 'FAIL'} ${id}: ${v.ok ? `verifies${v.complete ? '' : ' (not complete: the run has not stopped)'}` : `${v.problems.length} problem(s)`} (${against})`);
    for (const p of v.problems) c.io.err(formatProblem(p));
  }
  return v.ok ? EXIT.OK : EXIT.INVALID_INPUT;
}

export async function logCommand(c: Common): Promise<number> {
  const git = new Git(c.layout.repoRoot);
  if (!(await git.isRepo())) throw new UsageError(`${c.display(c.layout.repoRoot)} is not a git repository`);
  const commits = (await git.commitsWithTrailer('G7-Run')).reverse();
  type Row = { run: string; day: string; round: number; truck: string; state: string; passed: number; failed: number; commits: number; first: string; last: string; sha: string; resumed: string | null };
  const runs = new Map<string, Row>();
  for (const k of commits) {
    const t = k.trailers;
    const id = t['G7-Run']!;
    // A person's `g7 resume` names the run it resumed; the run's own stop stays what the history shows.
    if (t['G7-Resume'] !== undefined) {
      const r = runs.get(id);
      if (r) r.resumed = `${t['G7-Resume']} → ${t['G7-State'] ?? 'READY'} by g7 resume${t['G7-Skip'] ? ` (skipped ${t['G7-Skip']})` : ''} at ${k.date}`;
      continue;
    }
    const r = runs.get(id) ?? { run: id, day: t['G7-Day'] ?? '', round: Number(t['G7-Round'] ?? 1), truck: t['G7-Truck'] ?? '', state: '', passed: 0, failed: 0, commits: 0, first: k.date, last: k.date, sha: k.sha, resumed: null };
    runs.set(id, r);
    r.commits++;
    // A lane's commits count one lane only; the run's state and totals are the prepare's and the merge's.
    if (t['G7-Lane'] !== undefined) continue;
    r.state = t['G7-State'] ?? r.state;
    if (t['G7-Passed'] !== undefined) r.passed = Number(t['G7-Passed']);
    if (t['G7-Failed'] !== undefined) r.failed = Number(t['G7-Failed']);
    r.last = k.date;
    r.sha = k.sha;
  }
  const list = [...runs.values()];
  if (c.json) c.io.out(JSON.stringify(list));
  else {
    if (list.length === 0) c.io.out('no g7 runs in this repository\'s history yet');
    for (const r of list)
      c.io.out(`${r.run}  ${r.day} round ${r.round} truck ${r.truck}  ${r.state.padEnd(11)} ${String(r.passed).padStart(3)} passed ${String(r.failed).padStart(2)} failed  ${r.commits} commit(s)  ${r.last}  ${r.sha.slice(0, 10)}${r.resumed ? `\n    then ${r.resumed}` : ''}`);
  }
  return EXIT.OK;
}
