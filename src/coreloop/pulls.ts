// The draft pull request of a promoted change, through the forge: push the skill/docstring-* branch, open
// the pull request as a draft with the `coreloop` label and the evidence in its body. Nothing here can ask
// for auto-merge (the forge has no such call), and the policy workflow undoes it if anyone else does.
//
// Opening is idempotent: a pull request already open from the branch (a re-run after a label failure, or a
// race) is found and finished, never reported as "did not open".
import type { Git } from '../git/git.js';
import { ForgeError, type Forge, type PullRequest } from '../forge/forge.js';
import type { PullRequests } from './promote.js';

/** GitHub's limit on a pull request body; a longer one is cut with a note (the table goes first). */
const BODY_LIMIT = 65_536;

/** What a pull request opened with a workflow's GITHUB_TOKEN lacks, and the fix; said in the log, the summary and the body. */
export const WORKFLOW_TOKEN_WARNING =
  "opened with the workflow's GITHUB_TOKEN: GitHub starts no workflow for it, so CI and ai-policy never report and its required checks wait forever. " +
  "Fix: install the factory's GitHub App (variable G7_APP_ID, secret G7_APP_PRIVATE_KEY) or set the secret G7_PR_TOKEN (a PAT with pull-requests: write), " +
  'then dispatch coreloop again for this candidate, or push to the branch with that token so the checks start';

export interface ForgePullRequestOptions {
  remote?: string;
  /** The token is the workflow's GITHUB_TOKEN (the workflow says so: G7_TOKEN_SOURCE=github-token). */
  workflowToken?: boolean;
}

export function forgePullRequests(git: Git, forge: Forge, opts: ForgePullRequestOptions = {}): PullRequests {
  const remote = opts.remote ?? 'origin';
  return {
    async openDraft(pr) {
      const push = await git.run(['push', '--porcelain', remote, `refs/heads/${pr.head}:refs/heads/${pr.head}`], { allowFail: true });
      if (push.code !== 0) return { notOpened: `the branch did not reach ${remote}: ${(push.stderr || push.stdout).trim().split('\n').at(-1)}`, failed: true };
      const warning = opts.workflowToken ? `> [!WARNING]\n> This pull request was ${WORKFLOW_TOKEN_WARNING}.\n\n` : '';
      const limit = BODY_LIMIT - warning.length;
      const body = warning + (pr.body.length > limit ? `${pr.body.slice(0, limit - 200)}\n\n(cut at GitHub's limit: the whole evidence is in the candidates file)` : pr.body);
      let opened: PullRequest;
      let already = false;
      try {
        opened = await forge.openDraftPullRequest({ title: pr.title, head: pr.head, base: pr.base, body });
      } catch (err) {
        if (!(err instanceof ForgeError)) throw err;
        const existing = err.status === 422 && /already exists/i.test(err.message) ? await forge.findOpenPullRequest(pr.head, pr.base).catch(() => undefined) : undefined;
        if (!existing) return { notOpened: `the branch ${pr.head} is on ${remote} and kept, but GitHub did not open the pull request: ${err.message}`, failed: true };
        opened = existing;
        already = true;
      }
      const missing = pr.labels.filter((l) => !opened.labels.some((have) => have.toLowerCase() === l.toLowerCase()));
      const notes: string[] = already ? [`#${opened.number} was open already from ${pr.head}`] : [];
      if (opts.workflowToken) notes.push(`#${opened.number} was ${WORKFLOW_TOKEN_WARNING}`);
      if (missing.length) {
        try {
          await forge.addLabels(opened.number, missing);
        } catch (err) {
          if (!(err instanceof ForgeError)) throw err;
          notes.push(`the pull request is open, but the label${missing.length > 1 ? 's' : ''} ${missing.map((l) => `\`${l}\``).join(', ')} did not go on: ${err.message}; add ${missing.length > 1 ? 'them' : 'it'} by hand, or run promote again`);
        }
      }
      return { url: opened.url, ...(notes.length ? { note: notes.join('; ') } : {}) };
    },
  };
}
