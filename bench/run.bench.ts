// The run loop's own cost: `g7 run` of a 120-card truck of cheap TAG cards (the offline worker's rules: no
// model, no waiting) as a whole process, against a floor loop that does the durable I/O g7 must do for that
// truck — as many files created and bytes written, fsyncs of files, renames, folder fsyncs and folders made
// as an strace of the same run counted — and nothing else. Interleaved. Then what a truck adds to the
// repository. The run loop's hot path is issue 7's ground; this is its yardstick.
import { mkdir, rm, open, rename } from 'node:fs/promises';
import { execFileSync, spawnSync } from 'node:child_process';
import { statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { childMain, interleave, machine, ratio, selfTask, spread, table, fmt, have, runOnce, taskResult, RUNS, type Cmd } from './harness.js';
import { setupTagTruck } from './tag-truck.js';

const base = path.resolve('bench/.data/run');
const g7 = path.resolve('bin/g7.mjs');

const setup = (dir: string) => setupTagTruck(dir, { text: (i) => `Card ${i}: a related-party loan of KRW ${i} billion.\n` });

interface IoCounts {
  created: number;
  bytes: number;
  fsyncFiles: number;
  renames: number;
  fsyncDirs: number;
  mkdirs: number;
}

/** strace splits a call that another thread interrupts into `… <unfinished ...>` and `<pid> <... name resumed>…`:
 * one line again, so that calls made side by side are counted like the others. */
function joinResumed(lines: string[]): string[] {
  const open = new Map<string, string>();
  const out: string[] = [];
  for (const line of lines) {
    const pid = /^(\d+)\s/.exec(line)?.[1] ?? '';
    if (line.endsWith(' <unfinished ...>')) open.set(pid, line.slice(0, -' <unfinished ...>'.length));
    else if (/^\d+\s+<\.\.\. \w+ resumed>/.test(line)) {
      out.push((open.get(pid) ?? '') + line.replace(/^\d+\s+<\.\.\. \w+ resumed>/, '').replace(/^\)\s+=/, ') ='));
      open.delete(pid);
    } else out.push(line);
  }
  return out;
}

/** Counts the durable I/O of one `g7 run` from an strace of it (its own process and any it starts). */
function countIo(dir: string, args: string[]): IoCounts {
  const log = path.join(base, 'strace.txt');
  const r = spawnSync('strace', ['-f', '-y', '-qq', '-o', log, '-e', 'trace=openat,write,pwrite64,fsync,fdatasync,rename,renameat,renameat2,mkdir,mkdirat', process.execPath, g7, '--ssot', path.join(dir, 'ssot'), 'run', ...args], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error(`g7 run under strace exited ${r.status}`);
  const c: IoCounts = { created: 0, bytes: 0, fsyncFiles: 0, renames: 0, fsyncDirs: 0, mkdirs: 0 };
  const isDir = (p: string) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false; // a temp file since renamed away
    }
  };
  for (const line of joinResumed(readFileSync(log, 'utf8').split('\n'))) {
    let m: RegExpExecArray | null;
    if ((m = /\bopenat\(.*O_CREAT.*\) = \d+</.exec(line))) c.created++;
    else if ((m = /\b(?:write|pwrite64)\((\d+)<([^>]*)>.*\) = (\d+)$/.exec(line)) && m[1] !== '1' && m[1] !== '2' && !m[2]!.startsWith('pipe:') && !m[2]!.startsWith('socket:') && !m[2]!.startsWith('/dev/')) c.bytes += Number(m[3]);
    else if ((m = /\b(?:fsync|fdatasync)\(\d+<([^>]*)>\) = 0/.exec(line))) isDir(m[1]!) ? c.fsyncDirs++ : c.fsyncFiles++;
    else if (/\brename(?:at2?)?\(.*\) = 0/.test(line)) c.renames++;
    else if (/\bmkdir(?:at)?\(.*\) = 0/.test(line)) c.mkdirs++;
  }
  return c;
}

const isChild = await childMain({
  async setup([dir]) {
    await setup(dir!);
  },
  // The floor: the same count of each durable operation, on files of the run's average size.
  async floor([json]) {
    const c = JSON.parse(json!) as IoCounts;
    const dir = path.join(base, 'floor');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const body = Buffer.alloc(Math.max(1, Math.round(c.bytes / Math.max(c.created, 1))), 120);
    for (let k = 0; k < c.mkdirs; k++) await mkdir(path.join(dir, `d${k}`));
    let renames = 0;
    let dirSyncs = 0;
    for (let i = 0; i < c.created; i++) {
      const fh = await open(path.join(dir, `f${i}`), 'w');
      await fh.write(body);
      if (i < c.fsyncFiles) await fh.sync();
      await fh.close();
      if (renames < c.renames) {
        await rename(path.join(dir, `f${i}`), path.join(dir, `r${i}`));
        renames++;
      }
      if (dirSyncs < c.fsyncDirs) {
        const d = await open(dir, 'r');
        await d.sync();
        await d.close();
        dirSyncs++;
      }
    }
    return {};
  },
  async growth([dir]) {
    const packed = () => {
      execFileSync('git', ['gc', '-q', '--prune=now'], { cwd: dir });
      const out = execFileSync('git', ['count-objects', '-v'], { cwd: dir, encoding: 'utf8' });
      return Number(/size-pack: (\d+)/.exec(out)![1]) * 1024 + Number(/^size: (\d+)/m.exec(out)![1]) * 1024;
    };
    const before = packed();
    execFileSync(process.execPath, [g7, '--ssot', path.join(dir!, 'ssot'), 'run'], { stdio: 'ignore' });
    const after = packed();
    const commits = Number(execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: dir, encoding: 'utf8' })) - 1;
    const evidence = Number(execFileSync('du', ['-sb', path.join(dir!, 'ssot/runs')], { encoding: 'utf8' }).split('\t')[0]);
    return { growth: after - before, commits, evidence };
  },
});

if (!isChild) {
  await mkdir(base, { recursive: true });
  const self = import.meta.url;
  const dirOf = (name: string) => path.join(base, name);
  const prepare = (name: string) => () => void runOnce(selfTask(self, 'setup', 'setup', [dirOf(name)]));
  const truck = (name: string, args: string[]): Cmd => ({ name, argv: [process.execPath, g7, '--ssot', path.join(dirOf(name), 'ssot'), 'run', ...args], before: prepare(name) });
  if (!have('strace')) throw new Error('strace is needed to count what the run does, for the floor to match it (apt-get install strace)');
  prepare('counted')();
  const io = countIo(dirOf('counted'), ['--no-commit']);
  const cmds: Cmd[] = [selfTask(self, 'floor', 'floor', [JSON.stringify(io)]), truck('g7', ['--no-commit']), truck('g7 commit', [])];
  process.stderr.write(`${RUNS} interleaved rounds…\n`);
  const runs = interleave(cmds, RUNS);
  const ms = (n: string) => runs.get(n)!.map((r) => r.ms);
  const row = (label: string, n: string) => [label, fmt.range(spread(ms(n)), fmt.ms), fmt.range(spread(ms(n).map((x) => x / 120)), (v) => v.toFixed(2)), fmt.range(ratio(ms(n), ms('floor')), fmt.x)];
  console.log(`\n120 TAG cards (offline rules, no model); whole processes, ${RUNS} interleaved rounds, median (min-max)\nmachine: ${machine()}\n`);
  console.log(`counted by strace in one g7 run (--no-commit): ${io.created} files created, ${io.bytes} bytes written, ${io.fsyncFiles} file fsyncs, ${io.renames} renames, ${io.fsyncDirs} folder fsyncs, ${io.mkdirs} folders made\n`);
  console.log(
    table(
      ['task', 'total ms', 'per card ms', 'x floor'],
      [
        ['floor: the same creates, bytes, fsyncs, renames, folder fsyncs and mkdirs', ...row('', 'floor').slice(1)],
        ['g7 run --no-commit: 120 cards, evidence sealed per bundle', ...row('', 'g7').slice(1)],
        ['g7 run: the same, with a git commit per bundle and at the stop', ...row('', 'g7 commit').slice(1)],
      ],
    ),
  );
  const x = ratio(ms('g7'), ms('floor')).med;
  console.log(`\ngoal: run loop within 2x of the matched floor (no commit) → ${fmt.x(x)}: ${x <= 2 ? 'met' : 'NOT met'}`);
  prepare('growth')();
  const g = taskResult(runOnce(selfTask(self, 'growth', 'growth', [dirOf('growth')])));
  console.log(`\n${table(['repository growth per 120-card truck', 'value'], [['evidence pack on disk (runs/), bytes', Number(g.evidence)], ['.git growth after git gc, bytes', Number(g.growth)], ['commits the truck added', Number(g.commits)]])}`);
}
