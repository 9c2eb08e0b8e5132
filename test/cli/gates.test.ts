// `g7 status` says what `g7 run` will do: the same gates (configuration valid, evidence pushed, evidence
// verifies) decide both. In each state, status's forecast (`next_run`: departs, or the exit code of a run that
// does not) is checked against what a `g7 run` then does, both as processes.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { factory, g7Process, type Factory } from '../factory/fixture.js';
import { childEnv } from '../helpers.js';

const CARDS = [
  { id: 'L1_TEST_000001', prio: 'A' as const, input: 'echo one', output: 'ssot/out/1.txt' },
  { id: 'L2_TEST_000001', prio: 'A' as const, input: 'echo two', output: 'ssot/out/2.txt' },
];

/** A factory whose truck is half run: lane 1 ran in run_0001 (sealed, committed), lane 2 is still to go. */
async function halfRun(): Promise<Factory> {
  const f = await factory(CARDS);
  const first = await g7Process(f.root, ['run', '--lanes', '1']);
  expect(first.code, first.out + first.err).toBe(0);
  return f;
}

const runs = async (f: Factory) => (await readdir(path.join(f.ssot, 'runs'))).filter((r) => /^run_\d+$/.test(r)).sort();

async function setState(f: Factory, patch: Record<string, unknown>): Promise<void> {
  const file = path.join(f.ssot, 'state/factory_state.json');
  await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), ...patch }, null, 2) + '\n');
}

/** What status says, then what run does: they must agree. Returns both for the state's own checks. */
async function agree(f: Factory, runArgs: string[] = ['run']) {
  const before = await runs(f);
  const status = await g7Process(f.root, ['--json', 'status']);
  const text = await g7Process(f.root, ['status']);
  const forecast = JSON.parse(status.out) as { next: string; next_run: { departs: boolean; exit: number | null } };
  const run = await g7Process(f.root, runArgs);
  const departed = (await runs(f)).length > before.length;
  expect({ departs: departed, exit: forecast.next_run.departs ? 0 : run.code }, `status: ${text.out}\nrun: ${run.out}${run.err}`).toEqual({ departs: forecast.next_run.departs, exit: forecast.next_run.exit ?? 0 });
  return { status: text, forecast, run };
}

describe('status and run agree', () => {
  it('READY with a verifying pack: status says it departs, and run departs', { timeout: 60_000 }, async () => {
    const f = await halfRun();
    const { status, run } = await agree(f);
    expect(status.out).toMatch(/next: the next `g7 run` departs with round 1 truck A of 20261121/);
    expect(run.code).toBe(0);
  });

  it('the previous pack does not verify: both refuse, exit 6', { timeout: 60_000 }, async () => {
    const f = await halfRun();
    const summary = path.join(f.ssot, 'runs/run_0001/cards/001_L1_TEST_000001/summary.json');
    await writeFile(summary, (await readFile(summary, 'utf8')).replace('"PASS"', '"PASS" '));
    const { status, run } = await agree(f);
    expect(status.out).toMatch(/next: the next `g7 run` refuses \(exit 6\): the evidence pack of run_0001 does not verify/);
    expect(run.code).toBe(6);
  });

  it('the previous pack is not complete: both refuse, exit 6', { timeout: 60_000 }, async () => {
    const f = await halfRun();
    await rm(path.join(f.ssot, 'runs/run_0001/exitcode.txt'));
    const { status, run } = await agree(f);
    expect(status.out).toMatch(/refuses \(exit 6\): the evidence pack of run_0001 is not complete/);
    expect(run.code).toBe(6);
  });

  it('factory.yaml is invalid: status says so and exits 3, like run', { timeout: 60_000 }, async () => {
    const f = await halfRun();
    await writeFile(path.join(f.ssot, 'factory.yaml'), 'library: { root: library }\nlimits: { rpm: lots }\n');
    const { status, run } = await agree(f);
    expect(status.code).toBe(3);
    expect(status.out).toMatch(/next: the next `g7 run` refuses \(exit 3\): .*factory\.yaml/);
    expect(run.code).toBe(3);
  });

  it('a refused push left evidence off the remote: a plain run refuses (exit 8) like status says; --no-push departs and forgets it', { timeout: 60_000 }, async () => {
    const f = await halfRun();
    await setState(f, { unpushed: { since: '2026-11-21T01:00:00.000Z', reason: 'pre-receive hook declined' } });
    const { status, run } = await agree(f);
    expect(status.out).toMatch(/next: the next `g7 run` refuses \(exit 8\): the evidence committed since 2026-11-21T01:00:00.000Z is NOT on the remote \(pre-receive hook declined\), so no truck departs until it is/);
    expect(run.code).toBe(8);
    expect(run.err).toMatch(/`g7 run --push` pushes it first/);

    const local = await g7Process(f.root, ['run', '--no-push']);
    expect(local.code, local.out + local.err).toBe(0);
    expect(local.err).toMatch(/--no-push: the evidence committed since 2026-11-21T01:00:00.000Z is not on the remote/);
    expect(await runs(f)).toEqual(['run_0001', 'run_0002']);
    expect(JSON.parse(await readFile(path.join(f.ssot, 'state/factory_state.json'), 'utf8')).unpushed).toBeNull();
  });

  it('a refused push, and the factory pushes (git.push: true): status says it pushes first, and run pushes, then departs', { timeout: 60_000 }, async () => {
    const f = await halfRun();
    const bare = path.join(await mkdtemp(path.join(tmpdir(), 'g7-bare-')), 'remote.git');
    execFileSync('git', ['init', '-q', '--bare', bare], { env: childEnv() });
    f.git('remote', 'add', 'origin', bare);
    await writeFile(path.join(f.ssot, 'factory.yaml'), (await readFile(path.join(f.ssot, 'factory.yaml'), 'utf8')) + 'git: { push: true }\n');
    f.git('commit', '-qam', 'push the evidence');
    await setState(f, { unpushed: { since: '2026-11-21T01:00:00.000Z', reason: 'pre-receive hook declined' } });
    const { status, run } = await agree(f);
    expect(status.out).toMatch(/next: it pushes the evidence the remote refused \(pre-receive hook declined\) first, and departs only if that lands; then the next `g7 run` departs/);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/pushed the evidence committed since 2026-11-21T01:00:00.000Z, which the remote had refused/);
    expect(execFileSync('git', ['--git-dir', bare, 'log', '--format=%s', 'main'], { encoding: 'utf8', env: childEnv() })).toMatch(/g7: run_0001/);
  });

  it('FAIL_STOP: both refuse, exit 6', { timeout: 60_000 }, async () => {
    const f = await halfRun();
    await setState(f, { state: 'FAIL_STOP', last_stop: { at: '2026-11-21T01:00:00.000Z', reason: 'L9 failed twice', card: 'L2_TEST_000001', triage: 'TEST', transient: false, retry_after: null, hint: null, files: [] } });
    const { status, run } = await agree(f);
    expect(status.out).toMatch(/until then `g7 run` refuses \(exit 6\)/);
    expect(run.code).toBe(6);
  });
});
