// The action as GitHub runs it: the committed bundle, on Node 24, inputs as INPUT_* variables, outputs
// and the job summary written to the files GitHub names.
import { describe, expect, it } from 'vitest';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { actionBuildOptions } from '../../scripts/build.mjs';
import { REPO } from '../helpers.js';
import { factory } from '../factory/fixture.js';

describe('the action', () => {
  it('is a node24 JavaScript action whose committed bundle is what the current source builds', async () => {
    const meta = parse(await readFile(path.join(REPO, 'action/action.yml'), 'utf8'));
    expect(meta.runs).toEqual({ using: 'node24', main: 'dist/index.mjs' });
    const fresh = await build({ ...actionBuildOptions, write: false });
    const committed = await readFile(path.join(REPO, 'action/dist/index.mjs'), 'utf8');
    expect(fresh.outputFiles[0]!.text === committed, 'action/dist is stale: run `npm run build` and commit action/dist').toBe(true);
  });

  it('runs a truck, sets its outputs, writes a job summary and annotates a failure', async () => {
    const f = await factory([
      { id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'out/1.txt', accept: 'exit==0' },
      { id: 'L1_TEST_000002', prio: 'A', input: 'echo boom >&2; exit 1', output: 'out/2.txt', accept: 'exit==0' },
    ]);
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-gha-'));
    const output = path.join(dir, 'output');
    const summary = path.join(dir, 'summary');
    await writeFile(output, '');
    await writeFile(summary, '');
    const r = spawnSync(process.execPath, [path.join(REPO, 'action/dist/index.mjs')], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, GITHUB_WORKSPACE: f.root, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, INPUT_COMMAND: 'run', INPUT_SSOT: 'ssot', 'INPUT_DRY-RUN': 'false', INPUT_PUSH: 'false', INPUT_TRUCK: '', INPUT_LANES: '', INPUT_PLAN: '', 'INPUT_GEMINI-API-KEY': '' },
    });
    expect(r.status).toBe(1); // FAIL_STOP fails the step
    expect(r.stdout).toMatch(/::error title=G7 run_0001 L1_TEST_000002,file=ssot\/runs\/run_0001\/cards\/002_L1_TEST_000002\/summary\.json::L1_TEST_000002 failed \(TEST\)/);
    expect(r.stdout).toMatch(/::error::FAIL_STOP: L1_TEST_000002 failed twice/);
    const outputs = await readFile(output, 'utf8');
    for (const [k, v] of [['run-id', 'run_0001'], ['state', 'FAIL_STOP'], ['passed', '1'], ['failed', '1'], ['evidence', 'ssot/runs/run_0001']]) expect(outputs).toMatch(new RegExp(`${k}<<ghadelimiter_[\\w-]+\\n${v}\\n`));
    const md = await readFile(summary, 'utf8');
    expect(md).toMatch(/<h2>G7 run_0001: truck A of 20261121 — FAIL_STOP<\/h2>/);
    expect(md).toContain('bundle 1: 🟩🟥' + '·'.repeat(18));
    expect(f.git('log', '--format=%s', '-1')).toMatch(/^g7: run_0001 round 1 truck A stop: FAIL_STOP/);
  });
});
