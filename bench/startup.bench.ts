// Start-up: what a command costs before it does its work, against `node -e ""` (the start-up of any Node
// process on this machine). `g7 status` and `g7 plan check factory.yaml` through the CLI binary, and the
// committed action bundle running `status` the way the runner starts it (inputs as INPUT_* variables).
// All whole processes, interleaved, on a copy of the example SSOT; with V8's compile cache and without it.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { interleave, machine, ratio, spread, table, fmt, RUNS, type Cmd } from './harness.js';

const runs = RUNS * 2; // each run is short: twice the rounds for a steadier median
const dir = await mkdtemp(path.join(tmpdir(), 'g7-bench-startup-'));
try {
  await cp(path.resolve('ssot'), path.join(dir, 'ssot'), { recursive: true });
  // factory.yaml names the example library; plan check verifies that it exists.
  await cp(path.resolve('examples/library'), path.join(dir, 'examples/library'), { recursive: true });
  const summary = path.join(dir, 'summary.md');
  await writeFile(summary, '');
  await writeFile(path.join(dir, 'output.txt'), ''); // the runner creates both files before a step starts
  const g7 = path.resolve('bin/g7.mjs');
  // The compiled-code cache (module.enableCompileCache): a folder of this run's own, filled by the warm-up
  // rounds, for the usual case; switched off for the first command after an install, or the first g7 step of
  // a GitHub job (a fresh runner).
  const warm = { NODE_COMPILE_CACHE: path.join(dir, 'compile-cache') };
  const cold = { NODE_DISABLE_COMPILE_CACHE: '1' };
  const action = { INPUT_COMMAND: 'status', INPUT_SSOT: 'ssot', 'INPUT_DRY-RUN': 'false', INPUT_PUSH: 'false', GITHUB_WORKSPACE: dir, GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: path.join(dir, 'output.txt') };
  const status = [process.execPath, g7, '--ssot', path.join(dir, 'ssot'), 'status'];
  const cmds: Cmd[] = [
    { name: 'node', argv: [process.execPath, '-e', ''] },
    { name: 'status', argv: status, env: warm },
    { name: 'status-cold', argv: status, env: cold },
    { name: 'check', argv: [process.execPath, g7, '--ssot', path.join(dir, 'ssot'), 'plan', 'check', path.join(dir, 'ssot/factory.yaml')], env: warm },
    { name: 'action', argv: [process.execPath, path.resolve('action/dist/index.mjs')], env: { ...action, ...warm } },
    { name: 'action-cold', argv: [process.execPath, path.resolve('action/dist/index.mjs')], env: { ...action, ...cold } },
  ];
  process.stderr.write(`${runs} interleaved rounds…\n`);
  const r = interleave(cmds, runs, 2);
  const ms = (n: string) => r.get(n)!.map((x) => x.ms);
  const row = (label: string, n: string) => [label, fmt.range(spread(ms(n)), fmt.ms), fmt.range(ratio(ms(n), ms('node')), fmt.x), fmt.mb(r.get(n)!)];
  console.log(`\nwhole processes, ${runs} interleaved rounds, median (min-max)\nmachine: ${machine()}\n`);
  console.log(
    table(
      ['command', 'ms', 'x node -e ""', 'peak RSS MB'],
      [
        row('node -e "" (floor: start-up of any Node process)', 'node'),
        row('g7 status (example SSOT, nothing run yet)', 'status'),
        row('g7 status, compile cache off (the first command after an install)', 'status-cold'),
        row('g7 plan check ssot/factory.yaml (validates one document)', 'check'),
        row('action/dist/index.mjs, command status', 'action'),
        row('action, compile cache off (the first g7 step of a job)', 'action-cold'),
      ],
    ),
  );
  const goal = (n: string) => ratio(ms(n), ms('node')).med;
  const verdict = (n: string) => `${fmt.x(goal(n))}: ${goal(n) <= 3 ? 'met' : 'NOT met'}`;
  console.log(`\ngoal: <= 3x node -e "" → g7 status ${verdict('status')} (cache off ${verdict('status-cold')}); action ${verdict('action')} (cache off ${verdict('action-cold')})`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
