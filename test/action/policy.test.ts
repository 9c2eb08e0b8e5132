// The policy command on webhook payloads, through the bundle as a runner starts it and through GitHub's own
// local runner (@github/local-action, from the TypeScript source with its stand-in for @actions/core).
import { describe, expect, it } from 'vitest';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { webhookPayload } from '../fakes/github-webhooks.js';
import { loopback, runBundle, runLocalAction, TOKEN, type RunnerOptions, type ActionRun } from './runner.js';

const net = loopback();

const runners: [string, (o: RunnerOptions) => Promise<ActionRun>][] = [
  ['the bundle on Node 24', runBundle],
  ['@github/local-action', runLocalAction],
];

describe.each(runners)('policy, run by %s', (_, runAction) => {
  it('on a coreloop pull request with auto-merge: undoes it, comments, and fails the check', async () => {
    const gh = await net.github();
    const raw = gh.addPullRequest({ number: 12, title: '[CORELOOP-R] TAG: guide', head: 'skill/docstring-tag-money-20261121', labels: ['coreloop', 'auto-merge'], autoMerge: true });
    gh.expect('pulls/get', { pull_number: 12 }).expect('issues/remove-label', { name: 'auto-merge' }).expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments', { issue_number: 12 }).expect('issues/create-comment', { issue_number: 12 });
    const payload = webhookPayload('auto_merge_enabled', { number: 12, nodeId: String(raw.node_id), title: '[CORELOOP-R] TAG: guide', head: 'skill/docstring-tag-money-20261121', labels: ['coreloop', 'auto-merge'], autoMerge: true });
    const workspace = await mkdtemp(path.join(tmpdir(), 'g7-policy-'));
    const r = await runAction({ workspace, apiUrl: gh.url, repository: gh.fullName, event: { name: 'pull_request_target', payload }, inputs: { command: 'policy', 'github-token': TOKEN } });
    gh.verify();
    expect(r.outputs.policy).toBe('fail');
    expect(r.stdout).toMatch(/::error::#12 is a coreloop pull request with the `auto-merge` label and auto-merge enabled/);
    expect(r.summary).toMatch(/## block-coreloop-auto-merge: FAIL/);
    if (runAction === runBundle) expect(r.code).toBe(1);
  });

  it('on an ordinary pull request: reads it and its commits, touches nothing, passes', async () => {
    const gh = await net.github();
    const raw = gh.addPullRequest({ number: 13, title: 'Fix the taxonomy', head: 'fix/taxonomy', labels: ['auto-merge'], autoMerge: true });
    gh.expect('pulls/get', { pull_number: 13 }).expect('pulls/list-commits', { pull_number: 13 });
    const payload = webhookPayload('labeled', { number: 13, nodeId: String(raw.node_id), title: 'Fix the taxonomy', head: 'fix/taxonomy', labels: ['auto-merge'], autoMerge: true });
    const workspace = await mkdtemp(path.join(tmpdir(), 'g7-policy-'));
    const r = await runAction({ workspace, apiUrl: gh.url, repository: gh.fullName, event: { name: 'pull_request', payload }, inputs: { command: 'policy', 'github-token': TOKEN } });
    gh.verify();
    expect(r.outputs.policy).toBe('pass');
    expect(r.stdout).not.toMatch(/::error/);
    if (runAction === runBundle) expect(r.code).toBe(0);
  });

  it('on the schedule: sweeps every open pull request and undoes auto-merge on a coreloop one', async () => {
    const gh = await net.github();
    gh.addPullRequest({ number: 14, title: '[CORELOOP-R] TAG: guide', head: 'skill/docstring-tag-money-20261121', labels: ['coreloop'], autoMerge: true });
    gh.expect('pulls/list', { state: 'open' }).expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments', { issue_number: 14 }).expect('issues/create-comment', { issue_number: 14 });
    const workspace = await mkdtemp(path.join(tmpdir(), 'g7-policy-'));
    const r = await runAction({ workspace, apiUrl: gh.url, repository: gh.fullName, event: { name: 'schedule', payload: { schedule: '23 * * * *' } }, inputs: { command: 'policy', 'github-token': TOKEN } });
    gh.verify();
    expect(r.outputs.policy).toBe('fail');
    expect(r.summary).toMatch(/## block-coreloop-auto-merge \(sweep\): FAIL/);
    expect(gh.pull(14)!.auto_merge).toBeNull();
  });
});
