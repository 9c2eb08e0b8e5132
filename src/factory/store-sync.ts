// The store between jobs, as a truck sees it: before it departs (or resumes) it takes the answers other jobs
// appended to the data branch (g7/cache); at every checkpoint that pushes, it appends its own, and the audit
// records written since (g7/audit), which coreloop's commands take before they read the log. None of it ever
// stops a truck: an answer that did not travel is asked again, at its price, and the warning says so.
import { pullCache, pushCache } from '../worker/cache-sync.js';
import { pullAudit, pushAudit } from '../git/audit-sync.js';
import type { Git } from '../git/git.js';
import { auditPlace, windowStart } from '../ssot/audit-store.js';
import type { FactoryDeps } from './deps.js';

const DAY_MS = 86_400_000;

function target(deps: FactoryDeps) {
  return { git: deps.git!, remote: deps.config.git.remote, branch: deps.config.store.cacheBranch, cacheDir: deps.layout.cacheDir };
}

/** Takes into the store the answers on the data branch it has not seen. */
export async function pullAnswers(deps: FactoryDeps): Promise<void> {
  const t = target(deps);
  try {
    const r = await pullCache(t);
    if (r.answers) deps.log(`took ${r.answers} answer${r.answers === 1 ? '' : 's'} recorded by earlier jobs from ${t.remote} ${t.branch} (${r.segments} segment${r.segments === 1 ? '' : 's'}): they are not paid for again`);
  } catch (err) {
    deps.warn(`${(err as Error).message}; answers recorded by earlier jobs on other runners are asked again`);
  }
}

/** Appends the answers recorded since the last push to the data branch. */
export async function pushAnswers(deps: FactoryDeps, run: string): Promise<void> {
  const t = target(deps);
  const now = deps.now();
  const keepFrom = new Date(Date.parse(now) - (deps.config.store.cache_days - 1) * DAY_MS).toISOString().slice(0, 10);
  try {
    const r = await pushCache({ ...t, keepFrom }, now, run);
    if (r?.dropped) deps.log(`${t.branch}: ${r.dropped} segment${r.dropped === 1 ? '' : 's'} older than ${deps.config.store.cache_days} days (store.cache_days) left the branch`);
  } catch (err) {
    deps.warn(`${(err as Error).message}; the answers stay in this runner's store and go with the next checkpoint (on a GitHub-hosted runner the store goes with the runner after the job)`);
  }
}

/** Where the audit log travels: the evidence remote's data branch g7/audit. */
export interface AuditTravel {
  git: Git;
  remote: string;
  branch: string;
  storeDir: string;
  log: (line: string) => void;
  warn: (line: string) => void;
}

const travel = (deps: FactoryDeps): AuditTravel => ({ git: deps.git!, remote: deps.config.git.remote, branch: deps.config.store.auditBranch, storeDir: auditPlace(deps.layout).storeDir, log: deps.log, warn: deps.warn });

/** Appends the audit records written since the last push to the data branch g7/audit. Never throws. */
export async function pushAuditLog(deps: FactoryDeps, run: string): Promise<void> {
  const t = travel(deps);
  const days = deps.config.store.audit_days;
  try {
    const r = await pushAudit({ ...t, keepFrom: windowStart(deps.now(), days) }, run);
    if (r?.dropped) t.log(`${t.branch}: ${r.dropped} segment${r.dropped === 1 ? '' : 's'} older than ${days} days (store.audit_days) left the branch`);
  } catch (err) {
    t.warn(`${(err as Error).message}; the audit records stay in this runner's store and go with the next checkpoint (on a GitHub-hosted runner they go with the runner after the job, and coreloop never sees them)`);
  }
}

/**
 * Takes the audit records earlier jobs pushed to g7/audit, before a coreloop command reads the log (on a
 * hosted runner its store starts empty). A repository without the remote has nothing to take. Never throws.
 */
export async function pullAuditLog(t: AuditTravel): Promise<void> {
  if ((await t.git.run(['remote', 'get-url', t.remote], { allowFail: true })).code !== 0) return;
  try {
    const r = await pullAudit(t);
    if (r.segments) t.log(`took ${r.records} audit record${r.records === 1 ? '' : 's'} of earlier jobs from ${t.remote} ${t.branch} (${r.segments} segment${r.segments === 1 ? '' : 's'})`);
  } catch (err) {
    t.warn(`${(err as Error).message}; only the audit records in this runner's store are read (on a GitHub-hosted runner: none of earlier jobs)`);
  }
}
