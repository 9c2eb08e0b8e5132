// `g7 plan compile | plan check | pack`: the commands that turn a day plan into cards and cards into trucks.
import path from 'node:path';
import { UsageError, formatProblem } from '../contracts/errors.js';
import { EXIT } from './exit.js';
import { layoutFor, dayOf, roundDir } from '../ssot/layout.js';
import { OPS_120PLUS120 } from '../truck/pack.js';
import { loadConfig, type Config } from '../ssot/config.js';
import type { Layout } from '../ssot/layout.js';
import type { EstimateEnv } from '../factory/estimate.js';
import type { GeminiWorker } from '../worker/gemini/worker.js';
import { compileToBacklog } from '../plan/write.js';
import { checkFile } from '../plan/check.js';
import { packDayFiles, latestBacklogDay } from '../truck/packets.js';
import { display, requireSsot, type Globals, type Io } from './main.js';
import { nowIso } from '../host/clock.js';

export async function planCompile(file: string, opts: { replace?: boolean; dryRun?: boolean }, g: Globals, io: Io): Promise<number> {
  const layout = layoutFor(g.ssot);
  await requireSsot(layout);
  const config = await loadConfig(layout, display);
  const { compiled, target, written, backup } = await compileToBacklog(path.resolve(file), { layout, config, display, now: nowIso }, opts);
  if (g.json) {
    io.out(JSON.stringify({ day: compiled.day, backlog: display(target), cards: compiled.cards.length, written, backup: backup && display(backup), omitted_done: compiled.omittedDone, reissued: compiled.reissued, entries: compiled.perEntry, notes: compiled.notes }));
  } else {
    io.out(`compiled ${display(path.resolve(file))} → ${display(target)} (${written})`);
    for (const e of compiled.perEntry) io.out(`  ${e.name.padEnd(16)} ${String(e.cards).padStart(6)} cards`);
    io.out(`  ${'total'.padEnd(16)} ${String(compiled.cards.length).padStart(6)} cards`);
    if (backup) io.out(`  previous backlog kept as ${display(backup)}`);
    for (const n of compiled.notes) io.out(`note: ${n}`);
  }
  return EXIT.OK;
}

export async function planCheck(files: string[], g: Globals, io: Io): Promise<number> {
  const layout = layoutFor(g.ssot);
  const results = [];
  for (const f of files) results.push(await checkFile(path.resolve(f), layout, display));
  if (g.json) io.out(JSON.stringify({ ok: results.every((r) => r.ok), files: results }));
  else
    for (const r of results) {
      io.out(`${r.ok ? 'ok  ' : 'FAIL'} ${r.file}: ${r.summary}`);
      for (const p of r.problems) io.err(formatProblem(p));
    }
  return results.every((r) => r.ok) ? EXIT.OK : EXIT.INVALID_INPUT;
}

export async function pack(opts: { day?: string }, g: Globals, io: Io): Promise<number> {
  const layout = layoutFor(g.ssot);
  await requireSsot(layout);
  const day = opts.day ? dayOf(opts.day) : await latestBacklogDay(layout);
  if (!day) throw new UsageError(`no backlog found in ${display(layout.backlogDir)}; run g7 plan compile first`);
  if (!/^\d{8}$/.test(day)) throw new UsageError(`--day must be YYYYMMDD or YYYY-MM-DD, got "${opts.day}"`);
  const report = await packDayFiles(layout, day, display);
  if (g.json) io.out(JSON.stringify(report));
  else if (!report.written) io.out(`nothing left to pack for ${day}: every round is finished (done ${report.done}, held back ${report.held.length})`);
  else {
    io.out(`packed ${report.backlog} → ${display(roundDir(layout, day, report.round))}/ (round ${report.round})`);
    for (const t of ['A', 'B'] as const) {
      const r = report.trucks[t];
      const quota = (['A', 'B', 'C', 'D'] as const).map((q) => `${q} ${r.by_quota[q]}/${OPS_120PLUS120.quotas[q]}${r.backfill_by_quota[q] ? ` (${r.backfill_by_quota[q]} backfilled)` : ''}`).join('  ');
      io.out(`  packet_${t}: ${String(r.cards).padStart(3)}/120  quota ${quota}${r.departed ? '  (departed, kept as is)' : ''}`);
    }
    const later = report.deferred.noRoom + report.deferred.waiting;
    io.out(`  done ${report.done}, held back ${report.held.length}, for later rounds ${later} (${report.deferred.noRoom} no room, ${report.deferred.waiting} waiting)${later ? ` ≈ ${Math.ceil(later / (2 * OPS_120PLUS120.slots))} more round(s)` : ''}`);
    for (const h of report.held.slice(0, 20)) io.out(`  held ${h.id}: ${h.reason}`);
    if (report.held.length > 20) io.out(`  … ${report.held.length - 20} more in pack_report.json`);
  }
  return EXIT.OK;
}

/**
 * What an estimate is priced with, as the night would run: Gemini when there is a key (its calibration from
 * the state, its cache looked up in the store only: no fallback to the old cache, which would carry answers
 * over, a write), else the offline rules. `network: false` (g7 status) asks no countTokens.
 */
export async function estimateEnv(layout: Layout, config: Config, warn: (line: string) => void, network: boolean): Promise<EstimateEnv> {
  const [{ pickWorker }, { TokenCalibration, tokensFile }, { cachedWorker }] = await Promise.all([import('./settings.js'), import('../worker/tokens.js'), import('../worker/cached.js')]);
  const key = process.env.GEMINI_API_KEY || undefined;
  // pickWorker gives the Gemini worker exactly when there is a key.
  const gemini = key ? ((await pickWorker(config, layout, key)) as GeminiWorker) : undefined;
  const cache = gemini ? cachedWorker(gemini, { dir: layout.cacheDir }, nowIso) : undefined;
  return {
    layout, config, display, warn,
    tokens: gemini?.o.tokens ?? (await TokenCalibration.load(tokensFile(layout.stateDir))),
    online: gemini !== undefined,
    countTokens: gemini && network ? (b) => gemini.countTokens(b) : undefined,
    uncached: cache ? (reqs) => cache.uncached(reqs) : undefined,
    // g7 status (no network) prices from a small sample and file sizes: it must stay quick on a 12 GB library.
    ...(network ? {} : { budgets: { readBytes: 2 * 2 ** 20, hashBytes: 0 } }),
  };
}

/**
 * `g7 plan estimate`: the plan priced as it would compile now. With a key, a model nothing was paid for yet
 * is calibrated by a free countTokens sample; nothing is written but, with --record, the day's forecast for the
 * morning report. Exit 9 when it does not fit.
 */
export async function planEstimate(file: string, g: Globals, io: Io, o: { record?: boolean | undefined } = {}): Promise<number> {
  const layout = layoutFor(g.ssot);
  await requireSsot(layout);
  const config = await loadConfig(layout, display);
  const { estimatePlan, formatEstimate, recordForecast } = await import('../factory/estimate.js');
  const estimate = await estimatePlan(path.resolve(file), await estimateEnv(layout, config, (l) => io.err(l), true));
  if (o.record) io.err(`forecast recorded: ${display(await recordForecast(layout, estimate, nowIso()))}`);
  if (g.json) io.out(JSON.stringify(estimate));
  else for (const l of formatEstimate(estimate)) io.out(l);
  return estimate.fits ? EXIT.OK : EXIT.OVER_BUDGET;
}
