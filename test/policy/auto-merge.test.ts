// The block-coreloop-auto-merge decision table in full: title × branch × label × auto-merge × event, each
// case a real webhook payload shape (@octokit/webhooks-examples) and the real forge on the fake GitHub, the
// calls it must make (and no others) asserted there.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OctokitForge } from '../../src/forge/octokit.js';
import { enforceAutoMergePolicy, POLICY_ACTIVITIES, COMMENT_MARKER } from '../../src/policy/auto-merge.js';
import { fakeGitHub, type FakeGitHub, type Json, githubReplies, testPatience } from '../fakes/github-server.js';
import { webhookPayload } from '../fakes/github-webhooks.js';

const TOKEN = 'ghs_policytoken0000000001';
let gh: FakeGitHub;
let forge: OctokitForge;
beforeEach(async () => {
  gh = await fakeGitHub({ token: TOKEN });
  forge = new OctokitForge({ repo: { owner: gh.owner, repo: gh.name }, token: TOKEN, baseUrl: gh.url, patience: testPatience });
});
afterEach(async () => {
  await gh.close();
});

const titles = { coreloop: '[CORELOOP-R] TAG: add a Guide bullet for money tables', ordinary: 'Fix the money regex in the taxonomy' };
const branches = { coreloop: 'skill/docstring-tag-money-20261121', ordinary: 'fix/money-regex' };
const autoMerges = { none: { label: false, enabled: false }, label: { label: true, enabled: false }, enabled: { label: false, enabled: true }, both: { label: true, enabled: true } };
const activityFor = { none: 'opened', label: 'labeled', enabled: 'auto_merge_enabled', both: 'labeled' } as const;

type Side = 'coreloop' | 'ordinary';
const cases: { title: Side; branch: Side; coreloopLabel: boolean; am: keyof typeof autoMerges; event: 'pull_request' | 'pull_request_target' }[] = [];
for (const title of ['coreloop', 'ordinary'] as const)
  for (const branch of ['coreloop', 'ordinary'] as const)
    for (const coreloopLabel of [true, false])
      for (const am of ['none', 'label', 'enabled', 'both'] as const)
        for (const event of ['pull_request', 'pull_request_target'] as const) cases.push({ title, branch, coreloopLabel, am, event });

describe('block-coreloop-auto-merge: the decision table', () => {
  it.each(cases)('title $title, branch $branch, coreloop label $coreloopLabel, auto-merge $am, on $event', async ({ title, branch, coreloopLabel, am, event }) => {
    const labels = [...(coreloopLabel ? ['coreloop'] : []), ...(autoMerges[am].label ? ['auto-merge'] : []), 'documentation'];
    const raw = gh.addPullRequest({ number: 42, title: titles[title], head: branches[branch], labels, autoMerge: autoMerges[am].enabled });
    const payload = webhookPayload(activityFor[am], { number: 42, nodeId: String(raw.node_id), title: titles[title], head: branches[branch], labels, autoMerge: autoMerges[am].enabled });
    const isCoreloop = title === 'coreloop' || branch === 'coreloop' || coreloopLabel;
    const asked = am !== 'none';

    const writes = event === 'pull_request_target'; // the pull_request half only reports
    gh.expect('pulls/get', { pull_number: 42 });
    // Nothing in its name says coreloop, but it asks to be merged: its commits are read (ordinary ones here).
    if (!isCoreloop && asked) gh.expect('pulls/list-commits', { pull_number: 42 });
    if (writes && isCoreloop && autoMerges[am].label) gh.expect('issues/remove-label', { issue_number: 42, name: 'auto-merge' });
    if (writes && isCoreloop && autoMerges[am].enabled) gh.expect('graphql:disablePullRequestAutoMerge', { pullRequestId: raw.node_id });
    if (writes && isCoreloop && asked) gh.expect('issues/list-comments', { issue_number: 42 }).expect('issues/create-comment', { issue_number: 42 });

    const out = await enforceAutoMergePolicy(forge, event, payload, () => {});
    gh.verify();
    expect(out.pass).toBe(!(isCoreloop && asked));
    const live = gh.pull(42)!;
    if (isCoreloop && writes) {
      expect((live.labels as Json[]).map((l) => l.name)).not.toContain('auto-merge');
      expect(live.auto_merge).toBeNull();
    } else {
      // An ordinary pull request is untouched, and the pull_request half touches nothing.
      expect((live.labels as Json[]).map((l) => l.name)).toEqual(labels);
      expect(live.auto_merge === null).toBe(!autoMerges[am].enabled);
    }
    if (isCoreloop && asked) expect(out.summary).toMatch(/^#42 is a coreloop pull request with/);
    if (isCoreloop && asked && writes) {
      expect(gh.comments).toHaveLength(1);
      expect(gh.comments[0]!.body).toContain(COMMENT_MARKER);
    } else expect(gh.comments).toHaveLength(0);
  });
});

describe('block-coreloop-auto-merge fails closed', () => {
  it.each(POLICY_ACTIVITIES.map((a) => ({ activity: a })))('on a coreloop PR with auto-merge, whatever the activity ($activity)', async ({ activity }) => {
    const raw = gh.addPullRequest({ number: 5, title: 'Update TAG guide', head: 'skill/docstring-tag-x-20261121', labels: ['AutoMerge'], autoMerge: true });
    const payload = webhookPayload(activity, { number: 5, nodeId: String(raw.node_id), title: 'Update TAG guide', head: 'skill/docstring-tag-x-20261121', labels: [], autoMerge: false });
    gh.expect('pulls/get').expect('issues/remove-label', { name: 'AutoMerge' }).expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments').expect('issues/create-comment');
    const out = await enforceAutoMergePolicy(forge, 'pull_request_target', payload, () => {});
    gh.verify();
    expect(out.pass).toBe(false);
  });

  it('matches the title prefix, branch and labels without case', async () => {
    const raw = gh.addPullRequest({ number: 6, title: '[coreloop-f] caveat', head: 'feature/x', labels: ['Auto-Merge'] });
    gh.expect('pulls/get').expect('issues/remove-label', { name: 'Auto-Merge' }).expect('issues/list-comments').expect('issues/create-comment');
    const out = await enforceAutoMergePolicy(forge, 'pull_request_target', webhookPayload('labeled', { number: 6, nodeId: String(raw.node_id), title: '[coreloop-f] caveat', head: 'feature/x', labels: ['Auto-Merge'], autoMerge: false }), () => {});
    gh.verify();
    expect(out.pass).toBe(false);
  });

  it('passes a re-run once auto-merge is off: a re-run (attempt 2) decides on the pull request as it is now', async () => {
    const raw = gh.addPullRequest({ number: 7, title: '[CORELOOP-R] x', head: 'skill/docstring-a-20261121', labels: ['coreloop'] });
    gh.expect('pulls/get');
    const stale = webhookPayload('labeled', { number: 7, nodeId: String(raw.node_id), title: '[CORELOOP-R] x', head: 'skill/docstring-a-20261121', labels: ['coreloop', 'auto-merge'], autoMerge: true });
    const out = await enforceAutoMergePolicy(forge, 'pull_request_target', stale, () => {}, { runAttempt: 2 });
    gh.verify();
    expect(out).toMatchObject({ pass: true, actions: [] });
  });

  it('fails when GitHub cannot be read (an outage outlasting the retries), and still undoes what the event shows', async () => {
    const raw = gh.addPullRequest({ number: 8, title: '[CORELOOP-R] x', head: 'skill/docstring-a-20261121', labels: ['auto-merge'] });
    for (let i = 0; i < 4; i++) gh.expect('pulls/get', {}, githubReplies.serverError(502));
    gh.expect('issues/remove-label', { name: 'auto-merge' }).expect('issues/list-comments').expect('issues/create-comment');
    const out = await enforceAutoMergePolicy(forge, 'pull_request_target', webhookPayload('labeled', { number: 8, nodeId: String(raw.node_id), title: '[CORELOOP-R] x', head: 'skill/docstring-a-20261121', labels: ['auto-merge'], autoMerge: false }), () => {});
    gh.verify();
    expect(out.pass).toBe(false);
    expect(out.errors[0]).toMatch(/could not read #8 from GitHub: .*502/);
  });

  it('fails an ordinary pull request too when GitHub cannot be read: it cannot vouch for it', async () => {
    for (let i = 0; i < 4; i++) gh.expect('pulls/get', {}, githubReplies.serverError(503));
    const out = await enforceAutoMergePolicy(forge, 'pull_request', webhookPayload('opened', { number: 9, nodeId: 'x', title: 'ordinary', head: 'fix/x', labels: [], autoMerge: false }), () => {});
    gh.verify();
    expect(out.pass).toBe(false);
  });

  it('fails when the token may not write (workflow permissions left read-only), naming the permission', async () => {
    await gh.close();
    gh = await fakeGitHub({ token: TOKEN, permissions: { pull_requests: 'read', issues: 'read' } });
    forge = new OctokitForge({ repo: { owner: gh.owner, repo: gh.name }, token: TOKEN, baseUrl: gh.url, patience: testPatience });
    const raw = gh.addPullRequest({ number: 10, title: '[CORELOOP-R] x', head: 'skill/docstring-a-20261121', labels: ['auto-merge'], autoMerge: true });
    gh.expect('pulls/get').expect('issues/remove-label').expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments').expect('issues/create-comment');
    const out = await enforceAutoMergePolicy(forge, 'pull_request_target', webhookPayload('labeled', { number: 10, nodeId: String(raw.node_id), title: '[CORELOOP-R] x', head: 'skill/docstring-a-20261121', labels: ['auto-merge'], autoMerge: true }), () => {});
    gh.verify();
    expect(out.pass).toBe(false);
    expect(out.errors.join('\n')).toMatch(/403 Resource not accessible by integration.*pull-requests: write/);
    expect(gh.pull(10)!.auto_merge).not.toBeNull();
  });

  it('fails on an event that is not about a pull request, or a payload without one, and calls nothing', async () => {
    expect(await enforceAutoMergePolicy(forge, 'push', { ref: 'refs/heads/main' }, () => {})).toMatchObject({ pass: false, summary: expect.stringMatching(/it got "push"/) });
    expect(await enforceAutoMergePolicy(forge, 'pull_request', { action: 'opened' }, () => {})).toMatchObject({ pass: false, summary: expect.stringMatching(/carries no pull request/) });
    gh.verify();
  });
});
