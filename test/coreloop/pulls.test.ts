// Coreloop's draft pull request against a GitHub as strict as GitHub: real git pushes the branch to a real
// bare remote, real Octokit opens the pull request on the fake, which refuses what GitHub refuses (a second
// pull request for the branch, no commits between, drafts the plan lacks, the Actions setting, an expired
// token). Each refusal ends in a message that says what to do, and the branch stays on the remote.
import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Git } from '../../src/git/git.js';
import { OctokitForge } from '../../src/forge/octokit.js';
import { forgePullRequests } from '../../src/coreloop/pulls.js';
import type { PullRequestPlan } from '../../src/coreloop/promote.js';
import { fakeGitHub, githubReplies, testPatience, type FakeGitHub, type FakeGitHubOptions } from '../fakes/github-server.js';
import { childEnv } from '../helpers.js';

const TOKEN = 'ghs_pullstesttoken000000000001';
const BRANCH = 'skill/docstring-tag-money-20261121';
const open: FakeGitHub[] = [];
afterEach(async () => {
  for (const g of open.splice(0)) await g.close();
});

/** A clone with `main` and the coreloop branch (one commit ahead, or none), its bare origin, and a fake GitHub on it. */
async function setup(o: FakeGitHubOptions = {}, ahead = true, workflowToken = false) {
  const env = childEnv({ GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' });
  const root = await mkdtemp(path.join(tmpdir(), 'g7-pulls-'));
  const work = path.join(root, 'work');
  const bare = path.join(root, 'origin.git');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: work, env, encoding: 'utf8' });
  execFileSync('git', ['init', '-q', '-b', 'main', work], { env });
  await writeFile(path.join(work, 'TAG.md'), '# TAG\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'start');
  git('branch', BRANCH);
  if (ahead) {
    git('checkout', '-q', BRANCH);
    await writeFile(path.join(work, 'TAG.md'), '# TAG\n\n## Guide\n- a bullet\n');
    git('commit', '-q', '-am', '[CORELOOP-R] TAG.md Guide: a bullet');
    git('checkout', '-q', 'main');
  }
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', bare], { env });
  git('remote', 'add', 'origin', bare);
  git('push', '-q', 'origin', 'main');
  const gh = await fakeGitHub({ token: TOKEN, gitDir: bare, ...o });
  open.push(gh);
  const forge = new OctokitForge({ repo: { owner: gh.owner, repo: gh.name }, token: TOKEN, baseUrl: gh.url, patience: testPatience });
  const onRemote = () => execFileSync('git', ['rev-parse', '--verify', '-q', `refs/heads/${BRANCH}`], { cwd: bare, env, encoding: 'utf8' }).trim();
  return { gh, pulls: forgePullRequests(new Git(work, env), forge, { workflowToken }), onRemote, forge };
}

const plan: PullRequestPlan = { head: BRANCH, base: 'main', title: '[CORELOOP-R] TAG.md Guide: a bullet', body: '| case | A | B |', draft: true, labels: ['coreloop'] };

describe('coreloop pull requests on a strict GitHub', () => {
  it('opens a draft and labels it', async () => {
    const { gh, pulls } = await setup();
    gh.expect('pulls/create', { head: BRANCH, draft: true }).expect('issues/add-labels', { labels: ['coreloop'] });
    const r = await pulls.openDraft(plan);
    gh.verify();
    expect(r).toEqual({ url: expect.stringMatching(/\/pull\/1$/) });
  });

  it('labels failing after the pull request opened is "open, label missing", and a re-run finds it and finishes', async () => {
    const { gh, pulls } = await setup();
    gh.expect('pulls/create');
    for (let i = 0; i < 4; i++) gh.expect('issues/add-labels', {}, githubReplies.serverError(502));
    const first = await pulls.openDraft(plan);
    gh.verify();
    expect(first).toMatchObject({ url: expect.stringMatching(/\/pull\/1$/), note: expect.stringMatching(/the pull request is open, but the label `coreloop` did not go on: .*502.*add it by hand, or run promote again/) });
    expect(first).not.toHaveProperty('notOpened');

    // The re-run meets GitHub's duplicate refusal and finds the open pull request instead of failing.
    gh.expect('pulls/create').expect('pulls/list', { head: `${gh.owner}:${BRANCH}`, state: 'open' }).expect('issues/add-labels', { issue_number: 1, labels: ['coreloop'] });
    const again = await pulls.openDraft(plan);
    gh.verify();
    expect(gh.calls.find((c) => c.operation === 'pulls/create' && c.status === 422)).toBeDefined();
    expect(again).toMatchObject({ url: expect.stringMatching(/\/pull\/1$/), note: expect.stringMatching(/#1 was open already/) });
    expect((gh.pull(1)!.labels as { name: string }[]).map((l) => l.name)).toEqual(['coreloop']);
  });

  it('a branch with nothing new: GitHub says "No commits between", the product says why', async () => {
    const { gh, pulls, onRemote } = await setup({}, false);
    gh.expect('pulls/create');
    const r = await pulls.openDraft(plan);
    gh.verify();
    expect(r).toMatchObject({ failed: true, notOpened: expect.stringMatching(/No commits between main and skill\/docstring-.*merged already/) });
    expect(onRemote()).toMatch(/^[0-9a-f]{40}$/);
  });

  it('a private repository on a plan without drafts: refused, with the ways out, the branch kept', async () => {
    const { gh, pulls, onRemote } = await setup({ visibility: 'private', plan: 'free' });
    gh.expect('pulls/create');
    const r = await pulls.openDraft(plan);
    gh.verify();
    expect(r).toMatchObject({ failed: true, notOpened: expect.stringMatching(/kept.*Draft pull requests are not supported in this repository.*Team or Enterprise plan/) });
    expect(onRemote()).toMatch(/^[0-9a-f]{40}$/);
  });

  it('GITHUB_TOKEN where Actions may not open pull requests: a clear failure naming the setting, the branch kept', async () => {
    const { gh, pulls, onRemote } = await setup({ actor: 'github-actions' });
    gh.expect('pulls/create');
    const r = await pulls.openDraft(plan);
    gh.verify();
    expect(r).toMatchObject({ failed: true, notOpened: expect.stringMatching(/403 GitHub Actions is not permitted to create or approve pull requests.*Settings → Actions → General → Workflow permissions → "Allow GitHub Actions to create and approve pull requests"/) });
    expect(onRemote()).toMatch(/^[0-9a-f]{40}$/);
  });

  it('opened with GITHUB_TOKEN where Actions may: the body, and the note for the log and summary, say its checks never start and the fix', async () => {
    const { gh, pulls } = await setup({ actor: 'github-actions', actionsMayCreatePullRequests: true }, true, true);
    gh.expect('pulls/create').expect('issues/add-labels');
    const r = await pulls.openDraft(plan);
    gh.verify();
    expect(r).toMatchObject({ url: expect.stringMatching(/\/pull\/1$/), note: expect.stringMatching(/#1 was opened with the workflow's GITHUB_TOKEN: GitHub starts no workflow for it.*G7_APP_ID.*G7_PR_TOKEN/) });
    const body = String(gh.pull(1)!.body);
    expect(body).toMatch(/^> \[!WARNING\]\n> This pull request was opened with the workflow's GITHUB_TOKEN/);
    expect(body).toContain(plan.body);
  });

  it('an installation token past its hour: 401, and the message says tokens last an hour', async () => {
    let now = Date.now();
    const { gh, pulls, onRemote } = await setup({ now: () => now });
    now += 3600_000;
    const r = await pulls.openDraft(plan);
    expect(gh.problems.join('\n')).toMatch(/Bad credentials/);
    expect(r).toMatchObject({ failed: true, notOpened: expect.stringMatching(/401 Bad credentials.*installation token lives one hour/) });
    expect(onRemote()).toMatch(/^[0-9a-f]{40}$/);
  });
});
