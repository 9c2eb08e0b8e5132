// The action as GitHub runs it: the committed bundle (what the source builds, loading per command what it
// needs) on Node 24 with the runner's environment.
import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { actionAssets, actionBuildOptions } from '../../scripts/build.mjs';
import { REPO, tempRepo } from '../helpers.js';
import { factory, gitAsync, initGit, git } from '../factory/fixture.js';
import { checkout, filesOf, loopback, runBundle } from './runner.js';
import { runnerScenarios } from './scenarios.js';
import { fakeGemini } from '../fakes/gemini-server.js';

const net = loopback();

describe('the action bundle', () => {
  it('is a node24 JavaScript action whose committed files are exactly what the current source builds', async () => {
    const meta = parse(await readFile(path.join(REPO, 'action/action.yml'), 'utf8'));
    expect(meta.runs).toEqual({ using: 'node24', main: 'dist/index.mjs' });
    const fresh = await build({ ...actionBuildOptions, write: false });
    const dist = path.join(REPO, 'action/dist');
    const built = new Map(fresh.outputFiles.map((f) => [path.relative(dist, f.path), Buffer.from(f.contents)]));
    // tree-sitter's wasm files, copied from node_modules as they are.
    for (const a of actionAssets) built.set(path.relative(dist, a.to), await readFile(a.from));
    const committed = (await filesOf(dist)).map((f) => path.relative(dist, f));
    expect(committed.sort(), 'action/dist is stale: run `npm run build` and commit action/dist').toEqual([...built.keys()].sort());
    for (const rel of committed) expect((await readFile(path.join(dist, rel))).equals(built.get(rel)!), `action/dist/${rel} is stale: run \`npm run build\``).toBe(true);
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
    // index.mjs only turns on the compile cache and imports the entry (main.ts): start from both.
    walk(key);
    for (const i of outputs[key]!.imports) if (i.kind === 'dynamic-import') walk(i.path);
    const packages = new Set([...seen].flatMap((o) => Object.keys(outputs[o]!.inputs)).map((i) => /node_modules\/((@[^/]+\/)?[^/]+)/.exec(i)?.[1] ?? 'src'));
    expect([...packages].sort()).toEqual(['@actions/core', '@actions/exec', '@actions/io', 'src']);
    // The skill parsers and the secret scanner, in chunks of their own, loaded only by the card or command
    // that needs them: ts-morph with its TypeScript (6.53 MB), web-tree-sitter, secretlint (0.15 MB together).
    const parser = (o: string) => Object.keys(outputs[o]!.inputs).some((i) => /node_modules\/(ts-morph|@ts-morph|web-tree-sitter|@secretlint)\//.test(i));
    const parsers = Object.keys(outputs).filter(parser);
    for (const o of parsers) expect(seen.has(o), `${o} is loaded at start`).toBe(false);
    const bytes = (os: string[]) => os.reduce((a, o) => a + outputs[o]!.bytes, 0);
    // Every other chunk together (loaded or not): 1.98 MB before the lane matrix, which added its commands and
    // the lane plan's two generated validators (24 KB of source text), then 2.10 MB with the forge's retry
    // and throttle plugins and the checkpoint's by-name staging, and the journal's day files, the rolling
    // files and the strike list's own module (issue 16); 2.16 MB with jsdiff for a failed PATCH's diff, the
    // side-branch delivery of refused evidence, the run/status gates, the token calibration and the night
    // window; 2.25 MB with the audit log's store and data branch, the batch submissions cut to the Batch
    // API's quota (batch-jobs, batch-limits) and the day's forecast; a guard against regrowing the
    // unminified 3.6 MB, not a budget to fill.
    expect(bytes(Object.keys(outputs).filter((o) => !parser(o)))).toBeLessThan(2_300_000);
    expect(bytes(parsers)).toBeLessThan(6_800_000);
  });
});

describe('the action bundle under the runner environment', () => {
  it('runs on Node 24', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });

  it('hands the key input to the Gemini worker, with the models input over factory.yaml, and to no process', async () => {
    const KEY = 'AIzaSyACTIONKEY-for-the-worker-only-01';
    const gemini = await fakeGemini({ keys: [KEY] });
    try {
      const f = await factory([
        { id: 'L1_SCAN_000001', prio: 'A', input: ['doc001.md'], output: 'ssot/library_index/scan/1.jsonl' },
        { id: 'L2_TAG_000001', prio: 'A', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', deps: ['L1_SCAN_000001'], accept: 'json:ssot/library_index/tags/1.jsonl' },
        { id: 'L3_TEST_000001', prio: 'B', input: "tr '\\0' '\\n' < /proc/$$/environ", output: 'out/env.txt', accept: 'exit==0' },
      ]);
      // The truck's model needs a price (the departure check refuses one without: budgets could not hold).
      await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\ngemini: { base_url: "${gemini.url}" }\nprices_per_mtok: { gemini-2.5-flash: { in: 0.30, out: 2.50 } }\n`);
      f.git('add', '-A');
      f.git('commit', '-q', '-m', 'point at the fake Gemini');
      const r = await runBundle({ workspace: f.root, inputs: { command: 'run', push: 'false', 'gemini-api-key': KEY, models: 'LOW=gemini-2.5-flash' } });
      expect(r.code, r.stdout).toBe(0);
      expect(r.outputs).toMatchObject({ state: 'READY', passed: '3' });
      const calls = gemini.requests.filter((q) => q.verb === 'generateContent');
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((q) => q.key === KEY && q.model === 'gemini-2.5-flash' && q.status === 200)).toBe(true);
      const env = await readFile(path.join(f.root, 'out/env.txt'), 'utf8');
      expect(env).toMatch(/^PATH=/m);
      expect(env).not.toContain(KEY);
    } finally {
      await gemini.close();
    }
  });

  it('fails the step when the evidence does not reach the remote (a push refused by the server)', async () => {
    const f = await factory([{ id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'out/1.txt', accept: 'exit==0' }]);
    const remote = await net.remote(f.root);
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
    const models = await runBundle({ workspace: repo.root, inputs: { command: 'run', models: 'PRO=gemini-2.5-pro' } });
    expect(models.stdout).toMatch(/::error::input models: "PRO=gemini-2.5-pro" is not COST=MODEL with COST one of LOW, MID, HIGH/);
  });
});

runnerScenarios('the bundle on Node 24 with the runner environment', runBundle);
