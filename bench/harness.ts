// Benchmark plumbing. Every measured thing is a whole process, started the way a user would start it, and
// the contenders run interleaved (A B C A B C …) so that a machine whose speed drifts treats them alike.
// Times are wall clock from the parent; peak RSS comes from GNU time when the machine has it. Ratios are
// taken run by run (A's k-th run over B's k-th run) and reported as min / median / max.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';

export interface Cmd {
  name: string;
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Runs before each timed run, untimed (e.g. remove a stamp so the next pack is a first pack). */
  before?: () => void;
}

export interface Run {
  ms: number;
  /** Peak resident set of the process, when GNU time is there to say it. */
  rssMB: number | undefined;
  stdout: string;
}

let gnuTime: string | false | undefined;
const GNU_TIME = () => (gnuTime ??= existsSync('/usr/bin/time') && spawnSync('/usr/bin/time', ['-f', '%M', 'true']).status === 0 ? '/usr/bin/time' : false);

/** Whether a command is installed (peers such as jq or openssl may be missing; their rows are left out). */
export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

export function runOnce(cmd: Cmd): Run {
  cmd.before?.();
  const time = GNU_TIME();
  const argv = time ? [time, '-f', '@@rss %M', ...cmd.argv] : cmd.argv;
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 1 << 28, cwd: cmd.cwd, env: { ...process.env, ...cmd.env } });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd.name} exited ${r.status}:\n${r.stderr.slice(-2000)}`);
  const m = /@@rss (\d+)\s*$/.exec(r.stderr);
  return { ms, rssMB: m ? Number(m[1]) / 1024 : undefined, stdout: r.stdout };
}

/** Runs each command `runs` times, interleaved, after one untimed warm-up round. */
export function interleave(cmds: Cmd[], runs: number, warmup = 1): Map<string, Run[]> {
  const out = new Map<string, Run[]>(cmds.map((c) => [c.name, []]));
  for (let k = 0; k < warmup + runs; k++) {
    for (const c of cmds) {
      const r = runOnce(c);
      if (k >= warmup) out.get(c.name)!.push(r);
    }
    process.stderr.write(`  round ${k + 1}/${warmup + runs}${k < warmup ? ' (warm-up)' : ''}\n`);
  }
  return out;
}

export interface Spread {
  min: number;
  med: number;
  max: number;
}

export function spread(xs: number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0]!, med: s[Math.floor((s.length - 1) / 2)]!, max: s.at(-1)! };
}

/** Run-by-run ratio a/b of two series measured interleaved. */
export function ratio(a: number[], b: number[]): Spread {
  return spread(a.map((x, k) => x / b[k]!));
}

export const fmt = {
  s: (ms: number) => (ms / 1000).toFixed(2),
  ms: (ms: number) => ms.toFixed(0),
  x: (r: number) => r.toFixed(2),
  /** `med (min-max)` */
  range: (s: Spread, f: (n: number) => string) => `${f(s.med)} (${f(s.min)}-${f(s.max)})`,
  mb: (r: Run[]) => (r.some((x) => x.rssMB === undefined) ? '-' : Math.max(...r.map((x) => x.rssMB!)).toFixed(0)),
};

/** One line naming the machine and how busy it was: figures from a loaded machine are not final. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const load = os.loadavg()[0]!.toFixed(2);
  return `${cpu}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}, Node ${process.versions.node}; load average ${load}`;
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

/** This benchmark's own bundle as a command: `node <bundle> --task NAME args…`, for measured code that is a
 * function of ours rather than a g7 command. */
export function selfTask(self: string, name: string, task: string, args: string[] = []): Cmd {
  return { name, argv: [process.execPath, fileURLToPath(self), '--task', task, ...args] };
}

/** In a child started by `selfTask`: runs the task and prints what it returns as one JSON line. */
export async function childMain(tasks: Record<string, (args: string[]) => Promise<Record<string, unknown> | void>>): Promise<boolean> {
  const i = process.argv.indexOf('--task');
  if (i < 0) return false;
  const task = tasks[process.argv[i + 1]!];
  if (!task) throw new Error(`unknown task ${process.argv[i + 1]}`);
  const extra = (await task(process.argv.slice(i + 2))) ?? {};
  process.stdout.write(JSON.stringify(extra) + '\n');
  return true;
}

/** The JSON line a `childMain` task printed. */
export function taskResult(r: Run): Record<string, unknown> {
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/** `--full` on the command line (npm run bench:x -- --full): the large sizes. */
export const FULL = process.argv.includes('--full');
export const RUNS = Number(process.env.G7_BENCH_RUNS ?? 5);
