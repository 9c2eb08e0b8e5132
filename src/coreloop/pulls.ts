// The draft pull request of a promoted change, through the forge: push the skill/docstring-* branch, open
// the pull request as a draft with the `coreloop` label and the evidence in its body. Nothing here can ask
// for auto-merge (the forge has no such call), and the policy workflow undoes it if anyone else does.
import type { Git } from '../git/git.js';
import { ForgeError, type Forge } from '../forge/forge.js';
import type { PullRequests } from './promote.js';

/** GitHub's limit on a pull request body; a longer one is cut with a note (the table goes first). */
const BODY_LIMIT = 65_536;

export function forgePullRequests(git: Git, forge: Forge, remote = 'origin'): PullRequests {
  return {
    async openDraft(pr) {
      const push = await git.run(['push', '--porcelain', remote, `refs/heads/${pr.head}:refs/heads/${pr.head}`], { allowFail: true });
      if (push.code !== 0) return { notOpened: `the branch did not reach ${remote}: ${(push.stderr || push.stdout).trim().split('\n').at(-1)}`, failed: true };
      const body = pr.body.length > BODY_LIMIT ? `${pr.body.slice(0, BODY_LIMIT - 200)}\n\n(cut at GitHub's limit: the whole evidence is in the candidates file)` : pr.body;
      try {
        const opened = await forge.openDraftPullRequest({ title: pr.title, head: pr.head, base: pr.base, body, labels: pr.labels });
        return { url: opened.url };
      } catch (err) {
        if (err instanceof ForgeError) return { notOpened: `the branch is on ${remote}, but GitHub did not open the pull request: ${err.message}`, failed: true };
        throw err;
      }
    },
  };
}
