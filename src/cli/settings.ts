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
import { GeminiWorker } from '../worker/gemini/worker.js';
import { RateLimiter } from '../worker/gemini/limiter.js';
import { Budget } from '../worker/gemini/budget.js';

const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|_PAT)$/i;

/** Values of environment variables that look like secrets: never to appear in evidence, logs or summaries. */
export function secretValues(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env)
    .filter(([k, v]) => SECRET_NAME.test(k) && typeof v === 'string' && v.length >= 6)
    .map(([, v]) => v!);
}

/** Gemini when GEMINI_API_KEY is set (the only place a key is read), the offline worker otherwise. */
export function pickWorker(config: Config, layout: Layout, env: NodeJS.ProcessEnv): Worker {
  const apiKey = env.GEMINI_API_KEY;
  if (!apiKey) return offlineWorker;
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
  /** Overrides the worker (tests, and later the Gemini adapter when a key is set). */
  worker?: Worker;
}

export async function factoryDeps(o: DepsOptions): Promise<{ deps: FactoryDeps; config: Config }> {
  const env = o.env ?? process.env;
  configureFaults(env.G7_FAULT);
  const config = await loadConfig(o.layout, o.display);
  const now = () => new Date().toISOString();
  const audit = auditLog(o.layout.auditDir, env.G7_AUDIT_DISABLE !== '1', o.warn);
  const redact = redactor(secretValues(env));
  const worker = cachedWorker(o.worker ?? pickWorker(config, o.layout, env), path.join(o.layout.stateDir, 'cache'), audit, now, redact);
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
