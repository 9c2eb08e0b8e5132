// The lock's doors, each shut: a coreloop PR renamed after auto-merge was turned on (its commits still say
// coreloop), auto-merge turned on where no event reports it (the sweep), both halves of one event at once or
// one after the other (one comment, both fail), and the merge queue (it reports). Real Octokit on the fake.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OctokitForge } from '../../src/forge/octokit.js';
import { COMMENT_MARKER, enforceAutoMergePolicy, pullOfMergeGroup, sweepAutoMerge } from '../../src/policy/auto-merge.js';
import { fakeGitHub, testPatience, type FakeGitHub, type Json } from '../fakes/github-server.js';
import { webhookPayload } from '../fakes/github-webhooks.js';

const TOKEN = 'ghs_locktoken00000000000001';
let gh: FakeGitHub;
let forge: OctokitForge;
beforeEach(async () => {
  gh = await fakeGitHub({ token: TOKEN, actor: 'github-actions' });
  forge = new OctokitForge({ repo: { owner: gh.owner, repo: gh.name }, token: TOKEN, baseUrl: gh.url, patience: testPatience });
});
afterEach(async () => {
  await gh.close();
});

const CORELOOP_COMMIT = '[CORELOOP-R] TAG.md Guide: money tables\n\nThe bullet.\n\nG7-Coreloop: R\nG7-Candidate: cand-1234\nG7-Bullet: g-0001\n';
const quiet = () => {};
const labelsOf = (n: number) => (gh.pull(n)!.labels as Json[]).map((l) => String(l.name));

describe('the lock reads the commits', () => {
  it('a coreloop PR whose title was edited after auto-merge went on, on another branch, without the label: undone and failed', async () => {
    const raw = gh.addPullRequest({ number: 11, title: 'Tidy the TAG guide', head: 'docs/tidy', labels: [], autoMerge: true, commits: ['Start', CORELOOP_COMMIT] });
    const payload = webhookPayload('edited', { number: 11, nodeId: String(raw.node_id), title: 'Tidy the TAG guide', head: 'docs/tidy', labels: [], autoMerge: true });
    gh.expect('pulls/get').expect('pulls/list-commits', { pull_number: 11 }).expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments').expect('issues/create-comment');
    const out = await enforceAutoMergePolicy(forge, 'pull_request_target', payload, quiet);
    gh.verify();
    expect(out.pass).toBe(false);
    expect(out.decision!.coreloop.join()).toMatch(/its commit c+\w* has the subject "\[CORELOOP-R\] TAG.md Guide: money tables"/);
    expect(gh.pull(11)!.auto_merge).toBeNull();
  });

  it("coreloop's trailers alone are enough; the factory's own G7-* trailers are not", async () => {
    gh.addPullRequest({ number: 12, title: 'x', head: 'x', labels: ['automerge'], commits: ['Reword\n\nG7-Candidate-Key: k-77\n'] });
    gh.addPullRequest({ number: 13, title: 'y', head: 'y', labels: ['automerge'], commits: ['evidence\n\nG7-Run: run_0001\nG7-State: READY\n'] });
    gh.expect('pulls/get', { pull_number: 12 }).expect('pulls/list-commits', { pull_number: 12 }).expect('issues/remove-label', { name: 'automerge' }).expect('issues/list-comments').expect('issues/create-comment');
    gh.expect('pulls/get', { pull_number: 13 }).expect('pulls/list-commits', { pull_number: 13 });
    const a = await enforceAutoMergePolicy(forge, 'pull_request_target', webhookPayload('labeled', { number: 12, nodeId: 'n12', title: 'x', head: 'x', labels: ['automerge'], autoMerge: false }), quiet);
    const b = await enforceAutoMergePolicy(forge, 'pull_request_target', webhookPayload('labeled', { number: 13, nodeId: 'n13', title: 'y', head: 'y', labels: ['automerge'], autoMerge: false }), quiet);
    gh.verify();
    expect(a.pass).toBe(false);
    expect(a.decision!.coreloop.join()).toMatch(/carries coreloop's `G7-Candidate-Key` trailer/);
    expect(b.pass).toBe(true);
    expect(labelsOf(13)).toEqual(['automerge']);
  });
});

describe('both halves of one event', () => {
  const setup = () => {
    const raw = gh.addPullRequest({ number: 21, title: '[CORELOOP-F] caveat', head: 'skill/docstring-tag-x-20261121', labels: ['coreloop', 'auto-merge'], autoMerge: true });
    return webhookPayload('labeled', { number: 21, nodeId: String(raw.node_id), title: '[CORELOOP-F] caveat', head: 'skill/docstring-tag-x-20261121', labels: ['coreloop', 'auto-merge'], autoMerge: true });
  };

  it('at once: one comment, both fail', async () => {
    const payload = setup();
    gh.expect('pulls/get').expect('pulls/get').expect('issues/remove-label').expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments').expect('issues/create-comment');
    const [pr, target] = await Promise.all([enforceAutoMergePolicy(forge, 'pull_request', payload, quiet), enforceAutoMergePolicy(forge, 'pull_request_target', payload, quiet)]);
    gh.verify();
    expect([pr.pass, target.pass]).toEqual([false, false]);
    expect(gh.comments).toHaveLength(1);
    expect(gh.pull(21)!.auto_merge).toBeNull();
  });

  it('one after the other: the later run sees auto-merge off and still fails (the event asked)', async () => {
    const payload = setup();
    gh.expect('pulls/get').expect('issues/remove-label').expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments').expect('issues/create-comment');
    const first = await enforceAutoMergePolicy(forge, 'pull_request_target', payload, quiet);
    gh.expect('pulls/get');
    const later = await enforceAutoMergePolicy(forge, 'pull_request', payload, quiet);
    // The same half twice (a redelivered event): the comment is found, not written again.
    gh.expect('pulls/get').expect('issues/list-comments');
    const again = await enforceAutoMergePolicy(forge, 'pull_request_target', payload, quiet);
    gh.verify();
    expect([first.pass, later.pass, again.pass]).toEqual([false, false, false]);
    expect(gh.comments).toHaveLength(1);
  });

  it('updates its own marker comment, and never edits a person who quoted the marker', async () => {
    const payload = setup();
    gh.addComment(21, `I copied this: ${COMMENT_MARKER}`);
    gh.addComment(21, `${COMMENT_MARKER}\nan older text of the check`, { login: 'github-actions[bot]', type: 'Bot' });
    gh.expect('pulls/get').expect('issues/remove-label').expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments').expect('issues/update-comment');
    const out = await enforceAutoMergePolicy(forge, 'pull_request_target', payload, quiet);
    gh.verify();
    expect(out.actions).toContain('updated its comment');
    expect(gh.comments.map((c) => c.body.includes('a person reviews and merges them'))).toEqual([false, true]);
    expect(gh.comments[0]!.body).toBe(`I copied this: ${COMMENT_MARKER}`);
  });
});

describe('the hourly sweep', () => {
  it('undoes auto-merge that a GITHUB_TOKEN workflow turned on (no event reported it) within one run, and leaves the rest', async () => {
    gh.addPullRequest({ number: 31, title: '[CORELOOP-R] g', head: 'skill/docstring-a-20261121', labels: ['coreloop'], autoMerge: true });
    gh.addPullRequest({ number: 32, title: 'renamed', head: 'feature/z', labels: ['auto-merge'], commits: [CORELOOP_COMMIT] });
    gh.addPullRequest({ number: 33, title: 'ordinary', head: 'fix/y', labels: ['auto-merge'], autoMerge: true });
    gh.addPullRequest({ number: 34, title: '[CORELOOP-R] quiet', head: 'skill/docstring-b-20261121', labels: ['coreloop'] });
    gh.addPullRequest({ number: 35, title: '[CORELOOP-R] old', head: 'skill/docstring-c-20261121', labels: ['auto-merge'], state: 'closed' });
    gh.expect('pulls/list', { state: 'open' });
    gh.expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments', { issue_number: 31 }).expect('issues/create-comment', { issue_number: 31 });
    gh.expect('pulls/list-commits', { pull_number: 32 }).expect('issues/remove-label', { issue_number: 32, name: 'auto-merge' }).expect('issues/list-comments', { issue_number: 32 }).expect('issues/create-comment', { issue_number: 32 });
    gh.expect('pulls/list-commits', { pull_number: 33 });
    const out = await sweepAutoMerge(forge, quiet);
    gh.verify();
    expect(out.pass).toBe(false);
    expect(out.pulls.map((p) => p.pr).sort()).toEqual([31, 32]);
    expect(gh.pull(31)!.auto_merge).toBeNull();
    expect(labelsOf(32)).toEqual([]);
    expect(gh.pull(33)!.auto_merge).not.toBeNull();

    // The next hour: nothing left to undo, and the comments are not written again.
    gh.expect('pulls/list', { state: 'open' }).expect('pulls/list-commits', { pull_number: 33 });
    expect((await sweepAutoMerge(forge, quiet)).pass).toBe(true);
    gh.verify();
    expect(gh.comments).toHaveLength(2);
  });
});

describe('the merge queue', () => {
  const group = (n: number) => ({ action: 'checks_requested', merge_group: { head_sha: 'a'.repeat(40), head_ref: `refs/heads/gh-readonly-queue/main/pr-${n}-${'b'.repeat(40)}`, base_sha: 'c'.repeat(40), base_ref: 'refs/heads/main' } });

  it('reports on merge_group: an ordinary pull request passes, a coreloop one asking for auto-merge is undone and fails', async () => {
    expect(pullOfMergeGroup(group(104))).toBe(104);
    gh.addPullRequest({ number: 41, title: 'ordinary', head: 'fix/q' });
    gh.addPullRequest({ number: 42, title: '[CORELOOP-R] q', head: 'skill/docstring-q-20261121', autoMerge: true });
    gh.expect('pulls/get', { pull_number: 41 }).expect('pulls/get', { pull_number: 42 }).expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments').expect('issues/create-comment');
    expect(await enforceAutoMergePolicy(forge, 'merge_group', group(41), quiet)).toMatchObject({ pass: true, pr: 41 });
    expect(await enforceAutoMergePolicy(forge, 'merge_group', group(42), quiet)).toMatchObject({ pass: false, pr: 42 });
    gh.verify();
  });

  it('fails closed on a merge group it cannot tie to a pull request', async () => {
    const out = await enforceAutoMergePolicy(forge, 'merge_group', { merge_group: { head_ref: 'refs/heads/main' } }, quiet);
    expect(out).toMatchObject({ pass: false, summary: expect.stringMatching(/names no pull request/) });
    gh.verify();
  });
});
