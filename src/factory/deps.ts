// Everything the factory core is handed. It never reads process.env, never picks its own clock, worker,
// shell or git: the entry points (CLI, action) build this once from their inputs.
import type { Config } from '../ssot/config.js';
import type { Layout } from '../ssot/layout.js';
import type { Shell } from '../host/shell.js';
import type { CachedWorker } from '../worker/cached.js';
import type { Git } from '../git/git.js';
import type { AuditLog } from '../coreloop/audit.js';

export interface FactoryDeps {
  layout: Layout;
  config: Config;
  worker: CachedWorker;
  /** Coreloop Observe: the audit records of the worker calls, written by each card's attempt. */
  audit: AuditLog;
  shell: Shell;
  git: Git | undefined;
  now: () => string;
  log: (line: string) => void;
  warn: (line: string) => void;
  redact: (s: string) => string;
  display: (p: string) => string;
  /** Aborted (reason: the signal's name) when the run must stop cleanly: no new card, no new model call. */
  stop: AbortSignal;
}
