// A result is a result: a card whose command was cut short by a signal is never a PASS, whatever its accept
// rule says of what it left behind; a TEST entry without `accept:` fails when its command fails.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { factory, g7Process, planRepo, type Factory } from './fixture.js';
import { REPO, childEnv } from '../helpers.js';

/** Every card result of every run's verify report, in run order. */
async function allResults(f: Factory): Promise<{ run: string; id: string; status: string }[]> {
  const runs = (await readdir(path.join(f.ssot, 'runs'))).filter((r) => /^run_\d+$/.test(r)).sort();
  const out: { run: string; id: string; status: string }[] = [];
  for (const run of runs) {
    const report = JSON.parse(await readFile(path.join(f.ssot, 'runs', run, 'verify_report.json'), 'utf8')) as { cards: { id: string; status: string }[] };
    for (const c of report.cards) out.push({ run, id: c.id, status: c.status });
  }
  return out;
}

describe('a card cut by a signal is never a PASS', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} during a TEST card whose accept only asks for the output: not a result; it runs again on resume and passes once`, { timeout: 60_000 }, async () => {
      const gate = await mkdtemp(path.join(tmpdir(), 'g7-gate-'));
      // `exists:` holds as soon as the card's stdout is written, even when the command was killed at once.
      const f = await factory([
        { id: 'L3_TEST_000001', prio: 'B', input: `touch ${gate}/started; while [ ! -f ${gate}/go ]; do sleep 0.05; done; printf done`, output: 'ssot/out/s.txt', accept: 'exists:ssot/out/s.txt' },
      ]);
      const child = spawn(process.execPath, [path.join(REPO, 'bin/g7.mjs'), 'run'], { cwd: f.root, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b) => (out += b));
      child.stderr.on('data', (b) => (out += b));
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      for (let waited = 0; !existsSync(path.join(gate, 'started')); waited += 20) {
        if (waited > 30_000) throw new Error(`the card never started; g7 said:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill(signal);
      expect(await exited, out).toBe(signal === 'SIGINT' ? 130 : 143);
      expect(out).toMatch(new RegExp(`L3_TEST_000001 attempt 1 cancelled by ${signal}: not a result`));
      expect(out).not.toMatch(/L3_TEST_000001 PASS/);
      const result = JSON.parse(await readFile(path.join(f.ssot, 'runs/run_0001/cards/001_L3_TEST_000001/attempt-1.json'), 'utf8'));
      expect(result).toMatchObject({ pass: false, exit: 137 });
      expect(await allResults(f)).not.toContainEqual(expect.objectContaining({ id: 'L3_TEST_000001', status: 'PASS' }));
      const status = await g7Process(f.root, ['status']);
      expect(status.out + status.err).not.toMatch(/already done|nothing to run/);

      await writeFile(path.join(gate, 'go'), '');
      const again = await g7Process(f.root, ['run']);
      expect(again.code, again.out + again.err).toBe(0);
      expect(again.out + again.err).toMatch(/L3_TEST_000001 PASS/);
      expect(await readFile(path.join(f.root, 'ssot/out/s.txt'), 'utf8')).toBe('done');
      const passes = (await allResults(f)).filter((r) => r.id === 'L3_TEST_000001' && r.status === 'PASS');
      expect(passes).toHaveLength(1);
      expect((await g7Process(f.root, ['verify'])).code).toBe(0);
    });
  }

  it('a command that dies of SIGKILL by itself fails, even though its output exists', { timeout: 60_000 }, async () => {
    const f = await factory([{ id: 'L3_TEST_000001', prio: 'B', input: 'printf partial; kill -9 $$', output: 'ssot/out/k.txt', accept: 'exists:ssot/out/k.txt' }]);
    const run = await g7Process(f.root, ['run']);
    expect(run.code, run.out + run.err).toBe(4);
    expect(run.out + run.err).toMatch(/L3_TEST_000001 attempt 1 failed: TEST: the command was killed by SIGKILL before it finished/);
    expect(await allResults(f)).toContainEqual({ run: 'run_0001', id: 'L3_TEST_000001', status: 'FAIL' });
  });
});

describe('TEST without accept', () => {
  it('a command that exits 1 is a FAIL: the default accept includes exit==0', { timeout: 60_000 }, async () => {
    const f = await planRepo(
      'date: 2026-11-21\ngoal: a failing test\nentries:\n  - { name: fails, lane: 3, prio: B, type: TEST, input: "echo about to fail; exit 1", output: "ssot/out/f.txt" }\n',
    );
    const compiled = await g7Process(f.root, ['plan', 'compile', 'ssot/plans/dayplan_20261121.yaml']);
    expect(compiled.code, compiled.err).toBe(0);
    const backlog = (await readFile(path.join(f.ssot, 'backlog/backlog_20261121.jsonl'), 'utf8')).trim();
    expect(JSON.parse(backlog).accept).toBe('exit==0 && exists:ssot/out/f.txt');
    f.git('add', '-A');
    f.git('commit', '-qm', 'compiled');
    const run = await g7Process(f.root, ['run']);
    expect(run.code, run.out + run.err).toBe(4);
    expect(run.out + run.err).not.toMatch(/L3_TEST_000001 PASS/);
    expect(await allResults(f)).toContainEqual({ run: 'run_0001', id: 'L3_TEST_000001', status: 'FAIL' });
  });
});
