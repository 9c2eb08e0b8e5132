// The `block-coreloop-auto-merge` check (SPEC 9, 10): a coreloop pull request is merged by a person, never
// automatically. One of three locks: coreloop never asks for auto-merge, branch protection requires a
// person's approval, and this check undoes any request for auto-merge on a coreloop PR and fails.
//
// It fails closed: an event it cannot read, a pull request it cannot identify, an API call that does not go
// through, all fail the check. It decides on the pull request as GitHub has it now (a re-run after the fix
// passes), and on the event's copy when GitHub cannot be read.
import type { Forge, PullRequest } from '../forge/forge.js';

/** The events and activity types ai-policy.yml runs on; a test holds the workflow to this list. */
export const POLICY_EVENTS = ['pull_request', 'pull_request_target'] as const;
export const POLICY_ACTIVITIES = [
  'opened', 'reopened', 'edited', 'synchronize', 'labeled', 'unlabeled', 'ready_for_review', 'converted_to_draft', 'auto_merge_enabled', 'auto_merge_disabled',
] as const;

export const CORELOOP_TITLE_PREFIX = '[CORELOOP-';
export const CORELOOP_BRANCH_PREFIX = 'skill/docstring-';
export const CORELOOP_LABEL = 'coreloop';
/** Labels that ask a bot or GitHub to merge by itself (compared without case, as GitHub compares labels). */
export const AUTO_MERGE_LABELS = ['auto-merge', 'automerge'];
/** Marks the check's comments, so people and tools can find them. */
export const COMMENT_MARKER = '<!-- g7:block-coreloop-auto-merge -->';

export type PolicyPull = Pick<PullRequest, 'number' | 'nodeId' | 'title' | 'headRef' | 'labels' | 'autoMerge' | 'state'>;

export interface PolicyDecision {
  /** Why this is a coreloop PR (empty: an ordinary PR, left alone). */
  coreloop: string[];
  /** The labels that ask for auto-merge, as named on the PR. */
  autoMergeLabels: string[];
  autoMergeEnabled: boolean;
}

/** Pure: what the PR is and what it asks for. Matching ignores case: a near miss must not slip through. */
export function decide(pr: PolicyPull): PolicyDecision {
  const coreloop: string[] = [];
  if (pr.title.toUpperCase().startsWith(CORELOOP_TITLE_PREFIX)) coreloop.push(`its title starts with \`${CORELOOP_TITLE_PREFIX}\``);
  if (pr.headRef.toLowerCase().startsWith(CORELOOP_BRANCH_PREFIX)) coreloop.push(`its head branch \`${pr.headRef}\` starts with \`${CORELOOP_BRANCH_PREFIX}\``);
  if (pr.labels.some((l) => l.toLowerCase() === CORELOOP_LABEL)) coreloop.push(`it has the \`${CORELOOP_LABEL}\` label`);
  return { coreloop, autoMergeLabels: pr.labels.filter((l) => AUTO_MERGE_LABELS.includes(l.toLowerCase())), autoMergeEnabled: pr.autoMerge };
}

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

function commentBody(d: PolicyDecision, actions: string[]): string {
  return [
    COMMENT_MARKER,
    `**block-coreloop-auto-merge**: this is a coreloop pull request (${d.coreloop.join('; ')}).`,
    '',
    'Coreloop changes the skill docstrings the worker is prompted with; a person reviews and merges them, never a bot. This check:',
    ...actions.map((a) => `- ${a}`),
    '',
    'and fails. Review the change and merge it by hand; once auto-merge is off, re-run this check and it passes.',
  ].join('\n');
}

export async function enforceAutoMergePolicy(forge: Forge, eventName: string, payload: unknown, log: (line: string) => void): Promise<PolicyOutcome> {
  const fail = (summary: string, extra: Partial<PolicyOutcome> = {}): PolicyOutcome => ({ pass: false, summary, pr: undefined, decision: undefined, actions: [], errors: [], ...extra });
  if (!(POLICY_EVENTS as readonly string[]).includes(eventName))
    return fail(`this check runs on ${POLICY_EVENTS.join(' and ')} events; it got "${eventName || '(none)'}", so it cannot vouch for any pull request`);
  const fromEvent = pullFromPayload(payload);
  if (!fromEvent) return fail(`the ${eventName} event carries no pull request (pull_request.number is missing)`);

  const errors: string[] = [];
  let pr: PolicyPull = fromEvent;
  try {
    pr = await forge.getPullRequest(fromEvent.number);
  } catch (err) {
    errors.push(`could not read #${fromEvent.number} from GitHub: ${(err as Error).message}; decided on the event's copy`);
  }
  const d = decide(pr);
  log(`#${pr.number} "${pr.title}" (${pr.headRef}): ${d.coreloop.length ? `coreloop: ${d.coreloop.join('; ')}` : 'not a coreloop pull request'}`);
  if (!d.coreloop.length) {
    if (errors.length) return fail(errors.join('; '), { pr: pr.number, decision: d, errors });
    return { pass: true, summary: `#${pr.number} is not a coreloop pull request: nothing to do`, pr: pr.number, decision: d, actions: [], errors };
  }
  if (!d.autoMergeLabels.length && !d.autoMergeEnabled) {
    if (errors.length) return fail(errors.join('; '), { pr: pr.number, decision: d, errors });
    return { pass: true, summary: `#${pr.number} is a coreloop pull request and nothing asks to merge it automatically`, pr: pr.number, decision: d, actions: [], errors };
  }

  const actions: string[] = [];
  for (const label of d.autoMergeLabels) {
    try {
      await forge.removeLabel(pr.number, label);
      actions.push(`removed the \`${label}\` label`);
    } catch (err) {
      errors.push(`could not remove the \`${label}\` label: ${(err as Error).message}`);
    }
  }
  if (d.autoMergeEnabled && pr.state === 'open') {
    try {
      await forge.disableAutoMerge(pr);
      actions.push('turned auto-merge off');
    } catch (err) {
      errors.push(`could not turn auto-merge off: ${(err as Error).message}`);
    }
  }
  if (actions.length) {
    try {
      await forge.comment(pr.number, commentBody(d, actions));
    } catch (err) {
      errors.push(`could not comment: ${(err as Error).message}`);
    }
  }
  for (const a of actions) log(a);
  for (const e of errors) log(`error: ${e}`);
  const asked = [...d.autoMergeLabels.map((l) => `the \`${l}\` label`), ...(d.autoMergeEnabled ? ['auto-merge enabled'] : [])].join(' and ');
  return fail(`#${pr.number} is a coreloop pull request with ${asked}: a person merges coreloop changes${actions.length ? ` (${actions.join(', ')})` : ''}${errors.length ? `; ${errors.join('; ')}` : ''}`, { pr: pr.number, decision: d, actions, errors });
}
