// The action as GitHub runs it: the committed bundle on Node 24 with the runner's environment, a checkout whose
// remote is a real git HTTP server on loopback, and GitHub's API played by the OpenAPI-validating fake.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { actionBuildOptions } from '../../scripts/build.mjs';
import { REPO, tempRepo } from '../helpers.js';
import { factory, gitAsync, initGit, git, DAY } from '../factory/fixture.js';
import { httpRemote, type HttpRemote } from '../git/http-remote.js';
import { fakeGitHub, type FakeGitHub } from '../fakes/github-server.js';
import { runBundle, runLocalAction, type ActionRun, type RunnerOptions } from './runner.js';

const runners: [string, (o: RunnerOptions) => Promise<ActionRun>][] = [
  ['the bundle on Node 24 with the runner environment', runBundle],
  ['@github/local-action on the source', runLocalAction],
];

const KEY = 'AIzaSyTESTKEY-never-in-a-child-0001';
const TOKEN = 'ghs_actiontoken000000000001';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function serve(seedFrom: string): Promise<HttpRemote> {
  const remote = await httpRemote(seedFrom);
  closers.push(() => remote.close());
  return remote;
}

async function github(gitDir?: string): Promise<FakeGitHub> {
  const gh = await fakeGitHub({ token: TOKEN, ...(gitDir ? { gitDir } : {}) });
  closers.push(() => gh.close());
  return gh;
}

/** A runner's checkout: a fresh clone of the remote, with the identity the workflow configures. */
async function checkout(url: string): Promise<{ dir: string; sha: string }> {
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'g7-checkout-')), 'work');
  await gitAsync(tmpdir(), 'clone', '-q', url, dir);
  initGit(dir);
  return { dir, sha: (await gitAsync(dir, 'rev-parse', 'HEAD')).trim() };
}

async function filesOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

describe('the action bundle', () => {
  it('is a node24 JavaScript action whose committed files are exactly what the current source builds', async () => {
    const meta = parse(await readFile(path.join(REPO, 'action/action.yml'), 'utf8'));
    expect(meta.runs).toEqual({ using: 'node24', main: 'dist/index.mjs' });
    const fresh = await build({ ...actionBuildOptions, write: false });
    const dist = path.join(REPO, 'action/dist');
    const built = new Map(fresh.outputFiles.map((f) => [path.relative(dist, f.path), f.text]));
    const committed = (await filesOf(dist)).map((f) => path.relative(dist, f));
    expect(committed.sort(), 'action/dist is stale: run `npm run build` and commit action/dist').toEqual([...built.keys()].sort());
    for (const rel of committed) expect((await readFile(path.join(dist, rel), 'utf8')) === built.get(rel), `action/dist/${rel} is stale: run \`npm run build\``).toBe(true);
  });

  it('starts on @actions/core alone: the factory, the forge and the Gemini SDK load only for the command that needs them', async () => {
    const r = await build({ ...actionBuildOptions, write: false, metafile: true });
    const outputs = r.metafile!.outputs;
    const key = Object.keys(outputs).find((k) => k.endsWith('action/dist/index.mjs'))!;
    const seen = new Set<string>();
    const walk = (out: string) => {
      if (seen.has(out)) return;
      seen.add(out);
      for (const i of outputs[out]!.imports) if (i.kind === 'import-statement' && outputs[i.path]) walk(i.path);
    };
    walk(key);
    const packages = new Set([...seen].flatMap((o) => Object.keys(outputs[o]!.inputs)).map((i) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(i)?.[1] ?? 'src'));
    expect([...packages].sort()).toEqual(['@actions/core', '@actions/exec', '@actions/io', 'src']);
    const total = Object.values(outputs).reduce((a, o) => a + o.bytes, 0);
    expect(total).toBeLessThan(2_000_000);
  });
});

describe.each(runners)('the action, run by %s', (_, runAction) => {
  const bundle = runAction === runBundle;

  it('a scheduled truck: evidence pushed, outputs, a Mermaid summary, annotations on files that exist, a check run on the evidence commit, and the key in no child process', async () => {
    const f = await factory([
      { id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'out/1.txt', accept: 'exit==0' },
      // The environment exactly as the card's process received it (a shell would drop names like INPUT_A-B).
      { id: 'L1_TEST_000002', prio: 'A', input: "tr '\\0' '\\n' < /proc/$$/environ; test -f fixed.txt", output: 'out/2.txt', accept: 'exit==0' },
    ]);
    const remote = await serve(f.root);
    const gh = await github(remote.bare);
    const co = await checkout(remote.url);
    gh.expect('checks/create', { name: 'g7 run_0001', conclusion: 'failure' });

    const r = await runAction({ workspace: co.dir, sha: co.sha, apiUrl: gh.url, repository: gh.fullName, inputs: { command: 'run', 'gemini-api-key': KEY, 'github-token': TOKEN } });
    gh.verify();
    // FAIL_STOP fails the step (local-action reports it with an error line and exits 0).
    if (bundle) expect(r.code).toBe(1);
    // The runner takes `::add-mask::` lines out of the log; the first line a person sees says what runs.
    const log = r.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::'));
    if (bundle) expect(r.stdout).toContain(`::add-mask::${KEY}`);
    expect(log[0]).toBe('g7 run on ssot');
    expect(r.outputs).toMatchObject({ 'run-id': 'run_0001', state: 'FAIL_STOP', passed: '1', failed: '1', evidence: 'ssot/runs/run_0001' });
    expect(r.stdout).toMatch(/::error::FAIL_STOP: L1_TEST_000002 failed twice/);

    // The workflow-command annotation names the card's backlog line, a file of the commit the run checked out.
    const annotation = /::error title=G7 run_0001 L1_TEST_000002,file=([^,]+),line=(\d+)(?:,endLine=\d+)?::/.exec(r.stdout);
    expect(annotation, r.stdout).not.toBeNull();
    expect(annotation![1]).toBe(`ssot/backlog/backlog_${DAY}.jsonl`);
    const atCheckout = git(co.dir, 'show', `${co.sha}:${annotation![1]}`).split('\n');
    expect(atCheckout[Number(annotation![2]) - 1]).toContain('"id":"L1_TEST_000002"');

    // The evidence commit is on the remote, and the check run on it annotates evidence files in it (the fake
    // refuses annotation paths that are not in that commit of the remote).
    const pushed = r.outputs.commit!;
    expect((await gitAsync(remote.bare, 'rev-parse', 'refs/heads/main')).trim()).toBe(pushed);
    expect(gh.checkRuns[0]).toMatchObject({ head_sha: pushed, output: { annotations: [expect.objectContaining({ path: 'ssot/runs/run_0001/cards/002_L1_TEST_000002/summary.json', annotation_level: 'failure' })] } });

    expect(r.summary).toMatch(/^## G7 run_0001: truck A of 20261121 — FAIL_STOP/m);
    expect(r.summary).toContain('```mermaid\npie showData title run_0001: 2 cards of truck A\n    "PASS" : 1\n    "FAIL TEST" : 1\n```');
    expect(r.summary).toContain(`Evidence: [run_0001](https://github.com/${gh.fullName}/tree/${pushed}/ssot/runs/run_0001)`);

    // The key reached neither the card's process nor anything written or pushed.
    const fresh = await checkout(remote.url);
    const cardOut = await readFile(path.join(fresh.dir, 'out/2.txt'), 'utf8').catch(() => readFile(path.join(co.dir, 'out/2.txt'), 'utf8'));
    expect(cardOut).toMatch(/^PATH=/m); // the card did print its environment
    expect(cardOut).not.toMatch(/GEMINI_API_KEY|INPUT_GEMINI|INPUT_GITHUB-TOKEN/);
    expect(cardOut).not.toContain(KEY);
    for (const file of await filesOf(fresh.dir)) if (!file.includes(`${path.sep}.git${path.sep}`)) expect(await readFile(file, 'utf8'), file).not.toContain(KEY);
    for (const text of [log.join('\n'), r.stderr, r.summary, JSON.stringify(r.outputs)]) expect(text).not.toContain(KEY);
  });

  it('a dispatched plan-compile, then run: each commits and pushes what it changed', async () => {
    const repo = await tempRepo({ example: true });
    initGit(repo.root);
    git(repo.root, 'add', '-A');
    git(repo.root, 'commit', '-q', '-m', 'example factory');
    const remote = await serve(repo.root);

    const first = await checkout(remote.url);
    const compiled = await runAction({ workspace: first.dir, sha: first.sha, event: { name: 'workflow_dispatch', payload: { inputs: { command: 'plan-compile' } } }, inputs: { command: 'plan-compile' } });
    expect(compiled.code, compiled.stdout + compiled.stderr).toBe(0);
    expect(compiled.stdout).not.toMatch(/::error/);
    expect(compiled.stdout).toMatch(/compiled ssot\/plans\/dayplan_20261121\.yaml → ssot\/backlog\/backlog_20261121\.jsonl \(new\)/);
    expect(compiled.outputs).toMatchObject({ state: 'READY', 'run-id': '' });
    expect((await gitAsync(remote.bare, 'rev-parse', 'refs/heads/main')).trim()).toBe(compiled.outputs.commit);
    expect(await gitAsync(remote.bare, 'log', '-1', '--format=%s%n%(trailers:only)')).toMatch(/^g7: plan compile ssot\/plans\/dayplan_20261121\.yaml\n+G7-Command: plan-compile/);

    const second = await checkout(remote.url);
    const ran = await runAction({ workspace: second.dir, sha: second.sha, event: { name: 'workflow_dispatch', payload: { inputs: { command: 'run' } } }, inputs: { command: 'run' } });
    expect(ran.code, ran.stdout + ran.stderr).toBe(0);
    expect(ran.stdout).not.toMatch(/::error/);
    expect(ran.outputs).toMatchObject({ 'run-id': 'run_0001', state: 'READY', passed: '24', failed: '0', evidence: 'ssot/runs/run_0001' });
    const verify = await checkout(remote.url);
    const v = await runAction({ workspace: verify.dir, inputs: { command: 'verify' } });
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).not.toMatch(/::error/);
    expect(v.stdout).toMatch(/ok +run_0001: verifies/);
  });

  it('resume after FAIL_STOP: a person fixes the cause, a dispatched resume pushes READY, the next run finishes the truck', async () => {
    const f = await factory([{ id: 'L1_TEST_000001', prio: 'A', input: 'test -f fixed.txt', output: 'out/1.txt', accept: 'exit==0' }]);
    const remote = await serve(f.root);
    const night = await checkout(remote.url);
    const stopped = await runAction({ workspace: night.dir, sha: night.sha, inputs: { command: 'run' } });
    expect(stopped.outputs.state).toBe('FAIL_STOP');
    const refused = await runAction({ workspace: night.dir, inputs: { command: 'run' } });
    if (bundle) expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/::error::REFUSED: FAIL_STOP since/);

    const person = await checkout(remote.url);
    await gitAsync(person.dir, 'commit', '-q', '--allow-empty', '-m', 'fix');
    await writeFile(path.join(person.dir, 'fixed.txt'), 'fixed\n');
    await gitAsync(person.dir, 'add', 'fixed.txt');
    await gitAsync(person.dir, 'commit', '-q', '-m', 'create the file the test card needs');
    await gitAsync(person.dir, 'push', '-q', 'origin', 'HEAD:main');

    const morning = await checkout(remote.url);
    const resumed = await runAction({ workspace: morning.dir, sha: morning.sha, event: { name: 'workflow_dispatch', payload: {} }, inputs: { command: 'resume' } });
    expect(resumed.code, resumed.stdout).toBe(0);
    expect(resumed.stdout).not.toMatch(/::error/);
    expect(resumed.outputs.state).toBe('READY');
    expect(await gitAsync(remote.bare, 'log', '-1', '--format=%s')).toMatch(/^g7: resume run_0001 from FAIL_STOP/);
    const next = await checkout(remote.url);
    const ran = await runAction({ workspace: next.dir, sha: next.sha, inputs: { command: 'run' } });
    expect(ran.code, ran.stdout).toBe(0);
    expect(ran.stdout).not.toMatch(/::error/);
    expect(ran.outputs).toMatchObject({ 'run-id': 'run_0002', state: 'READY', passed: '1' });
  });

});

describe('the action bundle under the runner environment', () => {
  it('runs on Node 24', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });

  it('fails the step when the evidence does not reach the remote (a push refused by the server)', async () => {
    const f = await factory([{ id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'out/1.txt', accept: 'exit==0' }]);
    const remote = await serve(f.root);
    const hook = path.join(remote.bare, 'hooks', 'pre-receive');
    await writeFile(hook, '#!/bin/sh\necho "GH006: Protected branch update failed for refs/heads/main." >&2\nexit 1\n', { mode: 0o755 });
    const co = await checkout(remote.url);
    const r = await runBundle({ workspace: co.dir, sha: co.sha, inputs: { command: 'run' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error::the evidence of run_0001 is not on the remote: the push did not go through/);
    expect(r.summary).toContain("Evidence: in the runner's checkout only (the push did not go through: see the warnings).");
    expect((await gitAsync(remote.bare, 'rev-parse', 'refs/heads/main')).trim()).toBe(co.sha);
  });

  it('errors in a file become annotations with file, line and column, and no stack trace', async () => {
    const repo = await tempRepo({ example: true });
    await repo.write('ssot/plans/dayplan_20261122.yaml', 'date: 2026-11-22\ngoal: broken\nentries:\n  - name: scan\n    lane: 9\n    prio: A\n    type: SCAN\n    output: x/{n}.txt\n');
    initGit(repo.root);
    git(repo.root, 'add', '-A');
    git(repo.root, 'commit', '-q', '-m', 'broken plan');
    const r = await runBundle({ workspace: repo.root, inputs: { command: 'plan-compile', plan: 'ssot/plans/dayplan_20261122.yaml', push: 'false' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error title=G7 schema\.[\w.-]+,file=ssot\/plans\/dayplan_20261122\.yaml,line=5,col=\d+::ssot\/plans\/dayplan_20261122\.yaml:5:\d+: entries\[0\]\.lane:/);
    expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses an input it cannot use, naming the input and the values it takes', async () => {
    const repo = await tempRepo();
    const r = await runBundle({ workspace: repo.root, inputs: { command: 'plan' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/::error::input command: "plan" is not one of run, pack, plan-compile, status, verify, resume, policy/);
    const lanes = await runBundle({ workspace: repo.root, inputs: { command: 'run', lanes: '1,9' } });
    expect(lanes.stdout).toMatch(/::error::input lanes: lane numbers 1-8/);
  });
});
