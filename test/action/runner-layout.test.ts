// The action as a runner really lays it out: `uses: OWNER/REPO/action@REF` is downloaded to
// `_work/_actions/OWNER/REPO/REF/action`, with no node_modules anywhere above it. Every command the action
// has, and a skill of each kind (Markdown, a Python function's docstring, a TS export's JSDoc), runs from that
// copy on Node 24 under the runner's variables. Inside this repository the bundle would find the repository's
// node_modules above action/dist and hide a package it does not carry.
import { describe, expect, it } from 'vitest';
import { access, cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO, tempRepo } from '../helpers.js';
import { gitAsync, initGit, git } from '../factory/fixture.js';
import { webhookPayload } from '../fakes/github-webhooks.js';
import { checkout, loopback, runBundle, TOKEN, type ActionRun, type RunnerOptions } from './runner.js';

const net = loopback();

const PY = `"""Checks the factory's own outputs."""


def check(index_dir):
    """Check every chunk of the scan index against the library file it names.

    When:
        A TEST card over the scan index.
    How:
        Read each line; compare the chunk with the library file.
    Args:
        index_dir: the scan index folder.
    Returns:
        0 when every chunk matches.
    Guide:
        - Name the first chunk that does not match.
    Caveats:
    Verified:
    Examples:
        >>> check("ssot/library_index/scan")
    """
    return 0
`;

const TS = `import { words } from './words';

/**
 * Tag one chunk against the taxonomy.
 *
 * @when A TAG card.
 * @how Compare the chunk's words with each tag's keywords.
 * @param chunk - the chunk.
 * @returns the tags.
 * @guide
 * - Keep tags to the taxonomy's names.
 * @caveats
 * @verified
 * @example
 * tag(chunk)
 */
export function tag(chunk: string): string[] {
  return words(chunk);
}
`;

/** A runner's download of the action: the action folder alone, at the path the runner gives it. */
async function actionOnRunner(): Promise<string> {
  const work = path.join(await mkdtemp(path.join(tmpdir(), 'g7-runner-layout-')), '_work');
  const dir = path.join(work, '_actions', 'g7-factory', 'g7-factory', 'v1', 'action');
  await cp(path.join(REPO, 'action'), dir, { recursive: true });
  // Nothing above the copy resolves a package: the bundle carries all it loads.
  for (let d = dir; d !== path.dirname(d); d = path.dirname(d)) await expect(access(path.join(d, 'node_modules'))).rejects.toThrow();
  return dir;
}

function clean(r: ActionRun, what: string): void {
  expect(r.code, `${what}\n${r.stdout}\n${r.stderr}`).toBe(0);
  expect(r.stdout, what).not.toMatch(/::error|Cannot find (package|module)|internal error/);
  // A skill that could not be located falls back to the whole file with a warning: none may.
  expect(r.stdout, what).not.toMatch(/::warning::skill /);
}

describe('the action from a runner\'s layout (_actions/OWNER/REPO/REF/action, no node_modules above it)', () => {
  it('runs every command, with a Markdown, a Python and a TS skill', async () => {
    const actionDir = await actionOnRunner();
    const repo = await tempRepo({ example: true });
    const config = (await readFile(path.join(repo.ssot, 'factory.yaml'), 'utf8')).replace(/^skills: .*$/m, 'skills: { SCAN: ssot/skills/SCAN.md, TAG: "tools/tag.ts::tag", TEST: "tools/check.py::check" }');
    expect(config).toContain('tools/check.py::check');
    await writeFile(path.join(repo.ssot, 'factory.yaml'), config);
    await repo.write('ssot/skills/SCAN.md', await readFile(path.join(repo.ssot, 'skills/STRIKE.md'), 'utf8'));
    await repo.write('tools/check.py', PY);
    await repo.write('tools/tag.ts', TS);
    initGit(repo.root);
    git(repo.root, 'add', '-A');
    git(repo.root, 'commit', '-q', '-m', 'example factory with a skill of each kind');
    const remote = await net.remote(repo.root);
    const dispatch = (command: string) => ({ name: 'workflow_dispatch', payload: { inputs: { command } } });
    // Each step is a job on a fresh runner: a new checkout of the branch as the last step left it.
    const step = async (command: string, extra: Partial<RunnerOptions> = {}): Promise<ActionRun> => {
      const co = await checkout(remote.url);
      const r = await runBundle({ actionDir, workspace: co.dir, sha: co.sha, event: dispatch(command), ...extra, inputs: { command, ...extra.inputs } });
      clean(r, command);
      return r;
    };

    expect((await step('plan-compile')).stdout).toMatch(/compiled ssot\/plans\/dayplan_20261121\.yaml/);
    await step('pack');
    expect((await step('status')).stdout).toMatch(/READY/);

    // Truck A through the lane matrix: every lane's cards, so every skill kind is read for its prompt.
    const prepared = await step('prepare-lanes');
    const lanes = JSON.parse(prepared.outputs.lanes!) as number[];
    expect(lanes.length).toBeGreaterThan(1);
    for (const lane of lanes) await step('lane', { inputs: { command: 'lane', 'run-id': prepared.outputs['run-id']!, lanes: String(lane) } });
    const merged = await step('merge-lanes', { inputs: { command: 'merge-lanes', 'run-id': prepared.outputs['run-id']! } });
    expect(merged.outputs).toMatchObject({ state: 'READY', failed: '0' });

    // Truck B as a scheduled run, then verify and a resume with nothing to resume.
    const ran = await step('run', { event: { name: 'schedule', payload: {} } });
    expect(ran.outputs).toMatchObject({ 'run-id': 'run_0002', state: 'READY', failed: '0' });
    expect((await step('verify')).stdout).toMatch(/ok +run_0002: verifies/);
    expect((await step('resume')).stdout).toMatch(/nothing to resume/);

    // Each skill kind was located and went into a prompt or was read for a card: the evidence names them.
    const done = await checkout(remote.url);
    const types = new Set<string>();
    for (const run of ['run_0001', 'run_0002']) {
      const report = JSON.parse(await readFile(path.join(done.dir, 'ssot/runs', run, 'verify_report.json'), 'utf8')) as { cards: { id: string }[] };
      for (const c of report.cards) types.add(c.id.split('_')[1]!);
    }
    expect([...types].sort()).toEqual(expect.arrayContaining(['SCAN', 'TAG', 'TEST']));

    // The policy check on a pull request event.
    const gh = await net.github();
    const raw = gh.addPullRequest({ number: 7, title: 'Fix the taxonomy', head: 'fix/taxonomy', labels: [], autoMerge: false });
    gh.expect('pulls/get', { pull_number: 7 });
    const payload = webhookPayload('labeled', { number: 7, nodeId: String(raw.node_id), title: 'Fix the taxonomy', head: 'fix/taxonomy', labels: [], autoMerge: false });
    const policy = await runBundle({ actionDir, workspace: done.dir, apiUrl: gh.url, repository: gh.fullName, event: { name: 'pull_request', payload }, inputs: { command: 'policy', 'github-token': TOKEN } });
    gh.verify();
    clean(policy, 'policy');
    expect(policy.outputs.policy).toBe('pass');
    expect((await gitAsync(remote.bare, 'log', '--format=%s')).split('\n').filter(Boolean).length).toBeGreaterThan(5);
  }, 300_000);
});
