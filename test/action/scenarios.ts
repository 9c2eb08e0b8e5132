// The scenarios a night and a morning bring, run the way GitHub runs the action: a checkout whose remote is a
// real git HTTP server on loopback, GitHub's API played by the OpenAPI-validating fake. bundle.test.ts runs them
// on the committed bundle under the runner environment, local-action.test.ts under GitHub's local runner.
import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tempRepo } from '../helpers.js';
import { factory, gitAsync, initGit, git, DAY } from '../factory/fixture.js';
import { checkout, filesOf, loopback, runBundle, TOKEN, type ActionRun, type RunnerOptions } from './runner.js';

const KEY = 'AIzaSyTESTKEY-never-in-a-child-0001';

export function runnerScenarios(name: string, runAction: (o: RunnerOptions) => Promise<ActionRun>): void {
  const net = loopback();
  const bundle = runAction === runBundle;
  // A scenario is up to five action runs (prepare, three lanes, merge), each a full g7 process under the
  // runner; under local-action (TypeScript on the fly) one took 58 s of the default 60 s on this machine.
  describe(`the action, run by ${name}`, { timeout: 240_000 }, () => {

  it('a scheduled truck: evidence pushed, outputs, a Mermaid summary, annotations on files that exist, a check run on the evidence commit, and the key in no child process', async () => {
    const f = await factory([
      { id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'out/1.txt', accept: 'exit==0' },
      // The environment exactly as the card's process received it (a shell would drop names like INPUT_A-B).
      { id: 'L1_TEST_000002', prio: 'A', input: "tr '\\0' '\\n' < /proc/$$/environ; test -f fixed.txt", output: 'out/2.txt', accept: 'exit==0' },
    ]);
    const remote = await net.remote(f.root);
    const gh = await net.github(remote.bare);
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
    const remote = await net.remote(repo.root);

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
    const remote = await net.remote(f.root);
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

  it('three lanes at once plus the merge job: each lane pushes only its part, the merge seals the run over all of them', async () => {
    const cards = [1, 2, 3].flatMap((lane) => [1, 2].map((n) => ({ id: `L${lane}_TEST_00000${n}`, prio: 'A' as const, input: `printf lane-${lane}-${n}`, output: `out/${lane}-${n}.txt`, accept: 'exit==0' })));
    const f = await factory(cards);
    const remote = await net.remote(f.root);
    const dispatch = { name: 'workflow_dispatch', payload: { inputs: { truck: 'next', lanes: '' } } };

    const prep = await checkout(remote.url);
    const prepared = await runAction({ workspace: prep.dir, sha: prep.sha, event: dispatch, inputs: { command: 'prepare-lanes' } });
    expect(prepared.code, prepared.stdout + prepared.stderr).toBe(0);
    expect(prepared.stdout).not.toMatch(/::error/);
    expect(prepared.outputs).toMatchObject({ 'run-id': 'run_0001', state: 'RUNNING', lanes: '[1,2,3]' });
    expect((await gitAsync(remote.bare, 'rev-parse', 'refs/heads/main')).trim()).toBe(prepared.outputs.commit);

    // The matrix: one job per lane, each on its own runner (a checkout of the branch as the prepare job left it).
    const lanes = JSON.parse(prepared.outputs.lanes!) as number[];
    const checkouts = await Promise.all(lanes.map(() => checkout(remote.url)));
    const jobs = await Promise.all(lanes.map((lane, i) => runAction({ workspace: checkouts[i]!.dir, sha: checkouts[i]!.sha, event: dispatch, inputs: { command: 'lane', 'run-id': prepared.outputs['run-id']!, lanes: String(lane) } })));
    for (const [i, job] of jobs.entries()) {
      expect(job.code, job.stdout + job.stderr).toBe(0);
      expect(job.stdout).not.toMatch(/::error/);
      expect(job.outputs).toMatchObject({ 'run-id': 'run_0001', state: 'READY', passed: '2', failed: '0', evidence: `ssot/runs/run_0001/lanes/${lanes[i]}` });
      expect(job.summary).toContain(`L${lanes[i]}_TEST_000001`);
    }

    const last = await checkout(remote.url);
    const merged = await runAction({ workspace: last.dir, sha: last.sha, event: dispatch, inputs: { command: 'merge-lanes', 'run-id': 'run_0001' } });
    expect(merged.code, merged.stdout + merged.stderr).toBe(0);
    expect(merged.stdout).not.toMatch(/::error/);
    expect(merged.outputs).toMatchObject({ 'run-id': 'run_0001', state: 'READY', passed: '6', failed: '0', evidence: 'ssot/runs/run_0001' });
    expect(merged.summary).toContain('```mermaid\npie showData title run_0001: 6 cards of truck A\n    "PASS" : 6\n```');

    // The next dispatch finds nothing to run: no lanes, so the workflow runs no lane job and no merge.
    const idle = await checkout(remote.url);
    const nothing = await runAction({ workspace: idle.dir, sha: idle.sha, event: dispatch, inputs: { command: 'prepare-lanes' } });
    expect(nothing.code, nothing.stdout).toBe(0);
    expect(nothing.stdout).toMatch(/nothing to run/);
    expect(nothing.outputs.lanes).toBeUndefined();

    const after = await checkout(remote.url);
    const v = await runAction({ workspace: after.dir, inputs: { command: 'verify' } });
    expect(v.code, v.stdout).toBe(0);
    expect(v.stdout).toMatch(/ok +run_0001: verifies/);
    // Each card's evidence sits in its lane's part, and the merged report names every card once.
    const report = JSON.parse(await readFile(path.join(after.dir, 'ssot/runs/run_0001/verify_report.json'), 'utf8'));
    expect(report.cards.map((c: { detail: string }) => c.detail).sort()).toEqual(cards.map((c, k) => `lanes/${c.id[1]}/cards/${String(k + 1).padStart(3, '0')}_${c.id}`).sort());
  });

});
}
