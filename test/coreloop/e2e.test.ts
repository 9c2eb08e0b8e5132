// The whole loop on the fakes, through the g7 binary as a person (or the coreloop workflow) runs it: a factory
// night against the fake Gemini writes audit records; pattern finds the real pattern and none of the planted
// near-misses; promote --confirm replays recorded cases (arm A from the cache, arm B through the fake Gemini,
// three times), commits [CORELOOP-R] on its skill/docstring-* branch, pushes it to a real git remote and opens
// a draft PR on the OpenAPI-validating fake GitHub; an auto-merge label on it is removed by the policy command
// and the check fails; a candidate whose arm B breaks the pinned set is refused with the table.
import { afterEach, describe, expect, it } from 'vitest';
import { appendFile, mkdir, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Octokit } from '@octokit/core';
import { factory, g7Process, geminiAt, gitAsync, type CardSpec } from '../factory/fixture.js';
import { fakeGemini, type FakeGemini } from '../fakes/gemini-server.js';
import { fakeGitHub, type FakeGitHub } from '../fakes/github-server.js';
import { webhookPayload } from '../fakes/github-webhooks.js';
import { httpRemote, type HttpRemote } from '../git/http-remote.js';
import { runBundle } from '../action/runner.js';
import { auditLine } from '../../src/coreloop/audit.js';
import { planted, hashed } from './mining.js';
import { pullMarker } from '../../src/coreloop/history.js';
import { REPO } from '../helpers.js';

const KEY = 'AIzaSyE2E-coreloop-key-0000000000001';
const TOKEN = 'ghs_coreloope2etoken00000000001';
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

// Two TAG lanes over the same library read the same skill: each is the other's pinned set.
const cards = (): CardSpec[] => [
  ...[1, 2, 3, 4].map((i) => ({ id: `L1_SCAN_00000${i}`, prio: 'A' as const, input: [`doc00${i}.md`], output: `ssot/library_index/scan/${i}.jsonl`, accept: `lines>=1:ssot/library_index/scan/${i}.jsonl` })),
  ...[1, 2].map((i) => ({ id: `L2_TAG_00000${i}`, prio: 'B' as const, input: `ssot/library_index/scan/${i}.jsonl`, output: `ssot/library_index/tags/${i}.jsonl`, accept: `json:ssot/library_index/tags/${i}.jsonl`, deps: [`L1_SCAN_00000${i}`] })),
  ...[3, 4].map((i) => ({ id: `L3_TAG_00000${i}`, prio: 'B' as const, input: `ssot/library_index/scan/${i}.jsonl`, output: `ssot/library_index/tags/${i}.jsonl`, accept: `json:ssot/library_index/tags/${i}.jsonl`, deps: [`L1_SCAN_00000${i}`] })),
];

async function night(gemini: FakeGemini, plan: CardSpec[] = cards(), code = 0, permissions: Parameters<typeof fakeGitHub>[0] = {}) {
  const skill = await readFile(path.join(REPO, 'ssot/skills/TAG.md'));
  const yaml = `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\nscan: { chunk_bytes: 1024 }\nskills: { TAG: ssot/skills/TAG.md }\n${geminiAt(gemini.url)}`;
  const f = await factory(plan, { files: { 'ssot/factory.yaml': yaml, 'ssot/skills/TAG.md': skill } });
  const run = await g7Process(f.root, ['run'], { GEMINI_API_KEY: KEY });
  expect(run.code, run.err).toBe(code);
  // The planted near-misses beside the real records: one failure, too few inputs, short chunks, errors.
  const day = new Date().toISOString().slice(0, 10);
  const recent = new Date(Date.now() - 3600e3).toISOString();
  // Planted in the old layout (a day file on main), which readers still read beside the store's shards.
  await mkdir(path.join(f.ssot, 'audit', 'ai-ask'), { recursive: true });
  await appendFile(path.join(f.ssot, 'audit', 'ai-ask', `${day}.jsonl`), planted().filter((r) => r.category_hash !== 'TAG:tag').map((r) => auditLine(hashed({ ...r, ts: recent })) + '\n').join(''));
  await f.git('add', '-A');
  await f.git('commit', '-q', '-m', 'a night of the factory, and some older records');
  const remote: HttpRemote = await httpRemote(f.root);
  open.push(remote);
  f.git('remote', 'add', 'origin', remote.url);
  const gh: FakeGitHub = await fakeGitHub({ repo: 'g7-factory/factory', token: TOKEN, gitDir: remote.bare, ...permissions });
  open.push(gh);
  const env = { GEMINI_API_KEY: KEY, GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: gh.fullName, GITHUB_API_URL: gh.url };
  return { f, remote, gh, env, day };
}

describe('coreloop end to end on the fakes', () => {
  it('audit → pattern → reproduction → draft PR; the policy blocks auto-merge; a regressing candidate is refused', { timeout: 120_000 }, async () => {
    const gemini = await fakeGemini({ keys: [KEY] });
    open.push(gemini);
    const { f, remote, gh, env, day } = await night(gemini);

    gh.expect('search/issues-and-pull-requests', { q: 'repo:g7-factory/factory is:pr head:skill/docstring-' }); // what was decided on GitHub already
    const p = await g7Process(f.root, ['--json', 'coreloop', 'pattern'], env);
    expect(p.code, p.err).toBe(0);
    const file = path.join(f.ssot, 'audit', 'candidates', `${day}-candidates.json`);
    const found = JSON.parse(await readFile(file, 'utf8'));
    // One candidate per TAG lane (the real records), none from the planted near-misses.
    expect(found.candidates.map((c: { category_hash: string }) => c.category_hash.replace(/#.*/, '')).sort()).toEqual(['TAG:lane2', 'TAG:lane3']);
    expect(found.candidates.every((c: { evidence: { steps: string[]; models: string[] } }) => c.evidence.steps.join(' ') === 'ask check apply accept:json' && c.evidence.models[0] === 'gemini-2.5-flash-lite')).toBe(true);
    expect(found.near_misses.map((m: { category_hash: string }) => m.category_hash).sort()).toEqual(['TAG:errs', 'TAG:fewq', 'TAG:onefail', 'TAG:short']);
    const [good, bad] = found.candidates;
    f.git('add', '-A');
    f.git('commit', '-q', '-m', 'candidates');
    await gitAsync(f.root, 'push', '-q', 'origin', 'main');

    // Promote: arm B asks the fake Gemini with the new bullet in the prompt, three times per case.
    const before = gemini.requests.length;
    const branch = `skill/docstring-tag-${good.axis}-${day.replace(/-/g, '')}`;
    gh.expect('pulls/create', { draft: true, head: branch, base: 'main' }).expect('issues/add-labels', { issue_number: 1, labels: ['coreloop'] });
    const promoted = await g7Process(f.root, ['coreloop', 'promote', '--candidate', file, '--id', good.id, '--confirm'], env);
    expect(promoted.code, promoted.err).toBe(0);
    gh.verify(); // exactly these calls: nothing asked for auto-merge
    const armB = gemini.requests.slice(before).filter((r) => r.verb === 'generateContent');
    // Both arms live, three times per case each: half the requests carry the bullet (arm B), half do not (arm A).
    expect(armB.length % 6).toBe(0);
    expect(armB.length).toBeGreaterThanOrEqual(6 * 3);
    expect(armB.filter((r) => JSON.stringify(r.body).includes(good.bullet.id))).toHaveLength(armB.length / 2);
    expect(promoted.out).toMatch(/^\| own \| `[0-9a-f]{16}` \| `TAG:lane\d#[0-9a-f]{8}` \| .* \| pass \| 3\/3 \| 3\/3 \|/m);
    expect(promoted.out).toMatch(/^\| held-out \| /m);
    expect(promoted.out).toMatch(/^\| pinned \| /m);
    expect(promoted.out).toMatch(/reproduction check: passed \(passed on \d+ case\(s\)\)/);
    const pr = gh.pull(1)!;
    expect(pr).toMatchObject({ draft: true, title: expect.stringMatching(/^\[CORELOOP-R\] TAG\.md Guide: /), auto_merge: null });
    expect((pr.labels as { name: string }[]).map((l) => l.name)).toEqual(['coreloop']);
    expect(String(pr.body)).toContain('| set | case | kind of work | input | recorded accept | A passes | B passes | A answer | B answer | note |');
    expect(String(pr.body)).toMatch(/Arm A \(the current docstring\): gemini\/gemini-2\.5-flash-lite; arm B \(with the change\): gemini\/gemini-2\.5-flash-lite/);
    expect(promoted.out).toContain(`draft PR: ${pr.html_url}`);
    expect((await gitAsync(remote.bare, 'rev-parse', `refs/heads/${branch}`)).trim()).toBe(f.git('rev-parse', branch).trim());

    // Someone labels it for auto-merge; the policy check (the action's policy command) removes the label and fails.
    const someone = new Octokit({ auth: TOKEN, baseUrl: gh.url });
    gh.expect('issues/add-labels', { issue_number: 1, labels: ['auto-merge'] });
    await someone.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', { owner: gh.owner, repo: gh.name, issue_number: 1, labels: ['auto-merge'] });
    gh.expect('pulls/get', { pull_number: 1 }).expect('issues/remove-label', { issue_number: 1, name: 'auto-merge' }).expect('issues/list-comments', { issue_number: 1 }).expect('issues/create-comment', { issue_number: 1 });
    const payload = webhookPayload('labeled', { number: 1, nodeId: String(pr.node_id), title: String(pr.title), head: branch, labels: ['coreloop', 'auto-merge'], autoMerge: false });
    const policy = await runBundle({ workspace: await mkdtemp(path.join(tmpdir(), 'g7-policy-')), apiUrl: gh.url, repository: gh.fullName, event: { name: 'pull_request_target', payload }, inputs: { command: 'policy', 'github-token': TOKEN } });
    gh.verify();
    expect(policy.outputs.policy).toBe('fail');
    expect(policy.code).toBe(1);
    expect((gh.pull(1)!.labels as { name: string }[]).map((l) => l.name)).toEqual(['coreloop']);

    // The other candidate: the model answers badly whenever its bullet is in the prompt. Refused with the table.
    const answer = gemini.answer;
    gemini.answer = (body) => (JSON.stringify(body).includes(bad.bullet.id) ? { tags: 'not a list', strike: 'maybe' } : answer(body));
    const refused = await g7Process(f.root, ['coreloop', 'promote', '--candidate', file, '--id', bad.id, '--confirm'], env);
    expect(refused.code, refused.out + refused.err).toBe(6);
    expect(refused.err).toMatch(/was refused by the reproduction check; nothing was committed/);
    expect(refused.err).toMatch(/arm B breaks \d+ pinned case\(s\) that arm A passed/);
    expect(refused.err).toMatch(/^\| pinned \| `[0-9a-f]{16}` \| `TAG:lane\d#[0-9a-f]{8}` \| .* \| pass \| 3\/3 \| 0\/3 \|/m);
    expect(f.git('branch', '--list', 'skill/*').trim().split('\n')).toHaveLength(1);
    gh.verify(); // no second pull request
    expect((await g7Process(f.root, ['coreloop', 'verify', '--candidate', file, '--id', bad.id], env)).code).toBe(6);

    // GitHub's side in status; a pull request closed without merging is a person's no: not proposed again.
    gh.expect('search/issues-and-pull-requests', { q: 'repo:g7-factory/factory is:pr head:skill/docstring-' });
    const status = await g7Process(f.root, ['coreloop', 'status'], env);
    expect(status.out).toContain('R promote   0 merged, 1 open (skill/docstring-* branches and draft PRs), 0 candidate(s) rejected, 0 PR(s) closed without merging');
    expect(status.out).toContain('forge       GitHub consulted: 1 open and 0 closed coreloop PR(s) seen');
    Object.assign(gh.pull(1)!, { state: 'closed', closed_at: new Date().toISOString() });
    gh.expect('search/issues-and-pull-requests', { q: 'repo:g7-factory/factory is:pr head:skill/docstring-' });
    const again = await g7Process(f.root, ['--json', 'coreloop', 'pattern'], env);
    gh.verify();
    const after = JSON.parse(await readFile(file, 'utf8'));
    expect(JSON.parse(again.out)).toMatchObject({ found: 1 });
    expect(after.skipped).toEqual([{ key: good.key, reason: 'rejected' }]);

    // The merged change is one commit: reverting it restores the skill byte for byte.
    const original = await readFile(path.join(f.root, 'ssot/skills/TAG.md'));
    f.git('checkout', '-q', branch);
    expect((await readFile(path.join(f.root, 'ssot/skills/TAG.md'))).equals(original)).toBe(false);
    f.git('revert', '--no-edit', 'HEAD');
    expect((await readFile(path.join(f.root, 'ssot/skills/TAG.md'))).equals(original)).toBe(true);
    expect(await readdir(path.join(f.ssot, 'audit', 'candidates'))).toContain(`${day}-draft.md`);
  });

  it('refine: a recurring failure becomes a Caveat, checked on recorded cases and opened as a [CORELOOP-F] draft PR', { timeout: 120_000 }, async () => {
    const gemini = await fakeGemini({ keys: [KEY] });
    open.push(gemini);
    // Lane 3's accept rule cannot hold: its first card fails, is reworked, fails again (FAIL_STOP).
    const plan = cards().map((c) => (c.id.startsWith('L3_') ? { ...c, accept: `lines>=999:${c.output}` } : c));
    const { f, gh, env, day } = await night(gemini, plan, 4);
    gh.expect('search/issues-and-pull-requests', { q: 'repo:g7-factory/factory is:pr head:skill/docstring-' });
    const r = await g7Process(f.root, ['coreloop', 'refine'], env);
    expect(r.code, r.err).toBe(0);
    const file = path.join(f.ssot, 'audit', 'counterexamples', `${day}-counterexamples.json`);
    const cx = JSON.parse(await readFile(file, 'utf8')).candidates.find((c: { category_hash: string }) => c.category_hash.startsWith('TAG:lane3#'));
    expect(cx).toMatchObject({ section: 'Caveats', action: 'append', target: 'ssot/skills/TAG.md', evidence: { records: 4, signal: { type: 'tool_failed' } } });
    expect(cx.bullet.text).toMatch(/^TAG work on lane3 failed with tool failed \(accept: accept:lines>=N: .*\): the answers had the right shape but the accept rule did not hold/);
    f.git('add', '-A');
    f.git('commit', '-q', '-m', 'counterexamples');
    await gitAsync(f.root, 'push', '-q', 'origin', 'main');
    // Its accept rule cannot hold, so no docstring fixes it: asked live, both arms' answers pass the answer
    // check but the card's own accept rule, run on a scratch copy of its output, fails in both arms; nothing
    // flips and the Caveat is refused (nothing committed). The working tree's output is left as it was.
    const output = path.join(f.root, 'ssot/library_index/tags/3.jsonl');
    const outputBefore = await readFile(output);
    const applied = await g7Process(f.root, ['coreloop', 'refine', '--candidate', file, '--id', cx.id, '--confirm'], env);
    expect(applied.code, applied.out + applied.err).toBe(6);
    gh.verify();
    expect(applied.err).toMatch(/only 0 of \d+ failing case\(s\) flip with the Caveat/);
    expect(applied.err).toMatch(/^\| own \| `[0-9a-f]{16}` \| `TAG:lane3#[0-9a-f]{8}` \| .* \| fail \| 0\/3 \| 0\/3 \| .* \| A: lines>=999:ssot\/library_index\/tags\/3\.jsonl: \d+ lines; B: lines>=999/m);
    expect((await readFile(output)).equals(outputBefore)).toBe(true);
    expect(f.git('branch', '--list', 'skill/*').trim()).toBe('');
  });

  it('a pull request GitHub refuses fails the promote (exit 8): the branch is pushed, and g7 says what did not go through', { timeout: 120_000 }, async () => {
    const gemini = await fakeGemini({ keys: [KEY] });
    open.push(gemini);
    const { f, remote, gh, env, day } = await night(gemini, cards(), 0, { permissions: { pull_requests: 'read', issues: 'read' } });
    gh.expect('search/issues-and-pull-requests', { q: 'repo:g7-factory/factory is:pr head:skill/docstring-' });
    await g7Process(f.root, ['coreloop', 'pattern'], env);
    const file = path.join(f.ssot, 'audit', 'candidates', `${day}-candidates.json`);
    const cand = JSON.parse(await readFile(file, 'utf8')).candidates[0];
    f.git('add', '-A');
    f.git('commit', '-q', '-m', 'candidates');
    await gitAsync(f.root, 'push', '-q', 'origin', 'main');
    gh.expect('pulls/create');
    const r = await g7Process(f.root, ['coreloop', 'promote', '--candidate', file, '--id', cand.id, '--confirm'], env);
    gh.verify();
    expect(r.code).toBe(8);
    expect(r.out).toMatch(/draft PR not opened: the branch skill\/docstring-\S+ is on origin and kept, but GitHub did not open the pull request: POST \/repos\/\{owner\}\/\{repo\}\/pulls: 403 Resource not accessible by integration/);
    const branch = /on branch (\S+):/.exec(r.out)![1]!;
    expect((await gitAsync(remote.bare, 'rev-parse', `refs/heads/${branch}`)).trim()).toBe(f.git('rev-parse', branch).trim());
    // Dispatched again from a fresh clone (only origin's branches): already there, nothing new is pushed.
    const clone = path.join(await mkdtemp(path.join(tmpdir(), 'g7-clone-')), 'work');
    await gitAsync(tmpdir(), 'clone', '-q', remote.url, clone);
    const again = await g7Process(clone, ['coreloop', 'promote', '--candidate', path.join(clone, path.relative(f.root, file)), '--id', cand.id, '--confirm'], env);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain(`already committed on branch ${branch}; nothing was changed`);
  });

  it('the nightly pattern --open-prs opens nothing below tier 2, and at tier 2 promotes each Guide candidate to a draft PR', { timeout: 120_000 }, async () => {
    const gemini = await fakeGemini({ keys: [KEY] });
    open.push(gemini);
    const { f, gh, env } = await night(gemini);
    await gitAsync(f.root, 'push', '-q', 'origin', 'main');
    gh.expect('search/issues-and-pull-requests', { q: 'repo:g7-factory/factory is:pr head:skill/docstring-' });
    const below = await g7Process(f.root, ['coreloop', 'pattern', '--open-prs'], env);
    gh.verify();
    expect(below.code, below.err).toBe(0);
    expect(below.err).toMatch(/^tier 0: no pull request is opened by the nightly job \(everything by hand until the first R merge has aged 30 days\)$/m);
    // Thirty clean Guide merges on GitHub, the first 60 days ago, no revert, no shape regression: tier 2.
    for (let n = 1; n <= 30; n++)
      gh.addPullRequest({ number: n, title: `[CORELOOP-R] TAG.md Guide ${n}`, head: `skill/docstring-tag-old-${n}`, state: 'closed', merged_at: new Date(Date.now() - (61 - n) * 86400e3).toISOString(), body: pullMarker({ phase: 'R', key: `old${String(n).padStart(13, '0')}`, bullet: `G-${String(n).padStart(8, '0')}`, engine: 'tag', axis: 'old', action: 'append', target: 'ssot/skills/TAG.md' }) });
    gh.expect('search/issues-and-pull-requests', { q: 'repo:g7-factory/factory is:pr head:skill/docstring-' }).expect('pulls/create', { draft: true }).expect('issues/add-labels', { labels: ['coreloop'] }).expect('pulls/create', { draft: true }).expect('issues/add-labels', { labels: ['coreloop'] });
    const at2 = await g7Process(f.root, ['coreloop', 'pattern', '--open-prs'], env);
    expect(at2.code, at2.err).toBe(0);
    gh.verify();
    expect([31, 32].map((n) => gh.pull(n)!.title)).toEqual([expect.stringMatching(/^\[CORELOOP-R\] TAG\.md Guide: TAG work on lane[23]/), expect.stringMatching(/^\[CORELOOP-R\] TAG\.md Guide: TAG work on lane[23]/)]);
    expect([31, 32].every((n) => gh.pull(n)!.draft === true)).toBe(true);
  });
});
