// The `block-coreloop-auto-merge` check (SPEC 9, 10): a coreloop pull request is merged by a person, never
// automatically. One of three locks: coreloop never asks for auto-merge, branch protection requires a
// person's approval, and this check undoes any request for auto-merge on a coreloop PR and fails.
//
// It fails closed: an event it cannot read, a pull request it cannot identify, an API call that does not go
// through, all fail the check. Both halves of one event (pull_request and pull_request_target) decide the
// same: on the event's copy of the pull request together with GitHub's, so the later run does not pass
// because the earlier one already turned auto-merge off. A re-run (run attempt 2 and later) is a person
// asking again after the fix, and decides on the pull request as GitHub has it now. Only the trusted half
// writes (pull_request_target, merge_group, the sweep): the pull_request half runs the pull request's own
// copy of the workflow, so it reports and leaves the undoing to the other.
import type { Forge, PullCommit, PullRequest } from '../forge/forge.js';

/** The pull request events ai-policy.yml runs on, each on every activity below; a test holds the workflow to both lists. */
export const POLICY_EVENTS = ['pull_request', 'pull_request_target'] as const;
export const POLICY_ACTIVITIES = [
  'opened', 'reopened', 'edited', 'synchronize', 'labeled', 'unlabeled', 'ready_for_review', 'converted_to_draft', 'auto_merge_enabled', 'auto_merge_disabled',
] as const;
/** The hourly sweep: auto-merge turned on by a workflow's GITHUB_TOKEN starts no workflow, so no event reports it. */
export const POLICY_SWEEP_CRON = '23 * * * *';

export const CORELOOP_TITLE_PREFIX = '[CORELOOP-';
export const CORELOOP_BRANCH_PREFIX = 'skill/docstring-';
export const CORELOOP_LABEL = 'coreloop';
/** The trailers only coreloop's commits carry (the factory's evidence commits carry other G7-* trailers). */
export const CORELOOP_TRAILERS = ['G7-Coreloop', 'G7-Candidate', 'G7-Candidate-Key', 'G7-Bullet'];
/** Labels that ask a bot or GitHub to merge by itself (compared without case, as GitHub compares labels). */
export const AUTO_MERGE_LABELS = ['auto-merge', 'automerge'];
/** Marks the check's one comment on a pull request, so every run finds and updates it. */
export const COMMENT_MARKER = '<!-- g7:block-coreloop-auto-merge -->';

export type PolicyPull = Pick<PullRequest, 'number' | 'nodeId' | 'title' | 'headRef' | 'labels' | 'autoMerge' | 'state'>;

export interface PolicyDecision {
  /** Why this is a coreloop PR (empty: an ordinary PR, left alone). */
  coreloop: string[];
  /** The labels that ask for auto-merge, as named on the PR. */
  autoMergeLabels: string[];
  autoMergeEnabled: boolean;
}

/** Why a pull request is coreloop's, from its title, branch and labels. Matching ignores case: a near miss must not slip through. */
function byName(pr: PolicyPull): string[] {
  const out: string[] = [];
  if (pr.title.toUpperCase().startsWith(CORELOOP_TITLE_PREFIX)) out.push(`its title starts with \`${CORELOOP_TITLE_PREFIX}\``);
  if (pr.headRef.toLowerCase().startsWith(CORELOOP_BRANCH_PREFIX)) out.push(`its head branch \`${pr.headRef}\` starts with \`${CORELOOP_BRANCH_PREFIX}\``);
  if (pr.labels.some((l) => l.toLowerCase() === CORELOOP_LABEL)) out.push(`it has the \`${CORELOOP_LABEL}\` label`);
  return out;
}

/** Why a pull request is coreloop's, from its commits: a `[CORELOOP-` subject or coreloop's trailers. */
export function byCommits(commits: PullCommit[]): string[] {
  const trailer = new RegExp(`^(${CORELOOP_TRAILERS.join('|')}):`, 'im');
  for (const c of commits) {
    const subject = c.message.split('\n')[0] ?? '';
    if (subject.toUpperCase().startsWith(CORELOOP_TITLE_PREFIX)) return [`its commit ${c.sha.slice(0, 10)} has the subject "${subject}"`];
    const t = trailer.exec(c.message);
    if (t) return [`its commit ${c.sha.slice(0, 10)} carries coreloop's \`${t[1]}\` trailer`];
  }
  return [];
}

/** Pure: what the PR is and what it asks for, on every view of it given (GitHub's now, the event's copy). */
export function decide(views: PolicyPull[], commits: PullCommit[] = []): PolicyDecision {
  const coreloop = [...new Set([...views.flatMap(byName), ...byCommits(commits)])];
  const autoMergeLabels = [...new Set(views.flatMap((v) => v.labels.filter((l) => AUTO_MERGE_LABELS.includes(l.toLowerCase()))))];
  return { coreloop, autoMergeLabels, autoMergeEnabled: views.some((v) => v.autoMerge) };
}

const asks = (d: PolicyDecision) => d.autoMergeLabels.length > 0 || d.autoMergeEnabled;

export interface PolicyOutcome {
  pass: boolean;
  /** One line for the log and the check's failure message. */
  summary: string;
  pr: number | undefined;
  decision: PolicyDecision | undefined;
  /** What the check did: removed labels, disabled auto-merge, commented. */
  actions: string[];
  /** What did not go through (each one fails the check). */
  errors: string[];
}

/** The pull request carried by a pull_request / pull_request_target payload, in the forge's terms. */
export function pullFromPayload(payload: unknown): PolicyPull | undefined {
  const pr = (payload as { pull_request?: Record<string, unknown> } | null)?.pull_request;
  if (!pr || typeof pr.number !== 'number') return undefined;
  const head = pr.head as { ref?: unknown } | undefined;
  return {
    number: pr.number,
    nodeId: String(pr.node_id ?? ''),
    title: String(pr.title ?? ''),
    headRef: String(head?.ref ?? ''),
    labels: Array.isArray(pr.labels) ? pr.labels.map((l) => String((l as { name?: unknown }).name ?? '')) : [],
    autoMerge: pr.auto_merge !== null && pr.auto_merge !== undefined,
    state: pr.state === 'closed' ? 'closed' : 'open',
  };
}

/** The pull request a merge_group event is for: its queue branch is `gh-readonly-queue/{base}/pr-{number}-{sha}`. */
export function pullOfMergeGroup(payload: unknown): number | undefined {
  const ref = (payload as { merge_group?: { head_ref?: unknown } } | null)?.merge_group?.head_ref;
  const m = typeof ref === 'string' ? /\/gh-readonly-queue\/.+\/pr-(\d+)-[0-9a-f]+$/.exec(ref) : null;
  return m ? Number(m[1]) : undefined;
}

/** The one comment's text: what was asked and what the check does, with nothing that changes between runs. */
function commentBody(d: PolicyDecision): string {
  const asked = [...d.autoMergeLabels.map((l) => `the \`${l}\` label`), ...(d.autoMergeEnabled ? ['auto-merge'] : [])];
  return [
    COMMENT_MARKER,
    `**block-coreloop-auto-merge**: this is a coreloop pull request (${d.coreloop.join('; ')}), and ${asked.join(' and ')} asked GitHub to merge it automatically.`,
    '',
    'Coreloop changes the skill docstrings the worker is prompted with; a person reviews and merges them, never a bot. This check removes such labels, turns auto-merge off, and fails.',
    '',
    'Review the change and merge it by hand; once auto-merge is off, re-run this check and it passes.',
  ].join('\n');
}

/** Updates the check's one comment (by its marker, written by a bot), or writes it; never a second one. */
async function upsertComment(forge: Forge, number: number, body: string): Promise<string | undefined> {
  const mine = (await forge.listComments(number)).find((c) => c.authorType === 'Bot' && c.body.includes(COMMENT_MARKER));
  if (!mine) {
    await forge.comment(number, body);
    return 'commented why';
  }
  if (mine.body === body) return undefined;
  await forge.updateComment(mine.id, body);
  return 'updated its comment';
}

/** Undoes what asks to merge a coreloop PR automatically, as GitHub has it now, and says so once. */
async function undo(forge: Forge, now: PolicyPull | undefined, d: PolicyDecision, actions: string[], errors: string[]): Promise<void> {
  const number = now?.number;
  if (!now || number === undefined) return;
  for (const label of now.labels.filter((l) => AUTO_MERGE_LABELS.includes(l.toLowerCase()))) {
    try {
      await forge.removeLabel(number, label);
      actions.push(`removed the \`${label}\` label`);
    } catch (err) {
      errors.push(`could not remove the \`${label}\` label: ${(err as Error).message}`);
    }
  }
  if (now.autoMerge && now.state === 'open') {
    try {
      await forge.disableAutoMerge(now);
      actions.push('turned auto-merge off');
    } catch (err) {
      errors.push(`could not turn auto-merge off: ${(err as Error).message}`);
    }
  }
  try {
    const done = await upsertComment(forge, number, commentBody(d));
    if (done) actions.push(done);
  } catch (err) {
    errors.push(`could not comment: ${(err as Error).message}`);
  }
}

export interface PolicyRun {
  /** GITHUB_RUN_ATTEMPT: 1 for the event's own run, more for a person's re-run. */
  runAttempt?: number;
}

const READ_ONLY_EVENTS = new Set(['pull_request']);

export async function enforceAutoMergePolicy(forge: Forge, eventName: string, payload: unknown, log: (line: string) => void, run: PolicyRun = {}): Promise<PolicyOutcome> {
  const fail = (summary: string, extra: Partial<PolicyOutcome> = {}): PolicyOutcome => ({ pass: false, summary, pr: undefined, decision: undefined, actions: [], errors: [], ...extra });
  const known = [...POLICY_EVENTS, 'merge_group'];
  if (!known.includes(eventName)) return fail(`this check runs on ${known.join(', ')} events (and the schedule's sweep); it got "${eventName || '(none)'}", so it cannot vouch for any pull request`);
  const fromEvent = eventName === 'merge_group' ? undefined : pullFromPayload(payload);
  const number = eventName === 'merge_group' ? pullOfMergeGroup(payload) : fromEvent?.number;
  if (number === undefined)
    return fail(eventName === 'merge_group' ? 'the merge_group event names no pull request (merge_group.head_ref is not gh-readonly-queue/…/pr-N-…)' : `the ${eventName} event carries no pull request (pull_request.number is missing)`);

  const errors: string[] = [];
  let now: PolicyPull | undefined;
  try {
    now = await forge.getPullRequest(number);
  } catch (err) {
    errors.push(`could not read #${number} from GitHub: ${(err as Error).message}${fromEvent ? "; decided on the event's copy" : ''}`);
  }
  // The event's copy counts on the event's own run (both halves then agree), not on a person's re-run.
  const views = [...(now ? [now] : []), ...(fromEvent && (!now || (run.runAttempt ?? 1) <= 1) ? [fromEvent] : [])];
  if (!views.length) return fail(errors.join('; '), { pr: number, errors });
  const shown = now ?? fromEvent!;
  let d = decide(views);
  if (!d.coreloop.length && asks(d)) {
    // Nothing in its name says coreloop, but something asks to merge it: its commits may.
    try {
      d = decide(views, await forge.listPullRequestCommits(number));
    } catch (err) {
      errors.push(`could not read the commits of #${number}, so cannot tell whether they are coreloop's: ${(err as Error).message}`);
    }
  }
  log(`#${number} "${shown.title}" (${shown.headRef}): ${d.coreloop.length ? `coreloop: ${d.coreloop.join('; ')}` : 'not a coreloop pull request'}`);
  if (!d.coreloop.length || !asks(d)) {
    if (errors.length) return fail(errors.join('; '), { pr: number, decision: d, errors });
    const why = d.coreloop.length ? 'is a coreloop pull request and nothing asks to merge it automatically' : 'is not a coreloop pull request: nothing to do';
    return { pass: true, summary: `#${number} ${why}`, pr: number, decision: d, actions: [], errors };
  }

  const actions: string[] = [];
  if (READ_ONLY_EVENTS.has(eventName)) log('this half runs the pull request\'s own copy of the workflow, so it only reports; the pull_request_target half undoes it');
  else await undo(forge, now ?? fromEvent, d, actions, errors);
  for (const a of actions) log(a);
  for (const e of errors) log(`error: ${e}`);
  const asked = [...d.autoMergeLabels.map((l) => `the \`${l}\` label`), ...(d.autoMergeEnabled ? ['auto-merge enabled'] : [])].join(' and ');
  return fail(`#${number} is a coreloop pull request with ${asked}: a person merges coreloop changes${actions.length ? ` (${actions.join(', ')})` : ''}${errors.length ? `; ${errors.join('; ')}` : ''}`, { pr: number, decision: d, actions, errors });
}

export interface SweepOutcome {
  pass: boolean;
  summary: string;
  /** Per pull request that asked for auto-merge: the outcome of the check on it. */
  pulls: PolicyOutcome[];
}

/**
 * The scheduled sweep: every open pull request that asks for auto-merge is checked as an event would check
 * it, and a coreloop one is undone. It fails when it had to undo anything (someone asked where no event
 * reported it) or could not look.
 */
export async function sweepAutoMerge(forge: Forge, log: (line: string) => void): Promise<SweepOutcome> {
  let open: PullRequest[];
  try {
    open = await forge.listOpenPullRequests();
  } catch (err) {
    return { pass: false, summary: `could not list the open pull requests: ${(err as Error).message}`, pulls: [] };
  }
  const asking = open.filter((p) => p.autoMerge || p.labels.some((l) => AUTO_MERGE_LABELS.includes(l.toLowerCase())));
  log(`${open.length} open pull request(s), ${asking.length} asking to merge automatically`);
  const pulls: PolicyOutcome[] = [];
  for (const p of asking) {
    const errors: string[] = [];
    let d = decide([p]);
    if (!d.coreloop.length) {
      try {
        d = decide([p], await forge.listPullRequestCommits(p.number));
      } catch (err) {
        errors.push(`could not read the commits of #${p.number}: ${(err as Error).message}`);
      }
    }
    if (!d.coreloop.length) {
      if (errors.length) pulls.push({ pass: false, summary: errors.join('; '), pr: p.number, decision: d, actions: [], errors });
      continue;
    }
    const actions: string[] = [];
    await undo(forge, p, d, actions, errors);
    log(`#${p.number} "${p.title}": coreloop (${d.coreloop.join('; ')}): ${[...actions, ...errors.map((e) => `error: ${e}`)].join('; ')}`);
    pulls.push({ pass: false, summary: `#${p.number} is a coreloop pull request that asked to merge automatically${actions.length ? ` (${actions.join(', ')})` : ''}`, pr: p.number, decision: d, actions, errors });
  }
  if (!pulls.length) return { pass: true, summary: `no coreloop pull request asks to merge automatically (${open.length} open)`, pulls };
  return { pass: false, summary: pulls.map((o) => o.summary).join('; '), pulls };
}
