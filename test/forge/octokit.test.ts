// The forge through real Octokit against the fake GitHub, which validates every request against GitHub's
// OpenAPI description and GraphQL schema. The fake's own strictness is tested too: a fake that lets a wrong
// request through would make every other test here worthless.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Octokit } from '@octokit/core';
import { OctokitForge } from '../../src/forge/octokit.js';
import { ForgeError } from '../../src/forge/forge.js';
import { connectForge, forgeSettingsFromEnv, repositoryOfRemote } from '../../src/forge/connect.js';
import { fakeGitHub, githubReplies, type FakeGitHub, testPatience } from '../fakes/github-server.js';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { childEnv } from '../helpers.js';
import { factoryWorkflow } from '../../src/cli/scaffold.js';

const TOKEN = 'ghs_fakeinstallationtoken0001';
let gh: FakeGitHub;
let forge: OctokitForge;

beforeEach(async () => {
  gh = await fakeGitHub({ repo: 'g7-factory/factory', token: TOKEN });
  forge = new OctokitForge({ repo: { owner: 'g7-factory', repo: 'factory' }, token: TOKEN, baseUrl: gh.url, patience: testPatience });
});
afterEach(async () => {
  await gh.close();
});

describe('the forge on Octokit', () => {
  it('opens a draft pull request and labels it, and never asks for auto-merge', async () => {
    gh.pushBranch('skill/docstring-tag-money-20261121');
    gh.expect('pulls/create', { title: '[CORELOOP-R] TAG: guide bullet', head: 'skill/docstring-tag-money-20261121', base: 'main', draft: true });
    gh.expect('issues/add-labels', { issue_number: 1, labels: ['coreloop'] });
    const pr = await forge.openDraftPullRequest({ title: '[CORELOOP-R] TAG: guide bullet', head: 'skill/docstring-tag-money-20261121', base: 'main', body: 'table' });
    expect(await forge.addLabels(pr.number, ['coreloop'])).toEqual(['coreloop']);
    gh.verify();
    expect(pr).toMatchObject({ number: 1, draft: true, autoMerge: false, headRef: 'skill/docstring-tag-money-20261121' });
    expect(gh.calls.map((c) => c.operation)).toEqual(['pulls/create', 'issues/add-labels']);
  });

  it('refuses a pull request from a branch never pushed, saying to push it; finds the open one of a branch', async () => {
    gh.expect('pulls/create', { head: 'skill/docstring-never-pushed' });
    const err = await forge.openDraftPullRequest({ title: 't', head: 'skill/docstring-never-pushed', base: 'main', body: '' }).catch((e: unknown) => e);
    gh.verify();
    expect(err).toBeInstanceOf(ForgeError);
    expect(err).toMatchObject({ status: 422, transient: false });
    expect((err as ForgeError).message).toMatch(/Validation Failed: head invalid \(the head branch is not on GitHub: push it first\)/);

    gh.addPullRequest({ number: 3, title: 't', head: 'skill/docstring-a' });
    gh.addPullRequest({ number: 4, title: 't', head: 'skill/docstring-a', state: 'closed' });
    gh.expect('pulls/list', { head: 'g7-factory:skill/docstring-a', state: 'open', base: 'main' }).expect('pulls/list', { head: 'g7-factory:skill/docstring-b' });
    expect((await forge.findOpenPullRequest('skill/docstring-a', 'main'))?.number).toBe(3);
    expect(await forge.findOpenPullRequest('skill/docstring-b', 'main')).toBeUndefined();
    gh.verify();
  });

  it('lists the open pull requests across pages, newest first', async () => {
    for (let n = 1; n <= 130; n++) gh.addPullRequest({ number: n, title: `pr ${n}`, head: `feature/${n}`, state: n % 5 === 0 ? 'closed' : 'open', created_at: `2026-09-01T${String(Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00Z` });
    gh.expect('pulls/list', { state: 'open', per_page: '100' }).expect('pulls/list', { state: 'open', page: '2' });
    const open = await forge.listOpenPullRequests();
    gh.verify();
    expect(open.map((p) => p.number)).toEqual(Array.from({ length: 130 }, (_, i) => 130 - i).filter((n) => n % 5 !== 0));
  });

  it("finds coreloop's pull requests by search (head:prefix), across pages, without listing the others", async () => {
    for (let n = 1; n <= 130; n++) gh.addPullRequest({ number: n, title: `pr ${n}`, head: n <= 105 ? `skill/docstring-x-${n}` : `feature/${n}`, state: n % 5 === 0 ? 'closed' : 'open', merged_at: n % 10 === 0 ? '2026-10-01T00:00:00Z' : null, created_at: `2026-09-01T${String(Math.floor(n / 60)).padStart(2, '0')}:${String(n % 60).padStart(2, '0')}:00Z` });
    const q = 'repo:g7-factory/factory is:pr head:skill/docstring-';
    gh.expect('search/issues-and-pull-requests', { q, per_page: '100' }).expect('search/issues-and-pull-requests', { q, page: '2' });
    const found = await forge.searchPullRequests('skill/docstring-');
    gh.verify();
    expect(found.map((p) => p.number)).toEqual(Array.from({ length: 105 }, (_, i) => 105 - i));
    expect(found.find((p) => p.number === 10)).toMatchObject({ state: 'closed', mergedAt: '2026-10-01T00:00:00Z', url: 'https://github.com/g7-factory/factory/pull/10' });
    expect(found.find((p) => p.number === 5)).toMatchObject({ state: 'closed', mergedAt: null });
  });

  it('the fake refuses a search that is not scoped to the repository and to pull requests', async () => {
    gh.expect('search/issues-and-pull-requests');
    await new Octokit({ auth: TOKEN, baseUrl: gh.url }).request('GET /search/issues', { q: 'head:skill/docstring-' }).catch(() => undefined);
    expect(gh.problems.join('\n')).toMatch(/must name repo: and is:pr/);
  });

  it('removes a label, and a label already gone is not an error', async () => {
    gh.addPullRequest({ number: 7, title: 't', head: 'h', labels: ['auto-merge', 'coreloop'] });
    gh.expect('issues/remove-label', { issue_number: 7, name: 'auto-merge' }).expect('issues/remove-label', { issue_number: 7, name: 'auto-merge' });
    await forge.removeLabel(7, 'auto-merge');
    await forge.removeLabel(7, 'auto-merge');
    gh.verify();
    expect(gh.pull(7)!.labels).toEqual([expect.objectContaining({ name: 'coreloop' })]);
  });

  it('disables auto-merge through the GraphQL mutation, validated against the schema', async () => {
    const raw = gh.addPullRequest({ number: 8, title: 't', head: 'h', autoMerge: true });
    gh.expect('graphql:disablePullRequestAutoMerge', { pullRequestId: raw.node_id });
    await forge.disableAutoMerge({ number: 8, nodeId: String(raw.node_id) });
    gh.verify();
    expect(gh.pull(8)!.auto_merge).toBeNull();
  });

  it('comments, and creates a check run with annotations in batches of 50', async () => {
    gh.addPullRequest({ number: 9, title: 't', head: 'h' });
    gh.expect('issues/create-comment', { issue_number: 9 }).expect('checks/create', { name: 'g7 evidence', conclusion: 'failure' }).expect('checks/update');
    const url = await forge.comment(9, 'why');
    expect(url).toMatch(/\/pull\/9#issuecomment-/);
    const annotations = Array.from({ length: 60 }, (_, i) => ({ path: `f${i}.txt`, startLine: i + 1, level: 'failure' as const, message: `m${i}` }));
    await forge.createCheckRun({ name: 'g7 evidence', headSha: 'a'.repeat(40), conclusion: 'failure', title: 'FAIL_STOP', summary: 'x', annotations });
    gh.verify();
    expect((gh.checkRuns[0]!.output as { annotations: { message: string }[] }).annotations.map((a) => a.message)).toEqual(annotations.map((a) => a.message));
  });

  it('turns a refusal into a ForgeError that names the request and says what to do', async () => {
    await gh.close();
    gh = await fakeGitHub({ repo: 'g7-factory/factory', token: TOKEN, permissions: { pull_requests: 'read', issues: 'read' } });
    forge = new OctokitForge({ repo: { owner: 'g7-factory', repo: 'factory' }, token: TOKEN, baseUrl: gh.url, patience: testPatience });
    gh.addPullRequest({ number: 3, title: 't', head: 'h', labels: ['auto-merge'] });
    gh.expect('issues/remove-label');
    const err = await forge.removeLabel(3, 'auto-merge').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForgeError);
    expect(err).toMatchObject({ status: 403, request: 'DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}' });
    expect((err as ForgeError).message).toMatch(/pull-requests: write/);
    const bad = new OctokitForge({ repo: { owner: 'g7-factory', repo: 'factory' }, token: 'wrong-token', baseUrl: gh.url, patience: testPatience });
    const unauth = await bad.getPullRequest(3).catch((e: unknown) => e);
    expect(unauth).toMatchObject({ status: 401, hint: expect.stringMatching(/^the token is missing, invalid or expired: an App installation token lives one hour/) });
  });
});

describe('retries and rate limits, through the plugins', () => {
  /** A virtual clock: waits are recorded and pass at once. */
  const clock = () => {
    const waits: number[] = [];
    return { waits, sleep: async (ms: number) => void waits.push(ms) };
  };
  const patient = (c: ReturnType<typeof clock>, extra: Record<string, unknown> = {}) =>
    new OctokitForge({ repo: { owner: 'g7-factory', repo: 'factory' }, token: TOKEN, baseUrl: gh.url, patience: { ...testPatience, sleep: c.sleep, ...extra } });

  it('retries a 502 once and passes', async () => {
    gh.addPullRequest({ number: 4, title: 't', head: 'h' });
    gh.expect('pulls/get', { pull_number: 4 }, githubReplies.serverError(502)).expect('pulls/get', { pull_number: 4 });
    expect((await forge.getPullRequest(4)).number).toBe(4);
    gh.verify();
    expect(gh.calls.map((c) => c.status)).toEqual([502, 200]);
  });

  it('gives up after the retries with a transient ForgeError', async () => {
    for (let i = 0; i < 4; i++) gh.expect('pulls/get', {}, githubReplies.serverError(503));
    const err = await forge.getPullRequest(4).catch((e: unknown) => e);
    gh.verify();
    expect(err).toBeInstanceOf(ForgeError);
    expect(err).toMatchObject({ status: 503, transient: true });
  });

  it('does not retry a refusal: a 422 is answered once and is not transient', async () => {
    gh.expect('pulls/create', {}, { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: 'x' }], documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request', status: '422' } });
    const err = await forge.openDraftPullRequest({ title: 't', head: 'h', base: 'main', body: '' }).catch((e: unknown) => e);
    gh.verify();
    expect(err).toMatchObject({ status: 422, transient: false });
  });

  it('waits out a secondary rate limit for as long as retry-after says, then passes', async () => {
    const c = clock();
    gh.addPullRequest({ number: 5, title: 't', head: 'h' });
    gh.expect('pulls/get', {}, githubReplies.secondaryRateLimit(42)).expect('pulls/get');
    expect((await patient(c).getPullRequest(5)).number).toBe(5);
    gh.verify();
    expect(c.waits).toEqual([42_000]);
  });

  it('waits for the primary limit to reset (x-ratelimit-remaining: 0), then passes', async () => {
    const c = clock();
    gh.addPullRequest({ number: 6, title: 't', head: 'h' });
    gh.expect('pulls/get', {}, githubReplies.primaryRateLimit(Math.floor(Date.now() / 1000) + 30)).expect('pulls/get');
    expect((await patient(c).getPullRequest(6)).number).toBe(6);
    gh.verify();
    expect(c.waits).toHaveLength(1);
    // The plugin waits until one second past the reset.
    expect(c.waits[0]).toBeGreaterThanOrEqual(30_000);
    expect(c.waits[0]).toBeLessThanOrEqual(32_000);
  });

  it('does not sleep past its bound: a wait beyond it fails at once as transient, naming the wait', async () => {
    const c = clock();
    gh.expect('pulls/get', {}, githubReplies.secondaryRateLimit(3600));
    const err = await patient(c, { maxWaitSeconds: 60 }).getPullRequest(5).catch((e: unknown) => e);
    gh.verify();
    expect(c.waits).toEqual([]);
    expect(err).toBeInstanceOf(ForgeError);
    expect(err).toMatchObject({ status: 403, transient: true, retryAfterSeconds: 3600 });
    expect((err as ForgeError).message).toMatch(/wait 3600 s, longer than the 60 s/);

    gh.expect('pulls/get', {}, githubReplies.primaryRateLimit(Math.floor(Date.now() / 1000) + 1800));
    const primary = await patient(c, { maxWaitSeconds: 60 }).getPullRequest(5).catch((e: unknown) => e);
    gh.verify();
    expect(primary).toMatchObject({ status: 403, transient: true });
    expect((primary as ForgeError).retryAfterSeconds).toBeGreaterThan(1700);
  });

  it('stops after the retries when the limit persists', async () => {
    const c = clock();
    for (let i = 0; i < 3; i++) gh.expect('pulls/get', {}, githubReplies.secondaryRateLimit(10));
    const err = await patient(c, { retries: 2 }).getPullRequest(5).catch((e: unknown) => e);
    gh.verify();
    expect(c.waits).toEqual([10_000, 10_000]);
    expect(err).toMatchObject({ status: 403, transient: true, retryAfterSeconds: 10 });
  });
});

describe('the fake GitHub fails closed', () => {
  const client = () => new Octokit({ auth: TOKEN, baseUrl: gh.url });

  it('fails on a call nobody expected', async () => {
    gh.addPullRequest({ number: 1, title: 't', head: 'h' });
    await client().request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { owner: 'g7-factory', repo: 'factory', pull_number: 1 }).catch(() => undefined);
    expect(() => gh.verify()).toThrow(/unexpected call: pulls\/get/);
  });

  it('fails on an expected call never made', () => {
    gh.expect('issues/remove-label');
    expect(() => gh.verify()).toThrow(/expected but never made: issues\/remove-label/);
  });

  it('refuses a body GitHub would refuse, and fields or query parameters GitHub would silently ignore', async () => {
    gh.expect('pulls/create').expect('pulls/list');
    const missingBase = await client().request('POST /repos/{owner}/{repo}/pulls', { owner: 'g7-factory', repo: 'factory', title: 't', head: 'h' } as never).catch((e: { status: number }) => e.status);
    expect(missingBase).toBe(422);
    const typo = await client().request('GET /repos/{owner}/{repo}/pulls', { owner: 'g7-factory', repo: 'factory', labels: 'coreloop' } as never).catch((e: { status: number }) => e.status);
    expect(typo).toBe(422);
    expect(gh.problems.join('\n')).toMatch(/must have required property 'base'/);
    expect(gh.problems.join('\n')).toMatch(/query parameter "labels" is not declared for pulls\/list/);
  });

  it('refuses a GraphQL document the schema does not allow, or variables of the wrong type', async () => {
    await client().graphql('mutation { disablePullRequestAutoMerge(input: { pullRequest: "x" }) { clientMutationId } }').catch(() => undefined);
    await client().graphql('mutation($id: ID!) { disablePullRequestAutoMerge(input: { pullRequestId: $id }) { clientMutationId } }', { id: { not: 'an id' } }).catch(() => undefined);
    expect(gh.problems[0]).toMatch(/field "pullRequest" is not defined by type "DisablePullRequestAutoMergeInput"|pullRequestId/);
    expect(gh.problems[1]).toMatch(/unexpected call|ID cannot represent/);
  });

  it('refuses a request without a user agent or with a wrong token', async () => {
    const res = await fetch(`${gh.url}/repos/g7-factory/factory`, { headers: { authorization: `token ${TOKEN}`, 'user-agent': '' } });
    expect(res.status).toBe(403);
    const res2 = await fetch(`${gh.url}/repos/g7-factory/factory`, { headers: { authorization: 'token nope', 'user-agent': 'x' } });
    expect(res2.status).toBe(401);
  });
});

describe('connecting a forge', () => {
  it('takes the repository from GITHUB_REPOSITORY or the origin remote, and the token from GITHUB_TOKEN or GH_TOKEN', () => {
    expect(forgeSettingsFromEnv({ GITHUB_TOKEN: 't1', GITHUB_REPOSITORY: 'a/b', GITHUB_API_URL: 'http://127.0.0.1:1' }, 'git@github.com:x/y.git')).toEqual({ repository: 'a/b', token: 't1', apiUrl: 'http://127.0.0.1:1' });
    expect(forgeSettingsFromEnv({ GH_TOKEN: 't2' }, 'git@github.com:acme/night-reports.git')).toEqual({ repository: 'acme/night-reports', token: 't2', apiUrl: undefined });
    expect(repositoryOfRemote('https://github.com/acme/g7.factory.git\n')).toBe('acme/g7.factory');
    expect(repositoryOfRemote('https://gitlab.com/acme/x.git')).toBeUndefined();
  });

  it('refuses to connect without a repository or a token, saying what to set', async () => {
    await expect(connectForge({ repository: undefined, token: 't' })).rejects.toThrow(/no repository/);
    await expect(connectForge({ repository: 'a/b', token: undefined })).rejects.toThrow(/set GITHUB_TOKEN/);
    gh.addPullRequest({ number: 2, title: 't', head: 'h' });
    gh.expect('pulls/get', { pull_number: 2 });
    const f = await connectForge({ repository: gh.fullName, token: TOKEN, apiUrl: gh.url });
    expect((await f.getPullRequest(2)).number).toBe(2);
    gh.verify();
  });
});

describe('workflow_dispatch through the forge, refused where GitHub refuses it', () => {
  /** A bare repository whose main has the shipped factory.yml, and the fake GitHub serving it. */
  async function withWorkflow(o: { permissions?: { actions: 'read' | 'write' } } = {}): Promise<{ gh: FakeGitHub; forge: OctokitForge }> {
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-dispatch-'));
    const work = path.join(dir, 'work');
    await mkdir(path.join(work, '.github/workflows'), { recursive: true });
    await writeFile(path.join(work, '.github/workflows/factory.yml'), factoryWorkflow({ local: true }));
    await writeFile(path.join(work, '.github/workflows/ci.yml'), 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: "true"\n');
    const sh = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env: childEnv(), stdio: 'ignore' });
    sh(work, 'init', '-q', '-b', 'main');
    sh(work, 'add', '-A');
    sh(work, '-c', 'user.email=t@example.invalid', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', 'commit', '-q', '-m', 'workflows');
    sh(dir, 'clone', '-q', '--bare', work, 'bare.git');
    const server = await fakeGitHub({ repo: 'g7-factory/factory', token: TOKEN, gitDir: path.join(dir, 'bare.git'), ...(o.permissions ? { permissions: o.permissions } : {}) });
    closers.push(() => server.close());
    return { gh: server, forge: new OctokitForge({ repo: { owner: 'g7-factory', repo: 'factory' }, token: TOKEN, baseUrl: server.url, patience: testPatience }) };
  }
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it('starts the run of a declared workflow on a branch, with declared inputs (the rest take their defaults), and says its URL', async () => {
    const { gh, forge } = await withWorkflow();
    gh.expect('actions/create-workflow-dispatch', { workflow_id: 'factory.yml', ref: 'main', inputs: { chain: '2' }, return_run_details: true });
    const url = await forge.dispatchWorkflow({ workflow: 'factory.yml', ref: 'main', inputs: { chain: '2' } });
    gh.verify();
    expect(url).toMatch(/^https:\/\/github\.com\/g7-factory\/factory\/actions\/runs\/\d+$/);
    // GitHub fills in the defaults of the inputs not given (an empty string default is no value).
    expect(gh.dispatches).toEqual([{ workflow: 'factory.yml', ref: 'main', inputs: { command: 'run', truck: 'next', resume: 'false', 'dry-run': 'false', chain: '2' } }]);
  });

  it.each([
    ['an unknown workflow file', { workflow: 'nightly.yml', ref: 'main', inputs: {} }, 404, /Not Found \(no such workflow file/],
    ['a ref GitHub does not have', { workflow: 'factory.yml', ref: 'nightly', inputs: {} }, 422, /No ref found for: nightly \(the branch or tag is not on GitHub\)/],
    ['an input the workflow does not declare', { workflow: 'factory.yml', ref: 'main', inputs: { chained_by: '4242' } }, 422, /Unexpected inputs provided: \["chained_by"\] \(the workflow file at that ref declares other/],
    ['a choice outside its options', { workflow: 'factory.yml', ref: 'main', inputs: { command: 'deploy' } }, 422, /Provided value 'deploy' for input 'command' not in the list of allowed values/],
    ['a workflow without the trigger', { workflow: 'ci.yml', ref: 'main', inputs: {} }, 422, /Workflow does not have 'workflow_dispatch' trigger/],
  ])('refuses %s', async (_what, d, status, message) => {
    const { gh, forge } = await withWorkflow();
    gh.expect('actions/create-workflow-dispatch');
    const err = await forge.dispatchWorkflow(d).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ForgeError);
    expect(err).toMatchObject({ status, transient: false });
    expect((err as ForgeError).message).toMatch(message);
    expect(gh.dispatches).toEqual([]);
  });

  it('refuses a token without actions: write, saying which permission to grant', async () => {
    const { gh, forge } = await withWorkflow({ permissions: { actions: 'read' } });
    gh.expect('actions/create-workflow-dispatch');
    const err = await forge.dispatchWorkflow({ workflow: 'factory.yml', ref: 'main', inputs: {} }).catch((e: unknown) => e);
    expect((err as ForgeError).message).toMatch(/403 Resource not accessible by integration \(the token may not start workflows: give the job `actions: write`/);
    expect(gh.dispatches).toEqual([]);
  });
});
