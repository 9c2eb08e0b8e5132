// Chaining (SPEC 9a), run as GitHub runs the action: the committed bundle under the runner's environment, the
// evidence pushed to a real git remote on loopback, the dispatch sent to the fake GitHub, which reads the
// workflow from that remote and refuses what GitHub refuses. A truck that leaves work inside the night and its
// budget starts the next run of its own workflow; outside the night, with nothing left or without
// `actions: write`, it does not, and the `chained` and `chain-reason` outputs say why.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO } from '../helpers.js';
import { factory, type CardSpec } from '../factory/fixture.js';
import { checkout, loopback, runBundle, TOKEN } from './runner.js';

const pad = (n: number) => String(n).padStart(6, '0');
/** 01:30 in Seoul, inside the default night (00:00–07:00 Asia/Seoul); and noon. */
const NIGHT = '2026-11-21T16:30:00Z';
const NOON = '2026-11-21T03:00:00Z';

const quick = (n: number): CardSpec[] => Array.from({ length: n }, (_, i) => ({ id: `L1_TEST_${pad(i + 1)}`, prio: 'A', input: `printf ${i + 1}`, output: `out/${i + 1}.txt`, accept: 'exit==0' }));
/** 21 cards that sleep 0.1 s: bundle 1 (20 of them) takes longer than a budget of 1.2 s. */
const sleepy: CardSpec[] = Array.from({ length: 21 }, (_, i) => ({ id: `L1_TEST_${pad(i + 1)}`, prio: 'A', input: `sleep 0.1; printf ${i + 1}`, output: `out/${i + 1}.txt`, accept: 'exit==0' }));

describe('chaining: the action dispatches the next run of its workflow', () => {
  const net = loopback();

  /** A factory whose repository has the shipped factory.yml (the fake reads the workflow from the remote), checked out. */
  async function night(cards: CardSpec[], permissions?: { actions: 'read' | 'write' }, files: Record<string, string> = {}) {
    const f = await factory(cards, { files: { '.github/workflows/factory.yml': await readFile(path.join(REPO, '.github/workflows/factory.yml'), 'utf8'), ...files } });
    const remote = await net.remote(f.root);
    const gh = await net.github(remote.bare, permissions ? { permissions } : {});
    const co = await checkout(remote.url);
    const run = (now: string, inputs: Record<string, string> = {}) => runBundle({ workspace: co.dir, sha: co.sha, apiUrl: gh.url, repository: gh.fullName, env: { G7_NOW: now }, inputs: { command: 'run', 'github-token': TOKEN, ...inputs } });
    return { gh, run };
  }

  it('a chained run that starts past the night\'s end departs nothing and says so; a person\'s dispatch at the same hour departs', { timeout: 120_000 }, async () => {
    const late = await night(quick(3));
    const r = await late.run(NOON, { 'chain-link': '2' });
    late.gh.verify(); // no check run, no dispatch: nothing ran
    expect(r.code).toBe(0);
    expect(r.outputs).toMatchObject({ chained: 'false' });
    expect(r.outputs['chain-reason']).toBe("the night ended (00:00–07:00 Asia/Seoul, factory.yaml night) before this run, link 2 of tonight's chain, started at 2026-11-21T03:00:00.000Z: nothing departs; the next night's scheduled job takes the truck");
    expect(r.outputs['run-id']).toBeUndefined();
    expect(r.stdout).not.toMatch(/run_\d{4}: round \d+ truck/);

    const person = await night(quick(3));
    person.gh.expect('checks/create', { name: 'g7 run_0001' });
    const p = await person.run(NOON);
    person.gh.verify();
    expect(p.outputs).toMatchObject({ state: 'READY', 'run-id': 'run_0001' });
  });

  it('a truck that finished with a truck to go, inside the night: dispatches factory.yml on its branch as the next link', { timeout: 120_000 }, async () => {
    const { gh, run } = await night(quick(121));
    gh.expect('checks/create', { name: 'g7 run_0001', conclusion: 'success' });
    gh.expect('actions/create-workflow-dispatch', { workflow_id: 'factory.yml', ref: 'main', inputs: { chain: '3' } });
    const r = await run(NIGHT, { 'chain-link': '2' });
    gh.verify();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.outputs).toMatchObject({ state: 'READY', passed: '120', chained: 'true' });
    expect(r.outputs['chain-reason']).toMatch(/^dispatched factory\.yml on main for round 1 truck B of 20261121: link 3 of tonight's chain, the night ends 2026-11-21T22:00:00\.000Z \(https:\/\/github\.com\/g7-factory\/factory\/actions\/runs\/\d+\)$/);
    // The run GitHub starts gets the workflow's defaults for everything else: a truck, the next one.
    expect(gh.dispatches).toEqual([{ workflow: 'factory.yml', ref: 'main', inputs: { command: 'run', truck: 'next', resume: 'false', 'dry-run': 'false', chain: '3' } }]);
  });

  it('a truck stopped at max-minutes chains (the next run resumes it); outside the night the same stop does not', { timeout: 120_000 }, async () => {
    const inside = await night(sleepy);
    inside.gh.expect('checks/create', { name: 'g7 run_0001', conclusion: 'neutral' });
    inside.gh.expect('actions/create-workflow-dispatch', { workflow_id: 'factory.yml', ref: 'main', inputs: { chain: '1' } });
    const r = await inside.run(NIGHT, { 'max-minutes': '0.02' });
    inside.gh.verify();
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/::warning::RECOVERABLE: stopped after bundle 1: the job's time budget \(max-minutes 0\.02\)/);
    expect(r.outputs).toMatchObject({ state: 'RECOVERABLE', passed: '20', chained: 'true' });
    expect(r.outputs['chain-reason']).toMatch(/^dispatched factory\.yml on main for round 1 truck A of 20261121: link 1/);

    const outside = await night(sleepy);
    outside.gh.expect('checks/create', { name: 'g7 run_0001' });
    const day = await outside.run(NOON, { 'max-minutes': '0.02' });
    outside.gh.verify(); // no dispatch
    expect(day.outputs).toMatchObject({ state: 'RECOVERABLE', chained: 'false', 'chain-reason': 'outside the night (00:00–07:00 Asia/Seoul, factory.yaml night): the next scheduled job goes on' });
    expect(outside.gh.dispatches).toEqual([]);
  });

  it.each<[string, { files?: Record<string, string> }, Record<string, string>, RegExp]>([
    ['tonight\'s budget is spent', { files: { 'ssot/state/spend_20261121.json': JSON.stringify({ usd: 10, tokens_in: 0, tokens_out: 0, calls: 40 }) } }, {}, /^tonight's budget is spent \(\$10\.00 of budget\.per_night_usd \$10\.00\)$/],
    ['the chain is at its last link', {}, { 'chain-link': '48' }, /^this run is link 48 of tonight's chain, the most one chain makes \(48\)/],
    ['the input chain is false', {}, { chain: 'false' }, /^input chain is false$/],
  ])('work left inside the night, but %s: no dispatch', { timeout: 120_000 }, async (_what, extra, inputs, reason) => {
    const { gh, run } = await night(quick(121), undefined, extra.files);
    gh.expect('checks/create', { name: 'g7 run_0001', conclusion: 'success' });
    const r = await run(NIGHT, inputs);
    gh.verify(); // no dispatch
    expect(r.outputs).toMatchObject({ state: 'READY', chained: 'false' });
    expect(r.outputs['chain-reason']).toMatch(reason);
  });

  it('nothing left after the truck: no dispatch, and the reason is the one g7 status gives', { timeout: 120_000 }, async () => {
    const { gh, run } = await night(quick(2));
    gh.expect('checks/create', { name: 'g7 run_0001', conclusion: 'success' });
    const r = await run(NIGHT);
    gh.verify();
    expect(r.outputs).toMatchObject({ state: 'READY', chained: 'false' });
    expect(r.outputs['chain-reason']).toMatch(/^nothing to run: 20261121 is done after 1 round\(s\)/);
    expect(gh.dispatches).toEqual([]);
  });

  it('a token without actions: write: GitHub refuses the dispatch, the step says which permission to grant and still succeeds (the evidence is pushed)', { timeout: 120_000 }, async () => {
    const { gh, run } = await night(quick(121), { actions: 'read' });
    gh.expect('checks/create', { name: 'g7 run_0001' });
    gh.expect('actions/create-workflow-dispatch');
    const r = await run(NIGHT);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.outputs.chained).toBe('false');
    expect(r.outputs['chain-reason']).toMatch(/the dispatch of factory\.yml was refused: .*403 Resource not accessible by integration \(the token may not start workflows: give the job `actions: write`/);
    expect(r.stdout).toMatch(/::warning::chaining: /);
    expect(gh.dispatches).toEqual([]);
  });
});
