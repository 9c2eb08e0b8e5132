// The gates a truck passes before it departs, one function each, asked by `g7 run` (which acts on them) and
// by `g7 status` / `g7 morning` (which say what the next `g7 run` will do), so the two cannot disagree.
//   configuration: factory.yaml loads (checked by whoever loads it: loadConfig, exit 3);
//   evidence pushed: what earlier runs committed is on the remote (state.unpushed, set by a refused push);
//   evidence verifies: the previous run left a complete pack that verifies;
//   a repository: commits on (git.commit) and no git repository is a usage error before anything is written.
import type { FactoryState } from '../contracts/types.gen.js';
import type { Git } from '../git/git.js';
import type { Layout } from '../ssot/layout.js';
import { listRuns, verifyRun } from './evidence.js';
import { UsageError } from '../contracts/errors.js';

/** A gate that is closed: the run's outcome code and exit, and the reason with what to do. */
export interface ClosedGate {
  code: 'REFUSED' | 'UNPUSHED';
  exit: number;
  message: string;
  runId?: string | undefined;
}

/** How a run treats evidence that a refused push left behind. */
export interface PushIntent {
  /** The run pushes (`--push`, or `git.push: true`): it pushes what is committed first, and departs only if that lands. */
  pushing: boolean;
  /** `--no-push`, said on purpose: a factory that no longer has a remote departs and forgets the refused push. */
  unpushedOk?: boolean | undefined;
}

/**
 * Evidence a refused push left (the state's one `unpushed` fact) holds every truck back until it is on the
 * remote. Open when nothing is unpushed, when the run pushes first (the push then decides), or with `--no-push`.
 */
export function unpushedGate(state: FactoryState, intent: PushIntent): ClosedGate | undefined {
  const u = state.unpushed;
  if (!u || intent.pushing || intent.unpushedOk) return undefined;
  return {
    code: 'UNPUSHED',
    exit: 8,
    message:
      `the evidence committed since ${u.since} is NOT on the remote (${u.reason}), so no truck departs until it is\n` +
      '  → `g7 run --push` pushes it first (or set git.push: true in factory.yaml); a factory without a remote: `g7 run --no-push` departs and forgets it',
  };
}

/** The previous run must have left a complete evidence pack that verifies. */
export async function evidenceGate(layout: Layout, display: (p: string) => string, git: Git | undefined): Promise<ClosedGate | undefined> {
  const prev = (await listRuns(layout)).at(-1);
  if (!prev) return undefined;
  const v = await verifyRun(layout, prev, display, git);
  if (v.ok && v.complete) return undefined;
  const why = !v.complete ? 'is not complete' : `does not verify (${v.problems.length} problem(s), first: ${v.problems[0]?.file}: ${v.problems[0]?.message})`;
  return { code: 'REFUSED', exit: 6, runId: prev, message: `the evidence pack of ${prev} ${why}; the next truck does not depart.\n  check: g7 verify ${prev}` };
}

/** Commits on (git.commit, no --no-commit) and no git repository: why, with what to do. Undefined when open. */
export function repositoryGate(root: string, repo: boolean, commits: boolean): { why: string; fix: string } | undefined {
  if (!commits || repo) return undefined;
  return { why: `${root} is not a git repository, and g7 commits its evidence there (git.commit, default true)`, fix: `run git init (and commit the factory) in ${root}, or run with --no-commit, or set git: { commit: false } in factory.yaml` };
}

/**
 * Whether this command commits: asked (no --no-commit) and git.commit on. On and no git repository is a
 * usage error before anything is written: evidence that is never committed is no audit trail.
 */
export function commitsIn(root: string, repo: boolean, asked: boolean, config: { git: { commit: boolean } }): boolean {
  const on = asked && config.git.commit;
  const closed = repositoryGate(root, repo, on);
  if (closed) throw new UsageError(`${closed.why}; nothing was written\n  → ${closed.fix}`);
  return on;
}

