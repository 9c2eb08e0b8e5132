// Failure triage: every failure lands in exactly one of IMPORT, PATH, SCHEMA, TEST, API, with a flag
// saying whether waiting could fix it (transient).
import { G7Error } from '../contracts/errors.js';
import type { RuleResult } from '../contracts/types.gen.js';
import type { Triage } from '../ssot/rework-pack.js';

export type { Triage };

const IMPORT_RE = /Cannot find (module|package)|ERR_MODULE_NOT_FOUND|ModuleNotFoundError|ImportError|No module named|cannot find -l|unresolved import|could not resolve dependency/i;
const PATH_RE = /ENOENT|ENOTDIR|No such file or directory|does not exist|not found: .*\//i;

export function classifyFailure(f: { error?: unknown; killed?: string | undefined; stdout?: string; stderr?: string; accept?: RuleResult[]; failfast?: RuleResult[] }): Triage {
  if (f.error instanceof G7Error) {
    const e = f.error;
    const hint = e.problems.find((p) => p.hint)?.hint;
    return { class: e.triage, transient: e.transient, reason: e.summary ?? e.problems[0]?.message ?? e.message, ...(e.retryAfter ? { retry_after: e.retryAfter } : {}), ...(hint ? { hint } : {}) };
  }
  if (f.error) {
    const e = f.error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR' || e.code === 'EACCES') return { class: 'PATH', transient: false, reason: e.message };
    return { class: 'TEST', transient: false, reason: `executor error: ${e.message ?? String(f.error)}` };
  }
  if (f.killed) {
    const note = /\[g7: ([^\]]*), and was killed\]/.exec(f.stderr ?? '')?.[1];
    return { class: 'TEST', transient: false, reason: `the command was killed by ${f.killed}${note ? ` (${note})` : ''} before it finished: not a result, whatever its output` };
  }
  const out = `${f.stderr ?? ''}\n${f.stdout ?? ''}`;
  const fired = f.failfast?.length && f.failfast.every((r) => r.ok);
  if (fired) return { class: 'TEST', transient: false, reason: `failfast fired: ${f.failfast!.map((r) => `${r.rule} (${r.detail ?? ''})`).join(' && ')}` };
  const failed = (f.accept ?? []).filter((r) => !r.ok);
  const why = failed.map((r) => `${r.rule}: ${r.detail ?? 'failed'}`).join('; ') || 'accept rule did not hold';
  if (IMPORT_RE.test(out)) return { class: 'IMPORT', transient: false, reason: `${why} — the output shows a module or dependency that cannot be resolved` };
  if (PATH_RE.test(out) || failed.some((r) => /does not exist/.test(r.detail ?? ''))) return { class: 'PATH', transient: false, reason: why };
  return { class: 'TEST', transient: false, reason: why };
}

/** The last lines of the output, for the rework prompt and the rework pack. */
export function failureExcerpt(stdout: string, stderr: string, max = 2000): string {
  const text = (stderr.trim() ? stderr : stdout).trim();
  return text.length > max ? '…' + text.slice(-max) : text;
}
