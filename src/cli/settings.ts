// The one place that reads the environment: it turns CLI options and env into the core's dependencies.
import path from 'node:path';
import type { Layout } from '../ssot/layout.js';
import { loadConfig, type Config } from '../ssot/config.js';
import { systemShell } from '../host/shell.js';
import { Git } from '../git/git.js';
import { offlineWorker } from '../worker/offline.js';
import { cachedWorker } from '../worker/cached.js';
import { auditLog } from '../coreloop/audit.js';
import { redactor } from '../factory/evidence.js';
import type { FactoryDeps } from '../factory/deps.js';
import type { Worker } from '../worker/worker.js';
import { configureFaults } from '../host/faults.js';

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|_PAT)$/i;

/** Values of environment variables that look like secrets: never to appear in evidence, logs or summaries. */
export function secretValues(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(([k, v]) => SECRET_NAME.test(k) && typeof v === 'string' && v.length >= 6)
    .map(([, v]) => v!);
}

/**
 * Gemini when there is a key, the offline worker otherwise. The Gemini SDK is loaded only then: a command
 * that needs no model does not pay for loading it.
 */
export async function pickWorker(config: Config, layout: Layout, apiKey: string | undefined): Promise<Worker> {
  if (!apiKey) return offlineWorker;
  const [{ GeminiWorker }, { RateLimiter }, { Budget }] = await Promise.all([import('../worker/gemini/worker.js'), import('../worker/gemini/limiter.js'), import('../worker/gemini/budget.js')]);
  const utcDay = () => new Date().toISOString().slice(0, 10).replace(/-/g, '');
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
    limiter: new RateLimiter(config.limits.rpm, config.limits.tpm),
    budget: new Budget(layout.stateDir, config.budget, utcDay),
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
  /**
   * The Gemini key, handed over by an entry point that got it as an input (the action): it stays out of
   * process.env, where every child process could read it. Without it, GEMINI_API_KEY from `env` (the CLI).
   */
  geminiApiKey?: string | undefined;
  /** Models per cost hint that override factory.yaml's for this process (the action's `models` input). */
  models?: Partial<Config['models']> | undefined;
}

export async function factoryDeps(o: DepsOptions): Promise<{ deps: FactoryDeps; config: Config }> {
  const env = o.env ?? process.env;
  configureFaults(env.G7_FAULT);
  const loaded = await loadConfig(o.layout, o.display);
  const config = o.models ? { ...loaded, models: { ...loaded.models, ...o.models } } : loaded;
  const now = () => new Date().toISOString();
  const audit = auditLog(o.layout.auditDir, env.G7_AUDIT_DISABLE !== '1', o.warn);
  const apiKey = o.geminiApiKey || env.GEMINI_API_KEY || undefined;
  const redact = redactor([...secretValues(env), ...(apiKey ? [apiKey] : [])]);
  const worker = cachedWorker(o.worker ?? (await pickWorker(config, o.layout, apiKey)), path.join(o.layout.stateDir, 'cache'), audit, now, redact);
  const git = new Git(o.layout.repoRoot);
  const deps: FactoryDeps = {
    layout: o.layout,
    config,
    worker,
    shell: systemShell,
    git: (await git.isRepo()) ? git : undefined,
    now,
    log: o.log,
    warn: o.warn,
    redact,
    display: o.display,
  };
  return { deps, config };
}
