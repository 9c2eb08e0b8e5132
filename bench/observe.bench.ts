// What coreloop's Observe costs a truck: `g7 run --no-commit` of 120 TAG cards (offline rules, a Markdown
// skill in the prompt, chunks of about 1 KB) with the audit records written, against the same run with
// G7_AUDIT_DISABLE=1 — the floor is the run loop without Observe. Whole processes, interleaved. Also the
// bytes of audit log a truck writes.
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { childMain, interleave, machine, ratio, selfTask, spread, table, fmt, runOnce, RUNS, type Cmd } from './harness.js';
import { setupTagTruck, TAG_CARDS } from './tag-truck.js';

const base = path.resolve('bench/.data/observe');
const g7 = path.resolve('bin/g7.mjs');
const CARDS = TAG_CARDS;

const setup = (dir: string) =>
  setupTagTruck(dir, { text: (i) => `Card ${i}: a related-party loan of KRW ${i} billion, approved by the board.\n`.repeat(14), skill: 'ssot/skills/TAG.md' });

const isChild = await childMain({
  async setup([dir]) {
    await setup(dir!);
  },
});

if (!isChild) {
  await mkdir(base, { recursive: true });
  const self = import.meta.url;
  const dirOf = (name: string) => path.join(base, name.replace(/\W+/g, '-'));
  const truck = (name: string, env: Record<string, string>): Cmd => ({
    name, env, argv: [process.execPath, g7, '--ssot', path.join(dirOf(name), 'ssot'), 'run', '--no-commit'],
    before: () => void runOnce(selfTask(self, 'setup', 'setup', [dirOf(name)])),
  });
  const cmds = [truck('without Observe', { G7_AUDIT_DISABLE: '1' }), truck('with Observe', {})];
  process.stderr.write(`${RUNS} interleaved rounds…\n`);
  const runs = interleave(cmds, RUNS);
  const ms = (n: string) => runs.get(n)!.map((r) => r.ms);
  const log = path.join(dirOf('with Observe'), 'ssot/audit/ai-ask');
  const files = await readdir(log);
  let bytes = 0;
  let lines = 0;
  for (const f of files) {
    bytes += (await stat(path.join(log, f))).size;
    lines += (await readFile(path.join(log, f), 'utf8')).split('\n').filter(Boolean).length;
  }
  console.log(`\n${CARDS} TAG cards (offline rules, a Markdown skill); g7 run --no-commit, whole processes, ${RUNS} interleaved rounds, median (min-max)\nmachine: ${machine()}\n`);
  console.log(
    table(
      ['task', 'total ms', 'per card ms', 'x without Observe'],
      [
        ['g7 run, G7_AUDIT_DISABLE=1 (the floor)', fmt.range(spread(ms('without Observe')), fmt.ms), fmt.range(spread(ms('without Observe').map((x) => x / CARDS)), (v) => v.toFixed(2)), '1.00'],
        ['g7 run, one audit record per worker call', fmt.range(spread(ms('with Observe')), fmt.ms), fmt.range(spread(ms('with Observe').map((x) => x / CARDS)), (v) => v.toFixed(2)), fmt.range(ratio(ms('with Observe'), ms('without Observe')), fmt.x)],
      ],
    ),
  );
  console.log(`\naudit log of one truck: ${lines} records, ${bytes} bytes (${(bytes / Math.max(lines, 1)).toFixed(0)} bytes a record)`);
}
