// Commands against a long history: `g7 status` and a 1-card `g7 run` on a factory with a generated
// 2 M-line journal (half a year of nights, one file per day) and a 1 M-line strike list, each timed as a
// whole process with its peak memory (/usr/bin/time -v), beside the same commands with no history at all.
// Issue 16's goal: ≤ 2 s and ≤ 300 MB each. `--lines N --strikes N` change the history's size.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { table, machine } from './harness.js';
import { writeHistory } from './history.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const LINES = arg('--lines', 2_000_000);
const STRIKES = arg('--strikes', 1_000_000);
const RUNS = arg('--runs', 3);
const g7 = path.resolve('bin/g7.mjs');
const DAY = '20261121';

async function setup(dir: string, history: boolean): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const w = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  };
  await w('ssot/factory.yaml', 'library: { root: library }\n');
  await w('library/.keep', '');
  await w('.gitignore', 'ssot/state/run.lock\n*.tmp-*\nssot/state/journal/2026*.jsonl\n!ssot/state/journal/20261121.jsonl\nssot/library_index/strike_list*.jsonl\n');
  await w(`ssot/backlog/backlog_${DAY}.jsonl`, JSON.stringify({ id: 'L1_TEST_000001', lane: 1, prio: 'A', type: 'TEST', input: 'true', output: 'ssot/out/1.txt', accept: 'exit==0', failfast: 'never', cost_hint: 'LOW', deps: [] }) + '\n');
  // The backlog was compiled from a plan with a `lines:` source: status and run count the strike list's lines.
  await w(`ssot/state/compiled/backlog_${DAY}.json`, JSON.stringify({ plan: `ssot/plans/dayplan_${DAY}.yaml`, sources: { 'ssot/library_index/strike_list.jsonl': STRIKES } }) + '\n');
  if (history) await writeHistory(path.join(dir, 'ssot'), { journalLines: LINES, days: 184, lastDay: DAY, strikeLines: STRIKES });
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'bench@example.invalid');
  git('config', 'user.name', 'bench');
  execFileSync(process.execPath, [g7, '--ssot', path.join(dir, 'ssot'), 'pack'], { stdio: 'ignore' });
  git('add', '-A');
  git('commit', '-q', '-m', 'setup');
}

/** Wall seconds and peak RSS (MB) of one g7 command. */
function timed(dir: string, args: string[]): { s: number; mb: number; code: number } {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, g7, '--ssot', path.join(dir, 'ssot'), ...args], { encoding: 'utf8', env: { ...process.env, G7_OFFLINE: '1' } });
  const s = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+(?:\.\d+)?)$/m.exec(r.stderr);
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return { s: s ? Number(s[1] ?? 0) * 60 + Number(s[2]) : NaN, mb: kb ? Number(kb[1]) / 1024 : NaN, code: r.status ?? -1 };
}

/** Back to the truck not yet run: today's journal, state and evidence go; history stays. */
async function reset(dir: string): Promise<void> {
  const setupCommit = execFileSync('git', ['rev-list', '--max-parents=0', 'HEAD'], { cwd: dir, encoding: 'utf8' }).trim();
  execFileSync('git', ['reset', '-q', '--hard', setupCommit], { cwd: dir });
  execFileSync('git', ['clean', '-qfd', 'ssot/runs', 'ssot/state', 'ssot/out'], { cwd: dir });
}

const base = path.resolve('bench/.data/history');
const dirs = { none: path.join(base, 'none'), long: path.join(base, 'long') };
await setup(dirs.none, false);
await setup(dirs.long, true);
const rows: (string | number)[][] = [];
const got: Record<string, { s: number[]; mb: number[] }> = {};
const note = (k: string, r: { s: number; mb: number; code: number }) => {
  const g = (got[k] ??= { s: [], mb: [] });
  if (r.code !== 0) throw new Error(`${k}: exit ${r.code}`);
  g.s.push(r.s);
  g.mb.push(r.mb);
};
// Interleaved: each round times both factories, status then a 1-card run.
for (let i = 0; i < RUNS; i++)
  for (const [name, dir] of Object.entries(dirs)) {
    note(`status ${name}`, timed(dir, ['status']));
    note(`run ${name}`, timed(dir, ['run']));
    await reset(dir);
  }
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const cmd of ['status', 'run'])
  for (const name of ['none', 'long']) {
    const g = got[`${cmd} ${name}`]!;
    rows.push([cmd === 'run' ? 'g7 run (1 card)' : 'g7 status', name === 'none' ? 'no history' : `${(LINES / 1e6).toFixed(1)} M journal lines, ${(STRIKES / 1e6).toFixed(1)} M strike lines`, med(g.s).toFixed(2), Math.max(...g.mb).toFixed(0)]);
  }
console.log(`history: ${machine()}, ${RUNS} runs each, interleaved; median wall time, peak RSS`);
console.log(table(['command', 'history', 'wall s', 'peak RSS MB'], rows));
