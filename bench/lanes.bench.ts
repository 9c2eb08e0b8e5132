// The lane matrix against one runner: a truck of 60 cards in 3 lanes whose work is waiting (`sleep`, as a
// model call is: the runner idles while the service answers), run (a) as one `g7 run --push` on one clone,
// and (b) as the lane matrix: `g7 lanes prepare --push` on a clone, three `g7 lanes run --push` at once on
// three clones (their pushes race on one bare remote and rebase), then `g7 lanes merge --push` on a clone.
// Both start from fresh clones of the same remote, as jobs do. The floor is (a) / 3: three runners with
// nothing to coordinate. Interleaved; the remote is reset before every timed run.
import { mkdir, rm, writeFile, mkdtemp } from 'node:fs/promises';
import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { childMain, interleave, machine, ratio, selfTask, spread, table, fmt, taskResult, RUNS, type Cmd } from './harness.js';

const base = path.resolve('bench/.data/lanes');
const seed = path.join(base, 'seed');
const bare = path.join(base, 'remote.git');
const g7 = path.resolve('bin/g7.mjs');
const pad = (n: number) => String(n).padStart(6, '0');
const CARDS_PER_LANE = 20;
const SLEEP_S = '0.25';
const git = (cwd: string, ...a: string[]) => execFileSync('git', a, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

async function setup(): Promise<void> {
  await rm(base, { recursive: true, force: true });
  const w = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(seed, rel)), { recursive: true });
    await writeFile(path.join(seed, rel), text);
  };
  await w('ssot/factory.yaml', 'library: { root: library }\ngit: { push: true }\n');
  await w('ssot/.gitignore', 'state/run.lock\n*.tmp-*\n');
  const lines: string[] = [];
  // Lanes interleaved in slot order: every lane has cards in every bundle, so every lane pushes at every checkpoint.
  for (let i = 1; i <= CARDS_PER_LANE; i++)
    for (const lane of [1, 2, 3])
      lines.push(JSON.stringify({ id: `L${lane}_TEST_${pad(i)}`, lane, prio: 'A', type: 'TEST', input: `sleep ${SLEEP_S}; printf ok`, output: `out/${lane}-${i}.txt`, accept: 'exit==0', failfast: 'never', cost_hint: 'LOW', deps: [] }));
  await w('ssot/backlog/backlog_20261121.jsonl', lines.join('\n') + '\n');
  git(base, 'init', '-q', '-b', 'main', seed);
  git(seed, 'config', 'user.email', 'bench@example.invalid');
  git(seed, 'config', 'user.name', 'bench');
  execFileSync(process.execPath, [g7, '--ssot', path.join(seed, 'ssot'), 'pack'], { stdio: 'ignore' });
  git(seed, 'add', '-A');
  git(seed, 'commit', '-q', '-m', 'setup');
}

/** The remote as the night starts: the seed's commit, nothing run. */
function resetRemote(): void {
  execFileSync('rm', ['-rf', bare]);
  git(base, 'clone', '-q', '--bare', seed, bare);
}

async function clone(): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(os.tmpdir(), 'g7-bench-lane-')), 'work');
  git(os.tmpdir(), 'clone', '-q', bare, dir);
  git(dir, 'config', 'user.email', 'bench@example.invalid');
  git(dir, 'config', 'user.name', 'bench');
  return dir;
}

function g7At(dir: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [g7, '--ssot', path.join(dir, 'ssot'), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b) => (err += b));
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`g7 ${args.join(' ')} exited ${code}: ${err.slice(-1500)}`))));
  });
}

const isChild = await childMain({
  async setup() {
    await setup();
  },
  async single() {
    await g7At(await clone(), ['run', '--push']);
  },
  async matrix() {
    const t0 = performance.now();
    await g7At(await clone(), ['lanes', 'prepare', '--push']);
    const t1 = performance.now();
    const clones = await Promise.all([1, 2, 3].map(() => clone()));
    const alone: number[] = [];
    await Promise.all(clones.map(async (dir, i) => {
      const s = performance.now();
      await g7At(dir, ['lanes', 'run', '--run', 'run_0001', '--lane', String(i + 1), '--push']);
      alone.push(performance.now() - s);
    }));
    const t2 = performance.now();
    const merger = await clone();
    await g7At(merger, ['lanes', 'merge', '--push']);
    const t3 = performance.now();
    const report = JSON.parse(execFileSync('git', ['-C', merger, 'show', 'HEAD:ssot/runs/run_0001/verify_report.json']).toString()) as { counts: { passed: number } };
    if (report.counts.passed !== 3 * CARDS_PER_LANE) throw new Error(`the merged run has ${report.counts.passed} passed cards`);
    return { prepare: t1 - t0, lanes: t2 - t1, lane: Math.max(...alone), merge: t3 - t2 };
  },
});

if (!isChild) {
  const self = import.meta.url;
  execFileSync(process.execPath, [new URL(self).pathname, '--task', 'setup'], { stdio: 'inherit' });
  const cmds: Cmd[] = [
    { ...selfTask(self, 'one runner: g7 run --push (60 cards in series)', 'single'), before: resetRemote },
    { ...selfTask(self, 'lane matrix: prepare, 3 lanes at once, merge', 'matrix'), before: resetRemote },
  ];
  process.stderr.write(`${RUNS} interleaved rounds…\n`);
  const runs = interleave(cmds, RUNS);
  const [one, matrix] = cmds.map((c) => runs.get(c.name)!.map((r) => r.ms));
  const phases = runs.get(cmds[1]!.name)!.map((r) => taskResult(r) as Record<'prepare' | 'lanes' | 'lane' | 'merge', number>);
  const floor = one!.map((ms) => ms / 3);
  console.log(`\n60 TEST cards (sleep ${SLEEP_S} s each: waiting, as for a model), 3 lanes; every job on a fresh clone of a bare remote; whole processes, ${RUNS} interleaved rounds, median (min-max)\nmachine: ${machine()}\n`);
  console.log(
    table(
      ['contender', 'seconds', 'x floor'],
      [
        ['floor: one runner / 3 (three runners, nothing to coordinate)', fmt.range(spread(floor), fmt.s), '1.00'],
        [cmds[0]!.name, fmt.range(spread(one!), fmt.s), fmt.range(ratio(one!, floor), fmt.x)],
        [cmds[1]!.name, fmt.range(spread(matrix!), fmt.s), fmt.range(ratio(matrix!, floor), fmt.x)],
      ],
    ),
  );
  const phase = (k: 'prepare' | 'lanes' | 'lane' | 'merge') => fmt.range(spread(phases.map((p) => p[k])), fmt.s);
  console.log(`\n${table(['lane matrix, phase', 'seconds'], [['prepare job (clone, g7 lanes prepare --push)', phase('prepare')], ['3 lane jobs at once (clones, g7 lanes run --push)', phase('lanes')], ['  the slowest lane process alone', phase('lane')], ['merge job (clone, g7 lanes merge --push)', phase('merge')]])}`);
  console.log(`sleeping alone is ${(CARDS_PER_LANE * Number(SLEEP_S)).toFixed(2)} s per lane`);
  const speedup = ratio(one!, matrix!);
  console.log(`\nspeed-up of the lane matrix over one runner: ${fmt.range(speedup, fmt.x)} (3 lanes; the ceiling is 3)`);
}
