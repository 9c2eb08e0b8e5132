// Start-up: what a command costs before it does its work, against `node -e ""` (the start-up of any Node
// process on this machine). `g7 status` and `g7 plan check factory.yaml` through the CLI binary, and the
// committed action bundle running `status` the way the runner starts it (inputs as INPUT_* variables).
// All whole processes, interleaved, on a copy of the example SSOT.
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { interleave, machine, ratio, spread, table, fmt, RUNS, type Cmd } from './harness.js';

const runs = RUNS * 2; // each run is short: twice the rounds for a steadier median
const dir = await mkdtemp(path.join(tmpdir(), 'g7-bench-startup-'));
try {
  await cp(path.resolve('ssot'), path.join(dir, 'ssot'), { recursive: true });
  const summary = path.join(dir, 'summary.md');
  await writeFile(summary, '');
  const g7 = path.resolve('bin/g7.mjs');
  const cmds: Cmd[] = [
    { name: 'node', argv: [process.execPath, '-e', ''] },
    { name: 'status', argv: [process.execPath, g7, '--ssot', path.join(dir, 'ssot'), 'status'] },
    { name: 'check', argv: [process.execPath, g7, '--ssot', path.join(dir, 'ssot'), 'plan', 'check', path.join(dir, 'ssot/factory.yaml')] },
    {
      name: 'action',
      argv: [process.execPath, path.resolve('action/dist/index.mjs')],
      env: { INPUT_COMMAND: 'status', INPUT_SSOT: 'ssot', 'INPUT_DRY-RUN': 'false', INPUT_PUSH: 'false', GITHUB_WORKSPACE: dir, GITHUB_STEP_SUMMARY: summary, GITHUB_OUTPUT: path.join(dir, 'output.txt') },
    },
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
        row('g7 plan check ssot/factory.yaml (validates one document)', 'check'),
        row('action/dist/index.mjs, command status', 'action'),
      ],
    ),
  );
  const goal = (n: string) => ratio(ms(n), ms('node')).med;
  console.log(`\ngoal: <= 3x node -e "" → g7 status ${fmt.x(goal('status'))}: ${goal('status') <= 3 ? 'met' : 'NOT met'}; action ${fmt.x(goal('action'))}: ${goal('action') <= 3 ? 'met' : 'NOT met'}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
