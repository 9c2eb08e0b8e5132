// The protection kept as files is what GitHub's API takes: applied through Octokit to the fake, which
// validates each body against the published OpenAPI description and refuses fields GitHub would ignore.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Octokit } from '@octokit/core';
import { REPO } from '../helpers.js';
import { fakeGitHub, type FakeGitHub } from '../fakes/github-server.js';

const TOKEN = 'ghp_adminpersonaltoken000001';
let gh: FakeGitHub;
beforeEach(async () => {
  gh = await fakeGitHub({ token: TOKEN });
});
afterEach(async () => {
  await gh.close();
});

const json = async (rel: string) => JSON.parse(await readFile(path.join(REPO, rel), 'utf8'));

describe('branch protection as files', () => {
  it('the ruleset: one approving review, code owners, the required checks, and the factory App as its one bypass actor', async () => {
    const ruleset = await json('.github/rulesets/main.json');
    const pr = ruleset.rules.find((r: { type: string }) => r.type === 'pull_request').parameters;
    expect(pr).toMatchObject({ required_approving_review_count: 1, require_code_owner_review: true });
    const checks = ruleset.rules.find((r: { type: string }) => r.type === 'required_status_checks').parameters.required_status_checks.map((c: { context: string }) => c.context);
    expect(checks).toEqual(['test', 'block-coreloop-auto-merge']);
    expect(ruleset.bypass_actors).toEqual([{ actor_id: 0, actor_type: 'Integration', bypass_mode: 'always' }]);
    // As the README applies it: the App's id in place of 0.
    ruleset.bypass_actors[0].actor_id = 123456;
    gh.expect('repos/create-repo-ruleset', { name: ruleset.name });
    await new Octokit({ auth: TOKEN, baseUrl: gh.url }).request('POST /repos/{owner}/{repo}/rulesets', { owner: gh.owner, repo: gh.name, ...ruleset });
    gh.verify();
  });

  it('the classic protection file is a valid body for PUT …/branches/main/protection', async () => {
    const protection = await json('.github/branch-protection.json');
    expect(protection.required_pull_request_reviews).toMatchObject({ required_approving_review_count: 1, require_code_owner_reviews: true });
    gh.expect('repos/update-branch-protection', { branch: 'main' });
    await new Octokit({ auth: TOKEN, baseUrl: gh.url }).request('PUT /repos/{owner}/{repo}/branches/{branch}/protection', { owner: gh.owner, repo: gh.name, branch: 'main', ...protection });
    gh.verify();
  });
});
