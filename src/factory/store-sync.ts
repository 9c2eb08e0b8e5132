// The store between jobs, as a truck sees it: before it departs (or resumes) it takes the answers other jobs
// appended to the data branch (g7/cache); at every checkpoint that pushes, it appends its own. Neither ever
// stops a truck: an answer that did not travel is asked again, at its price, and the warning says so.
import { pullCache, pushCache } from '../worker/cache-sync.js';
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
