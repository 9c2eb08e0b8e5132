// The one place that reads the environment: it turns CLI options and env into the core's dependencies.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Layout } from '../ssot/layout.js';
import { loadConfig, type Config } from '../ssot/config.js';
import { hostShell } from '../host/shell.js';
import { Git } from '../git/git.js';
import { offlineWorker } from '../worker/offline.js';
import { cachedWorker, type CacheDirs } from '../worker/cached.js';
import { batchLimits } from '../worker/gemini/batch-limits.js';
import { auditLog } from '../coreloop/audit.js';
import { auditPlace } from '../ssot/audit-store.js';
import { redactor } from '../factory/evidence.js';
import type { FactoryDeps } from '../factory/deps.js';
import type { Worker } from '../worker/worker.js';
import { configureFaults } from '../host/faults.js';
import { nowIso, nowMs } from '../host/clock.js';

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?|_PAT)$/i;
/** Kept from a card's child processes too: anything that looks like a secret or a way to get one. */
const SECRET_LOOKING = /SECRET|PASSWORD|PASSWD|TOKEN|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY/i;
const NEVER_TO_CHILDREN = new Set(['GEMINI_API_KEY', 'GOOGLE_API_KEY', 'GITHUB_TOKEN', 'GH_TOKEN', 'ACTIONS_RUNTIME_TOKEN', 'ACTIONS_RUNTIME_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_CACHE_URL', 'ACTIONS_RESULTS_URL']);

/** Values of environment variables that look like secrets: never to appear in evidence, logs or summaries. */
export function secretValues(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(([k, v]) => SECRET_NAME.test(k) && typeof v === 'string' && v.length >= 6)
    .map(([, v]) => v!);
}

/** The environment of a card's child processes (TEST commands, cmd: rules): this one, minus every secret. */
export function childEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !SECRET_NAME.test(k) && !SECRET_LOOKING.test(k) && !NEVER_TO_CHILDREN.has(k.toUpperCase())) out[k] = v;
  return out;
}

let processStop: AbortSignal | undefined;
/**
 * The stop signal of this process: aborted, with the signal's name as its reason, on the first SIGINT or
 * SIGTERM (GitHub cancels with SIGINT, then SIGTERM about 7.5 s later, then SIGKILL). The run stops
 * cleanly on the first; a third one quits at once.
 */
function stopOnSignals(warn: (line: string) => void): AbortSignal {
  if (processStop) return processStop;
  const ctl = new AbortController();
  let seen = 0;
  const on = (sig: NodeJS.Signals) => {
    seen++;
    if (seen === 1) ctl.abort(sig);
    else if (seen === 2) warn(`${sig}: still stopping cleanly (sealing, committing, pushing); a third signal quits at once`);
    else process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
  };
  process.on('SIGINT', on);
  process.on('SIGTERM', on);
  return (processStop = ctl.signal);
}

/**
 * Gemini when there is a key, the offline worker otherwise. The Gemini SDK is loaded only then: a command
 * that needs no model does not pay for loading it.
 */
export async function pickWorker(config: Config, layout: Layout, apiKey: string | undefined): Promise<Worker> {
  if (!apiKey) return offlineWorker;
  const [{ GeminiWorker }, { RateLimiter }, { Budget }, { TokenCalibration, tokensFile }] = await Promise.all([import('../worker/gemini/worker.js'), import('../worker/gemini/limiter.js'), import('../worker/gemini/budget.js'), import('../worker/tokens.js')]);
  const utcDay = () => nowIso().slice(0, 10).replace(/-/g, '');
  return new GeminiWorker({
    apiKey,
    baseUrl: config.gemini.base_url,
    models: config.models,
    prices: config.prices,
    timeoutMs: config.limits.timeout_s * 1000,
    maxInputTokens: config.limits.max_input_tokens,
    maxOutputTokens: config.gemini.max_output_tokens,
    thinkingBudget: config.gemini.thinking_budget,
    maxRetryDelayMs: config.limits.max_retry_delay_s * 1000,
    wallClock: nowMs,
    limiter: new RateLimiter(config.limits.rpm, config.limits.tpm),
    // One lane of a lane run keeps its spend in its own records (the merge adds it to the night's).
    budget: new Budget(layout.lane?.records ?? layout.stateDir, config.budget, utcDay),
    // A lane learns in its own records, starting from the night's: lanes run at once, each writes only its own.
    tokens: await TokenCalibration.load(tokensFile(layout.lane?.records ?? layout.stateDir), tokensFile(layout.stateDir)),
  });
}

export interface DepsOptions {
  layout: Layout;
  display: (p: string) => string;
  log: (line: string) => void;
  warn: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Overrides the worker (tests). */
  worker?: Worker;
  /** Overrides the stop signal (tests); by default SIGINT and SIGTERM stop the run cleanly. */
  stop?: AbortSignal;
  /**
   * The Gemini key, handed over by an entry point that got it as an input (the action): it stays out of
   * process.env, where every child process could read it. Without it, GEMINI_API_KEY from `env` (the CLI).
   */
  geminiApiKey?: string | undefined;
  /** Models per cost hint that override factory.yaml's for this process (the action's `models` input). */
  models?: Partial<Config['models']> | undefined;
  /** The branch this checkout belongs to when HEAD may be detached (the action: GITHUB_REF); git.branch wins. */
  branch?: string | undefined;
}

/** One lane of a lane run: its share of the rate limits and budgets (the lanes run at once on one key). */
async function laneLimits(layout: Layout, config: Config): Promise<Pick<Config, 'limits' | 'budget'>> {
  const [{ readLanePlan }, { laneShare }] = await Promise.all([import('../factory/lanes.js'), import('../factory/lane-share.js')]);
  const lanes = (await readLanePlan(layout, layout.lane!.run))?.lanes.length ?? 1;
  let spent = 0;
  try {
    spent = (JSON.parse(await readFile(path.join(layout.stateDir, `spend_${new Date().toISOString().slice(0, 10).replace(/-/g, '')}.json`), 'utf8')) as { usd: number }).usd;
  } catch {
    /* nothing spent tonight yet */
  }
  const share = laneShare(config, lanes, spent);
  return { limits: { ...config.limits, rpm: share.rpm, tpm: share.tpm }, budget: { per_truck_usd: share.per_truck_usd, per_night_usd: share.per_night_usd } };
}

/** The response cache in the store, the cache before it (read as a fallback), the batch ledger in the state. */
export function cacheDirs(layout: Layout): CacheDirs {
  return { dir: layout.cacheDir, legacy: path.join(layout.stateDir, 'cache'), ledger: path.join(layout.stateDir, 'batches') };
}

export async function factoryDeps(o: DepsOptions): Promise<{ deps: FactoryDeps; config: Config }> {
  const env = o.env ?? process.env;
  configureFaults(env.G7_FAULT);
  const loaded = await loadConfig(o.layout, o.display);
  const config = {
    ...loaded,
    ...(o.models ? { models: { ...loaded.models, ...o.models } } : {}),
    ...(o.branch && !loaded.git.branch ? { git: { ...loaded.git, branch: o.branch } } : {}),
    ...(o.layout.lane ? await laneLimits(o.layout, loaded) : {}),
  };
  const now = nowIso;
  const apiKey = o.geminiApiKey || env.GEMINI_API_KEY || undefined;
  const redact = redactor([...secretValues(env), ...(apiKey ? [apiKey] : [])]);
  const audit = auditLog(auditPlace(o.layout).storeDir, env.G7_AUDIT_DISABLE !== '1', redact, config.store.audit_days);
  const worker = cachedWorker(o.worker ?? (await pickWorker(config, o.layout, apiKey)), cacheDirs(o.layout), now, redact, batchLimits(config.gemini));
  const git = new Git(o.layout.repoRoot);
  const stop = o.stop ?? stopOnSignals(o.warn);
  const deps: FactoryDeps = {
    layout: o.layout,
    config,
    worker,
    audit,
    shell: hostShell({ env: childEnv(env), stop }),
    git: (await git.isRepo()) ? git : undefined,
    now,
    log: o.log,
    warn: o.warn,
    redact,
    display: o.display,
    stop,
  };
  return { deps, config };
}
