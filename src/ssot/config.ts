// factory.yaml: read once, validated against its schema with line numbers, defaults filled in.
import { access } from 'node:fs/promises';
import type { FactoryConfig } from '../contracts/types.gen.js';
import { SchemaError, type Problem } from '../contracts/errors.js';
import { explain } from '../contracts/validate.js';
import { readText } from './text.js';
import { parseYaml } from './yaml.js';
import type { Layout } from './layout.js';
import { toRepoPath } from './paths.js';
import { DEFAULT_NIGHT, isTimeZone, nightCron, type Night } from './night.js';

export interface Config {
  libraryRoot: string;
  models: { LOW: string; MID: string; HIGH: string };
  limits: { rpm: number; tpm: number; timeout_s: number; max_input_tokens: number; max_retry_delay_s: number };
  budget: { per_truck_usd: number; per_night_usd: number };
  /** The night window in local time (src/ssot/night.ts). */
  night: Night;
  prices: NonNullable<FactoryConfig['prices_per_mtok']>;
  skills: Record<string, string>;
  taxonomy?: string | undefined;
  sensors?: string | undefined;
  scan: { chunk_bytes: number };
  coreloop: { sanitizeNames: string[] };
  git: { commit: boolean; push: boolean; remote: string; branch?: string | undefined };
  /** The data branches that carry the response cache (src/worker/cache-sync.ts) and the audit log
   * (src/git/audit-sync.ts) between jobs, and the days each keeps. */
  store: { cacheBranch: string; cache_days: number; auditBranch: string; audit_days: number };
  gemini: {
    base_url?: string | undefined;
    batch_min_requests: number;
    max_output_tokens: number;
    thinking_budget: { LOW: number; MID: number; HIGH: number };
    /** The usage tier whose documented enqueued-token limits apply (src/worker/gemini/batch-limits.ts). */
    tier: 1 | 2 | 3;
    /** Per model: the enqueued-token limit, where the project's differs from its tier's. */
    batch_enqueued_tokens: Record<string, number>;
    max_batch_jobs: number;
  };
  /** Repository-relative path of the file this came from, or undefined when defaults were used. */
  source?: string | undefined;
  /** Where each `models` entry is written in that file (for errors about a model id). */
  modelsAt?: Partial<Record<'LOW' | 'MID' | 'HIGH', { line: number; col: number }>> | undefined;
}

export function defaultConfig(): Config {
  return {
    libraryRoot: 'library',
    models: { LOW: 'gemini-2.5-flash-lite', MID: 'gemini-2.5-flash', HIGH: 'gemini-2.5-pro' },
    limits: { rpm: 60, tpm: 1_000_000, timeout_s: 120, max_input_tokens: 32_000, max_retry_delay_s: 90 },
    budget: { per_truck_usd: 2, per_night_usd: 10 },
    night: { ...DEFAULT_NIGHT },
    prices: {},
    skills: {},
    scan: { chunk_bytes: 64 * 1024 },
    coreloop: { sanitizeNames: [] },
    git: { commit: true, push: false, remote: 'origin' },
    // 90 days of audit log: the longest window a coreloop command reads (the reproduction check's cases).
    store: { cacheBranch: 'g7/cache', cache_days: 30, auditBranch: 'g7/audit', audit_days: 90 },
    gemini: { batch_min_requests: 200, max_output_tokens: 2048, thinking_budget: { LOW: 0, MID: 512, HIGH: 1024 }, tier: 1, batch_enqueued_tokens: {}, max_batch_jobs: 100 },
  };
}

export async function loadConfig(layout: Layout, display: (p: string) => string = (p) => toRepoPath(layout.repoRoot, p)): Promise<Config> {
  const base = defaultConfig();
  try {
    await access(layout.factoryFile);
  } catch {
    return base;
  }
  const file = display(layout.factoryFile);
  const doc = parseYaml(await readText(layout.factoryFile, file), file);
  const raw = doc.value ?? {};
  const problems = explain('factory', raw, { file, doc });
  const c = raw as FactoryConfig;
  if (problems.length === 0 && c.night) problems.push(...nightProblems(c.night, file, doc.locate('/night')));
  if (problems.length > 0) throw new SchemaError(problems);
  return {
    libraryRoot: c.library?.root ?? base.libraryRoot,
    models: { ...base.models, ...c.models },
    limits: { ...base.limits, ...c.limits },
    budget: { ...base.budget, ...c.budget },
    night: c.night ?? base.night,
    prices: c.prices_per_mtok ?? {},
    skills: (c.skills as Record<string, string> | undefined) ?? {},
    taxonomy: c.taxonomy,
    sensors: c.sensors,
    scan: { ...base.scan, ...c.scan },
    coreloop: { sanitizeNames: c.coreloop?.sanitize?.names ?? [] },
    git: { ...base.git, ...c.git },
    store: {
      cacheBranch: `${c.store?.branch_prefix ?? 'g7/'}cache`,
      cache_days: c.store?.cache_days ?? base.store.cache_days,
      auditBranch: `${c.store?.branch_prefix ?? 'g7/'}audit`,
      audit_days: c.store?.audit_days ?? base.store.audit_days,
    },
    gemini: { ...base.gemini, ...c.gemini, thinking_budget: { ...base.gemini.thinking_budget, ...c.gemini?.thinking_budget } },
    source: toRepoPath(layout.repoRoot, layout.factoryFile),
    modelsAt: Object.fromEntries((['LOW', 'MID', 'HIGH'] as const).flatMap((h) => (c.models?.[h] ? [[h, doc.locate(`/models/${h}`)!]] : []))),
  };
}

/** What the schema cannot say about a night: a zone Node knows, and an hour in it for a scheduled job. */
function nightProblems(night: Night, file: string, at: { line: number; col: number } | undefined): Problem[] {
  const where = { file, line: at?.line, col: at?.col };
  if (!isTimeZone(night.tz)) return [{ ...where, field: 'night.tz', rule: 'config.night-tz', message: `"${night.tz}" is not a time zone`, hint: 'use an IANA zone name such as Asia/Seoul, Europe/Berlin or UTC' }];
  try {
    nightCron(night);
  } catch (err) {
    return [{ ...where, field: 'night', rule: 'config.night-short', message: (err as Error).message, hint: 'widen night.start–night.end' }];
  }
  return [];
}
