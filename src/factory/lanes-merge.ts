// The merge job of a lane run (README "The lane matrix"; the plan and the lanes are in lanes.ts): folds
// every lane's part into the factory's journal, spend, audit log and strike list, writes the run's
// verify_report.json over every card of the truck, seals the whole run and sets the state from the lanes'
// stops. A lane that died leaves its cards without a result: reported pending, the truck not finished, so
// the next run takes them. Every step can run again (after a crash, a re-run of the workflow): nothing is
// added twice.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CardResult, FactoryState, JournalEvent, PacketSlot, VerifyReport } from '../contracts/types.gen.js';
import { UsageError } from '../contracts/errors.js';
import { appendLines, writeJsonAtomic } from '../ssot/atomic.js';
import { forEachLine } from '../ssot/jsonl.js';
import { appendJournal, readDay, readJournalDay, readJournalFile, readRunResults } from '../ssot/journal.js';
import { laneLayout, packetFile, type Layout } from '../ssot/layout.js';
import { toRepoPath } from '../ssot/paths.js';
import { fileExists } from '../plan/backlog.js';
import { STRIKE_LIST, appendStrikes, strikeKeyOf } from '../ssot/strike-list.js';
import { readPacket } from '../truck/packets.js';
import { EvidenceLedger, runDir, writeRunEvidence } from './evidence.js';
import { readState, writeState } from './state.js';
import { RunLog } from './runlog.js';
import { acquireLock, LockBusyError } from './lock.js';
import { commitAndPush, lanePlanFile, merged, readLanePlan } from './lanes.js';
import { keepWrittenFiles } from './checkpoint.js';
import type { FactoryDeps } from './deps.js';
import type { RunOutcome, RunState } from './run.js';

const EXIT_FOR: Record<RunState, number> = { READY: 0, FAIL_STOP: 4, RECOVERABLE: 5, RUNNING: 5 };

/** A lane's part as the merge finds it: its journal lines, its stop, its state. */
interface LaneFound {
  lane: number;
  events: JournalEvent[];
  stop: RunState | undefined;
  state: FactoryState | undefined;
}

async function readLanePart(layout: Layout, run: string, lane: number, display: (p: string) => string, now: string): Promise<LaneFound> {
  const ll = laneLayout(layout, run, lane);
  const found: LaneFound = { lane, events: [], stop: undefined, state: undefined };
  // The same check as every journal read: a corrupt line in a lane's part stops the merge with its file:line.
  if (await fileExists(ll.lane!.journal))
    await readJournalFile(layout, ll.lane!.journal, (e) => {
      if (e.run !== run) return;
      found.events.push(e);
      if (e.event === 'run_stop') found.stop = e.state;
    });
  if (await fileExists(ll.stateFile)) found.state = await readState(ll, display, now);
  return found;
}

/** Appends the lines of `from` that `to` does not hold yet (a merge that runs again adds nothing twice). */
async function foldLines(from: string, to: string): Promise<number> {
  const have = new Set<string>();
  if (await fileExists(to)) await forEachLine(to, (t) => void (t.trim() && have.add(t)));
  const add: string[] = [];
  await forEachLine(from, (t) => {
    if (t.trim() && !have.has(t)) (have.add(t), add.push(t));
  });
  if (add.length) await appendLines(to, add);
  return add.length;
}

/** Appends the strike candidates of `from` whose chunk (`key`) the strike list does not hold yet. */
async function foldStrikes(from: string, to: string): Promise<number> {
  const lines: { key: string; text: string }[] = [];
  await forEachLine(from, (t) => {
    const key = t.trim() ? strikeKeyOf(t) : undefined; // undefined: a torn tail
    if (key !== undefined) lines.push({ key, text: t });
  });
  return (await appendStrikes(to, lines)).length;
}

/** Adds a lane's spend to the night's, once (the spend file remembers which lane parts it holds). */
async function foldSpend(from: string, to: string, key: string): Promise<void> {
  type SpendFile = { usd: number; tokens_in: number; tokens_out: number; calls: number; lanes_merged?: string[] };
  const lane = JSON.parse(await readFile(from, 'utf8')) as SpendFile;
  let night: SpendFile = { usd: 0, tokens_in: 0, tokens_out: 0, calls: 0 };
  try {
    night = JSON.parse(await readFile(to, 'utf8')) as SpendFile;
  } catch {
    /* the first spend of the night */
  }
  if (night.lanes_merged?.includes(key)) return;
  await writeJsonAtomic(to, { usd: night.usd + lane.usd, tokens_in: night.tokens_in + lane.tokens_in, tokens_out: night.tokens_out + lane.tokens_out, calls: night.calls + lane.calls, lanes_merged: [...(night.lanes_merged ?? []), key] });
}

async function namesIn(dir: string, re: RegExp): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => re.test(n)).sort();
}

/** The card's entry in the report, from its summary in the lane's part (a SKIP has none: from the journal). */
async function cardEntry(layout: Layout, run: string, lane: number, slot: PacketSlot, e: JournalEvent): Promise<CardResult> {
  const prefix = `lanes/${lane}/`;
  const dir = `cards/${String(slot.slot).padStart(3, '0')}_${slot.card.id}`;
  try {
    const c = JSON.parse(await readFile(path.join(layout.runsDir, run, prefix, dir, 'summary.json'), 'utf8')) as CardResult;
    return { ...c, detail: prefix + c.detail };
  } catch {
    return { id: slot.card.id, slot: slot.slot, lane: slot.card.lane, type: slot.card.type, status: e.status ?? 'SKIP', attempts: 0, accept: [], failfast: [], triage: null, duration_ms: 0, tokens: { in: 0, out: 0 }, cost_usd: 0, outputs: [], detail: e.detail ?? '' };
  }
}

/**
 * The merge job: folds every lane's part into the factory's files, seals the run over all of it, sets the
 * state and commits. Safe to run again (after a crash, or a re-run of the workflow): nothing is added twice.
 */
export async function mergeLanes(deps: FactoryDeps, run: string, opts: { commit: boolean; push: boolean }): Promise<RunOutcome> {
  const { layout } = deps;
  const plan = await readLanePlan(layout, run);
  if (!plan) throw new UsageError(`${run} is not a lane run: ${toRepoPath(layout.repoRoot, lanePlanFile(layout, run))} does not exist`);
  const evidence = toRepoPath(layout.repoRoot, runDir(layout, run));
  if (await merged(layout, run, deps.display, deps.now())) return { code: 'NOTHING', state: (await readState(layout, deps.display, deps.now())).state, runId: run, passed: 0, failed: 0, evidence, message: `${run} has been merged already` };
  const log = RunLog.open(runDir(layout, run), deps.redact, { at: deps.now(), why: `merges lanes ${plan.lanes.map((l) => l.lane).join(', ')}` });
  const say = (line: string) => (log.line(line), deps.log(line));
  try {
    const parts: LaneFound[] = [];
    for (const { lane } of plan.lanes) parts.push(await readLanePart(layout, run, lane, deps.display, deps.now()));

    // The journal: each lane's lines, in lane order, each once.
    const have = new Set<string>();
    await readJournalDay(layout, plan.day, (e) => void (e.run === run && have.add(JSON.stringify(e))));
    const add = parts.flatMap((p) => p.events).filter((e) => !have.has(JSON.stringify(e)));
    if (add.length) await appendJournal(layout, add);
    // The spend of the lanes' model calls, and the strike candidates their TAG cards found. A lane writes its
    // audit records to the store and pushes them to g7/audit itself; only the part of a lane run by a g7 of
    // before that has them among its records (folded into the old layout's day files, which readers read).
    for (const p of parts) {
      const dir = laneLayout(layout, run, p.lane).lane!.records;
      for (const n of await namesIn(path.join(dir, 'ai-ask'), /\.jsonl$/)) await foldLines(path.join(dir, 'ai-ask', n), path.join(layout.auditDir, 'ai-ask', n));
      for (const n of await namesIn(dir, /^spend_\d{8}\.json$/)) await foldSpend(path.join(dir, n), path.join(layout.stateDir, n), `${run}/${p.lane}`);
      if (await fileExists(path.join(dir, STRIKE_LIST))) {
        const added = await foldStrikes(path.join(dir, STRIKE_LIST), path.join(layout.libraryIndexDir, STRIKE_LIST));
        if (added) say(`lane ${p.lane}: ${added} new strike candidate(s) on ${toRepoPath(layout.repoRoot, path.join(layout.libraryIndexDir, STRIKE_LIST))}`);
      }
    }

    // The report over every card of the truck: a card without a result in any lane is pending.
    const slots = await readPacket(packetFile(layout, plan.day, plan.round, plan.truck));
    const results = await readRunResults(layout, run, plan.day);
    const cards: CardResult[] = [];
    const outputs: string[] = [];
    for (const s of slots) {
      const e = results.get(s.card.id);
      if (!e) continue;
      cards.push(await cardEntry(layout, run, s.card.lane, s, e));
      for (const o of e.outputs ?? []) outputs.push(o.path);
    }
    const count = (st: string) => cards.filter((c) => c.status === st).length;

    // The state: a lane that stopped FAIL_STOP wins, then RECOVERABLE, then a lane that never stopped.
    const state = await readState(layout, deps.display, deps.now());
    const stopOf = (p: LaneFound) => p.state?.last_stop ?? null;
    const failed = parts.find((p) => p.stop === 'FAIL_STOP');
    const waiting = parts.filter((p) => p.stop === 'RECOVERABLE');
    const died = parts.filter((p) => !p.stop);
    for (const p of parts) {
      const mine = slots.filter((s) => s.card.lane === p.lane);
      const got = mine.filter((s) => results.has(s.card.id)).length;
      say(`lane ${p.lane}: ${p.stop ?? 'did not finish (its job died, was cancelled, or its push did not land)'}, ${got} of ${mine.length} card(s) with a result${got < mine.length ? `; ${mine.length - got} go to the next run` : ''}`);
    }
    let next: FactoryState;
    const base = { ...state, owner: null, bundle: null, batches: [...(state.batches ?? []).filter((b) => !slots.some((s) => s.card.id === b.card)), ...parts.flatMap((p) => p.state?.batches ?? [])], updated_at: deps.now(), heartbeat_at: deps.now() };
    if (failed) next = { ...base, state: 'FAIL_STOP', last_stop: stopOf(failed), stalled: 0 };
    else if (waiting.length) {
      const stops = waiting.map(stopOf).filter((s) => s !== null);
      const latest = stops.reduce<(typeof stops)[number] | undefined>((a, s) => (!a || (s.retry_after ?? '') > (a.retry_after ?? '') ? s : a), undefined);
      next = { ...base, state: 'RECOVERABLE', last_stop: latest ?? null, stalled: Math.max(0, ...waiting.map((p) => p.state?.stalled ?? 0)) };
    } else if (died.length) {
      const missing = slots.filter((s) => died.some((p) => p.lane === s.card.lane) && !results.has(s.card.id)).length;
      next = { ...base, state: 'RECOVERABLE', stalled: state.stalled ?? 0, last_stop: { at: deps.now(), reason: `lane(s) ${died.map((p) => p.lane).join(', ')} of ${run} did not finish: ${missing} card(s) have no result; the next run takes them`, card: null, triage: null, transient: true, retry_after: deps.now(), hint: 'read the lane jobs\' logs; nothing to fix when a runner was lost', files: died.map((p) => `${evidence}/lanes/${p.lane}`) } };
    } else next = { ...base, state: 'READY', last_stop: null, stalled: 0 };
    // Lanes the prepare job left out (it was given some lanes only) still have cards: the truck goes on.
    const { outcomes } = await readDay(layout, plan.day);
    const planned = plan.lanes.map((l) => l.lane);
    const leftOut = [...new Set(slots.filter((s) => !planned.includes(s.card.lane) && !results.has(s.card.id) && outcomes.get(s.card.id)?.status !== 'PASS').map((s) => s.card.lane))].sort((a, b) => a - b);
    const reason = next.last_stop?.reason ?? (leftOut.length ? `lanes ${planned.join(', ')} of round ${plan.round} truck ${plan.truck} of ${plan.day} done (${count('PASS')} passed); lanes ${leftOut.join(', ')} were not in this run: the next run takes them` : `round ${plan.round} truck ${plan.truck} of ${plan.day} finished: ${count('PASS')} passed`);
    say(`${run}: ${next.state} — ${reason}`);
    // The run's own stop; a READY one without \`lanes\` finishes the truck.
    await appendJournal(layout, [{ ts: deps.now(), event: 'run_stop', run, day: plan.day, round: plan.round, truck: plan.truck, state: next.state, detail: reason.slice(0, 500), ...(leftOut.length ? { lanes: planned } : {}) }]);

    const report: VerifyReport = {
      schema_version: 1, run_id: run, day: plan.day, round: plan.round, truck: plan.truck, started_at: plan.created_at, finished_at: deps.now(), state: next.state,
      counts: { passed: count('PASS'), failed: count('FAIL'), skipped: count('SKIP'), pending: slots.length - cards.length },
      cost_usd: Number(cards.reduce((a, c) => a + c.cost_usd, 0).toFixed(6)), tokens: cards.reduce((t, c) => ({ in: t.in + c.tokens.in, out: t.out + c.tokens.out }), { in: 0, out: 0 }), cards,
    };
    log.flush();
    const digest = await writeRunEvidence(layout, new EvidenceLedger(runDir(layout, run)), { report, exitCode: EXIT_FOR[next.state], outputs }, deps.now());
    await writeState(layout, next);
    const refused = await commitAndPush(deps, opts, outputs, `g7: ${run} round ${plan.round} truck ${plan.truck} lanes merged: ${next.state}, ${report.counts.passed} passed, ${report.counts.failed} failed`, {
      'G7-Run': run, 'G7-Day': plan.day, 'G7-Round': plan.round, 'G7-Truck': plan.truck, 'G7-Bundle': 0, 'G7-State': next.state,
      'G7-Passed': report.counts.passed, 'G7-Failed': report.counts.failed, 'G7-Manifest': `sha256:${digest}`, 'G7-Lanes': plan.lanes.map((l) => l.lane).join(',') || 'none',
    });
    if (refused) {
      next.unpushed = { since: deps.now(), reason: refused.message, parked: refused.parked ?? null };
      await writeState(layout, next);
    }
    const code = refused ? 'UNPUSHED' : next.state === 'READY' ? 'OK' : next.state === 'FAIL_STOP' ? 'FAIL_STOP' : 'RECOVERABLE';
    return { code, state: next.state, runId: run, passed: report.counts.passed, failed: report.counts.failed, evidence, message: refused ? `${reason}\n  the merged evidence is committed here but NOT on the remote: ${refused.message}` : reason, ...(next.last_stop?.retry_after ? { retryAfter: next.last_stop.retry_after } : {}), ...(refused ? { unpushed: refused.message } : {}), ...(refused?.parked ? { parked: refused.parked } : {}) };
  } finally {
    log.close();
  }
}

/** `g7 lanes merge`: under the factory's lock, the named lane run or the one the state names. Undefined: none to merge. */
export async function mergeLaneRun(deps: FactoryDeps, run: string | undefined, opts: { commit: boolean; push: boolean }): Promise<RunOutcome | undefined> {
  let lock;
  try {
    lock = await acquireLock(deps.layout.lockFile, deps.now());
  } catch (err) {
    if (err instanceof LockBusyError) return { code: 'BUSY', state: 'RUNNING', passed: 0, failed: 0, message: err.message };
    throw err;
  }
  try {
    // Kept also under --no-commit: what this run writes is committed by the next run that commits.
    if (deps.git) await keepWrittenFiles(deps.git);
    const id = run ?? (await readState(deps.layout, deps.display, deps.now())).run_id ?? undefined;
    if (!id) return undefined;
    if (!run && !(await readLanePlan(deps.layout, id))) return { code: 'NOTHING', state: (await readState(deps.layout, deps.display, deps.now())).state, runId: id, passed: 0, failed: 0, message: `${id}, the run the state names, is not a lane run: nothing to merge` };
    return await mergeLanes(deps, id, opts);
  } finally {
    await lock.release();
  }
}

/** The lane run the factory's state points at, when the merge has not sealed it yet. */
export async function unmergedLaneRun(layout: Layout, state: FactoryState): Promise<string | undefined> {
  if (state.state !== 'RUNNING' || !state.run_id) return undefined;
  return (await readLanePlan(layout, state.run_id)) ? state.run_id : undefined;
}
