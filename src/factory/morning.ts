// The morning report: what the night did, read from the files alone (the journal, every run's verify report,
// the rework packs, coreloop's candidates) and from git (coreloop's branches), as Markdown a person reads
// over coffee: the states through the night, trucks and rounds, cards by outcome and triage class, tokens
// and cost, what needs a person, and what to do now.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FactoryState, JournalEvent, VerifyReport } from '../contracts/types.gen.js';
import { readForecast } from '../ssot/forecast.js';
import type { Layout } from '../ssot/layout.js';
import { readJournalDay, readJournalWindow } from '../ssot/journal.js';
import { listRuns, runDir, REPORT } from './evidence.js';
import { packetFile } from '../ssot/layout.js';
import { readPacket } from '../truck/packets.js';
import type { ReworkPack } from './rework.js';
import type { Git } from '../git/git.js';

export interface MorningInput {
  layout: Layout;
  git: Git | undefined;
  state: FactoryState;
  /** What the next scheduled job will do (g7 status's `next:` line). */
  next: string;
  /** The window: events at or after `since` (ISO), up to `now`. */
  since: string;
  now: string;
  display: (p: string) => string;
}

export interface Morning {
  since: string;
  now: string;
  /** Every stop of the window, in order: when, which run, which state, why. */
  /** `lane` is set for a lane job's own stop (its part of the run); the merge job's stop is the run's. */
  stops: { at: string; run: string; round: number; truck: string; lane?: number; state: string; why: string }[];
  /** A person's restarts in the window. */
  resumes: { at: string; run: string; detail: string }[];
  /**
   * Per run: its results, and `pending`: the cards of its truck that had no result from any run when it
   * stopped (cards earlier runs finished are not counted). Tokens and cost are its verify report's: what
   * its cards' answers cost, a call a killed process paid for counted once by the card that used it.
   */
  runs: { id: string; round: number; truck: string; state: string; passed: number; failed: number; skipped: number; pending: number; tokensIn: number; tokensOut: number; cost: number }[];
  /** Rounds and trucks that departed in the window. */
  trucks: string[];
  cards: { passed: number; failed: number; skipped: number; reworked: number; failedBy: Record<string, number> };
  tokens: { in: number; out: number };
  cost: number;
  /** Per plan day of the window's runs with a recorded forecast (g7 plan estimate --record): forecast against paid. */
  forecasts: { day: string; plan: string; recorded_at: string; forecast: { in: number; out: number; usd: number }; paid: { in: number; out: number; usd: number } }[];
  rework: { file: string; card: string; triage: string; status: string; lookAt: string }[];
  candidates: { file: string; count: number }[];
  branches: string[];
  state: FactoryState;
  next: string;
}

const inWindow = (ts: string | undefined, m: { since: string; now: string }) => !!ts && ts >= m.since && ts <= m.now;

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

export async function collectMorning(o: MorningInput): Promise<Morning> {
  const m: Morning = {
    since: o.since, now: o.now, stops: [], resumes: [], runs: [], trucks: [], cards: { passed: 0, failed: 0, skipped: 0, reworked: 0, failedBy: {} },
    tokens: { in: 0, out: 0 }, cost: 0, forecasts: [], rework: [], candidates: [], branches: [], state: o.state, next: o.next,
  };
  const runsInWindow = new Set<string>();
  const paidByDay = new Map<string, { in: number; out: number; usd: number }>();
  const trucks = new Set<string>();
  await readJournalWindow(o.layout, o.since, o.now, (e: JournalEvent) => {
    if (e.run) runsInWindow.add(e.run);
    if (e.event === 'run_start') trucks.add(`round ${e.round ?? 1} truck ${e.truck} of ${e.day}`);
    if (e.event === 'run_stop') {
      // A lane job's stop carries its one lane; a merge that left lanes out lists several and is the run's stop.
      const lane = e.lanes?.length === 1 ? e.lanes[0] : undefined;
      m.stops.push({ at: e.ts, run: e.run ?? '', round: e.round ?? 1, truck: e.truck ?? '', ...(lane !== undefined ? { lane } : {}), state: e.state ?? '', why: e.detail ?? '' });
    }
    if (e.event === 'resume') m.resumes.push({ at: e.ts, run: e.run ?? '', detail: e.detail ?? '' });
    // A process that died without a clean stop: shown when the next one took its run over.
    if (e.event === 'run_resumed') m.stops.push({ at: e.ts, run: e.run ?? '', round: e.round ?? 1, truck: e.truck ?? '', state: 'INTERRUPTED', why: e.detail ?? '' });
  });
  m.trucks = [...trucks];
  const reports: { id: string; r: VerifyReport }[] = [];
  for (const id of await listRuns(o.layout)) {
    if (!runsInWindow.has(id)) continue;
    const r = await readJson<VerifyReport>(path.join(runDir(o.layout, id), REPORT));
    if (r) reports.push({ id, r });
  }
  const results = reports.length ? await resultLines(o.layout, [...new Set(reports.map((x) => x.r.day))]) : { cards: new Map<string, ResultLines>(), lastLine: new Map<string, number>() };
  for (const { id, r } of reports) {
    let pending = 0;
    try {
      const end = results.lastLine.get(id) ?? Infinity;
      for (const s of await readPacket(packetFile(o.layout, r.day, r.round ?? 1, r.truck as 'A' | 'B'))) if (!hadResult(results.cards.get(`${r.day}/${s.card.id}`), end)) pending++;
    } catch {
      pending = r.counts.pending; // the packet is gone: the run's own count
    }
    const run = {
      id, round: r.round ?? 1, truck: r.truck, state: r.state, ...r.counts, pending,
      // What its cards counted: a card's answers, paid or replayed from the cache, so the calls a killed
      // process paid for are counted by the resume that used them. Never the cache itself (SPEC 3a).
      tokensIn: r.tokens?.in ?? 0, tokensOut: r.tokens?.out ?? 0, cost: r.cost_usd ?? 0,
    };
    m.runs.push(run);
    for (const c of r.cards) {
      if (c.status === 'PASS') m.cards.passed++;
      else if (c.status === 'SKIP') m.cards.skipped++;
      else {
        m.cards.failed++;
        const k = c.triage?.class ?? '?';
        m.cards.failedBy[k] = (m.cards.failedBy[k] ?? 0) + 1;
      }
      if (c.attempts > 1 && c.status === 'PASS') m.cards.reworked++;
    }
    m.tokens.in += run.tokensIn;
    m.tokens.out += run.tokensOut;
    m.cost += run.cost;
    const paid = (paidByDay.get(r.day) ?? paidByDay.set(r.day, { in: 0, out: 0, usd: 0 }).get(r.day)!);
    paid.in += run.tokensIn;
    paid.out += run.tokensOut;
    paid.usd += run.cost;
  }
  for (const [day, paid] of [...paidByDay].sort()) {
    const f = await readForecast(o.layout, day);
    if (f) m.forecasts.push({ day, plan: f.plan, recorded_at: f.recorded_at, forecast: { in: f.tokens_in, out: f.tokens_out, usd: f.usd }, paid });
  }
  for (const name of (await readdir(o.layout.reworkDir).catch(() => [] as string[])).filter((n) => n.endsWith('.json')).sort()) {
    const file = path.join(o.layout.reworkDir, name);
    const p = await readJson<ReworkPack>(file);
    if (!p || !inWindow(p.created_at, o)) continue;
    m.rework.push({ file: o.display(file), card: p.card.id, triage: p.triage.class, status: p.status, lookAt: p.look_at });
  }
  const candDir = path.join(o.layout.auditDir, 'candidates');
  for (const name of (await readdir(candDir).catch(() => [] as string[])).filter((n) => n.endsWith('-candidates.json')).sort()) {
    const c = await readJson<{ candidates?: unknown[] }>(path.join(candDir, name));
    m.candidates.push({ file: o.display(path.join(candDir, name)), count: c?.candidates?.length ?? 0 });
  }
  if (o.git) {
    const refs = await o.git.run(['for-each-ref', '--format=%(refname:short)', 'refs/heads/skill/', 'refs/remotes/'], { allowFail: true });
    m.branches = [...new Set(refs.stdout.split('\n').map((l) => l.trim().replace(/^origin\//, '')).filter((l) => l.startsWith('skill/docstring-')))].sort();
  }
  return m;
}

/**
 * Per `day/card`: the places in its day's journal of its results and of its requeues (a requeue clears a
 * result); per run, the place of its (last) stop. Journal order, not timestamps: a lane's lines are appended
 * by the merge, before its stop. A run and its cards are of one day, so places are compared within a day.
 */
interface ResultLines {
  results: number[];
  requeues: number[];
}

async function resultLines(layout: Layout, days: string[]): Promise<{ cards: Map<string, ResultLines>; lastLine: Map<string, number> }> {
  const cards = new Map<string, ResultLines>();
  const lastLine = new Map<string, number>();
  for (const day of days)
    await readJournalDay(layout, day, (e, line) => {
      if (e.run && e.event === 'run_stop') lastLine.set(e.run, line);
      if (!e.card || (e.event !== 'card_result' && e.event !== 'requeue' && e.event !== 'skip')) return;
      const key = `${e.day}/${e.card}`;
      const t = cards.get(key) ?? { results: [], requeues: [] };
      (e.event === 'requeue' ? t.requeues : t.results).push(line);
      cards.set(key, t);
    });
  return { cards, lastLine };
}

/** True when the card had a result by journal line `end` (its last result by then came after its last requeue). */
function hadResult(t: ResultLines | undefined, end: number): boolean {
  if (!t) return false;
  const last = (xs: number[]) => xs.filter((x) => x <= end).at(-1);
  const result = last(t.results);
  const requeue = last(t.requeues);
  return result !== undefined && (requeue === undefined || result > requeue);
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const usd = (x: number) => `$${x.toFixed(4)}`;
const hhmm = (ts: string) => ts.slice(0, 16).replace('T', ' ');

export function morningMarkdown(m: Morning): string {
  const L: string[] = [];
  const s = m.state;
  const interrupted = m.stops.filter((x) => x.state === 'INTERRUPTED').length;
  L.push(`# Morning report: ${hhmm(m.since)} → ${hhmm(m.now)} UTC`, '');
  L.push(`**Now: ${s.state}**${s.run_id ? ` (${s.run_id}, round ${s.round ?? 1} truck ${s.truck} of ${s.day})` : ''}. ${m.trucks.length} truck(s) (${m.trucks.join(', ') || 'none'}) in ${m.runs.length} run(s), ${m.stops.filter((x) => x.lane === undefined && x.state !== 'INTERRUPTED').length} stop(s)${m.stops.some((x) => x.lane !== undefined) ? ` (and ${m.stops.filter((x) => x.lane !== undefined).length} of single lanes)` : ''}${interrupted ? `, ${interrupted} interruption(s) without a clean stop (a kill, a lost runner), each resumed` : ''}.`, '');
  L.push('## What to do now', '');
  if (s.state === 'FAIL_STOP' && s.last_stop) {
    L.push(`1. Read why it stopped: ${s.last_stop.reason}`);
    for (const f of s.last_stop.files) L.push(`   - \`${f}\``);
    L.push(`2. ${s.last_stop.hint ? `Fix: ${s.last_stop.hint}` : 'Fix the cause the rework pack names (its `look_at`).'}`);
    L.push(`3. Then \`g7 resume\` (on GitHub: dispatch the factory workflow with resume), or \`g7 resume --skip ${s.last_stop.card ?? 'CARD'} --reason "…"\` to drop the card.`);
  } else L.push(`- ${m.next}`);
  if (s.unpushed) L.push(`- The evidence committed since ${s.unpushed.since} is NOT on the remote (${s.unpushed.reason}): the next job pushes it first.`);
  for (const r of m.rework.filter((x) => x.status === 'open')) L.push(`- Open rework pack \`${r.file}\` (${r.card}, ${r.triage}): ${r.lookAt}`);
  if (m.branches.length) L.push(`- Review the coreloop branch(es) ${m.branches.map((b) => `\`${b}\``).join(', ')}: each holds a proposed docstring change; it has a draft pull request only if \`g7 coreloop promote\` opened one (the coreloop job's log says); merging is a person's decision.`);
  else if (m.candidates.some((c) => c.count > 0)) L.push(`- Read the coreloop candidates (${m.candidates.filter((c) => c.count).map((c) => `\`${c.file}\``).join(', ')}) and promote one by hand if it holds.`);
  L.push('');
  L.push('## Through the night', '', '| when (UTC) | run | truck | state | why |', '|---|---|---|---|---|');
  // Stops and a person's resumes, in the order they happened.
  const rows = [
    ...m.stops.map((x) => ({ at: x.at, row: `| ${hhmm(x.at)} | ${x.run} | round ${x.round} ${x.truck}${x.lane !== undefined ? `, lane ${x.lane} only` : ''} | ${x.state} | ${cell(x.why)} |` })),
    ...m.resumes.map((x) => ({ at: x.at, row: `| ${hhmm(x.at)} | ${x.run} | | resumed by a person | ${cell(x.detail)} |` })),
  ];
  for (const r of rows.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0))) L.push(r.row);
  L.push('');
  L.push('## Runs', '', '| run | truck | state | passed | failed | skipped | not reached | tokens in/out | cost |', '|---|---|---|---|---|---|---|---|---|');
  for (const r of m.runs) L.push(`| ${r.id} | round ${r.round} ${r.truck} | ${r.state} | ${r.passed} | ${r.failed} | ${r.skipped} | ${r.pending} | ${r.tokensIn}/${r.tokensOut} | ${usd(r.cost)} |`);
  L.push('');
  const by = Object.entries(m.cards.failedBy).map(([k, n]) => `${k} ${n}`).join(', ');
  L.push('## Cards, tokens, cost', '');
  L.push(`- passed ${m.cards.passed} (${m.cards.reworked} after their one rework), failed ${m.cards.failed}${by ? ` (${by})` : ''}, skipped ${m.cards.skipped}`);
  L.push(`- tokens: ${m.tokens.in} in, ${m.tokens.out} out; cost ${usd(m.cost)}`);
  const off = (paid: number, forecast: number) => (forecast > 0 ? ` (${paid >= forecast ? '+' : ''}${(((paid - forecast) / forecast) * 100).toFixed(1)}%)` : '');
  for (const f of m.forecasts)
    L.push(`- forecast for ${f.day} (${f.plan}, recorded ${f.recorded_at}): ${f.forecast.in} in, ${f.forecast.out} out, ${usd(f.forecast.usd)}; paid ${f.paid.in}${off(f.paid.in, f.forecast.in)} in, ${f.paid.out}${off(f.paid.out, f.forecast.out)} out, ${usd(f.paid.usd)}${off(f.paid.usd, f.forecast.usd)}`);
  L.push('');
  L.push('## Rework packs', '');
  if (!m.rework.length) L.push('- none');
  for (const r of m.rework) L.push(`- \`${r.file}\`: ${r.card}, ${r.triage}, ${r.status}`);
  L.push('');
  L.push('## Coreloop', '');
  L.push(`- candidates: ${m.candidates.length ? m.candidates.map((c) => `\`${c.file}\` (${c.count})`).join(', ') : 'none written'}`);
  L.push(`- branches with a proposed change (a draft pull request only where promote opened one): ${m.branches.length ? m.branches.map((b) => `\`${b}\``).join(', ') : 'none'}`);
  L.push('');
  return L.join('\n');
}
