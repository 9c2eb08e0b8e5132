// Benchmark plumbing: each measured task runs in a fresh child process (same bundle, `--task NAME`),
// so that its peak RSS is its own; times are the median of the runs.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Sample {
  ms: number;
  rssMB: number;
  extra?: Record<string, unknown>;
}

/** In a child: run the task, print one JSON line with its time and peak RSS. */
export async function childMain(tasks: Record<string, () => Promise<Record<string, unknown> | void>>): Promise<boolean> {
  const i = process.argv.indexOf('--task');
  if (i < 0) return false;
  const task = tasks[process.argv[i + 1]!];
  if (!task) throw new Error(`unknown task ${process.argv[i + 1]}`);
  const t0 = performance.now();
  const extra = (await task()) ?? {};
  const ms = performance.now() - t0;
  process.stdout.write(JSON.stringify({ ms, rssMB: process.resourceUsage().maxRSS / 1024, extra }) + '\n');
  return true;
}

/** In the parent: run a task `runs` times in child processes; the median time and the largest RSS. */
export function measure(self: string, task: string, runs: number, args: string[] = []): Sample {
  const samples: Sample[] = [];
  for (let k = 0; k < runs; k++) {
    const r = spawnSync(process.execPath, [fileURLToPath(self), '--task', task, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`task ${task} failed:\n${r.stderr}`);
    samples.push(JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Sample);
  }
  samples.sort((a, b) => a.ms - b.ms);
  const mid = samples[Math.floor(samples.length / 2)]!;
  return { ms: mid.ms, rssMB: Math.max(...samples.map((s) => s.rssMB)), extra: mid.extra ?? {} };
}

/** A command-line peer (jq, sha256sum…): median wall time of `runs`, or undefined when it is not installed. */
export function measureCommand(cmd: string, args: string[], runs: number): Sample | undefined {
  const probe = spawnSync('sh', ['-c', `command -v ${cmd}`]);
  if (probe.status !== 0) return undefined;
  const times: number[] = [];
  let rss = 0;
  for (let k = 0; k < runs; k++) {
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const m = /([\d.]+) (\d+)\s*$/.exec(r.stderr.trim());
    if (r.status !== 0 || !m) return undefined;
    times.push(Number(m[1]) * 1000);
    rss = Math.max(rss, Number(m[2]) / 1024);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)]!, rssMB: rss };
}

export function table(headers: string[], rows: (string | number)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((v, c) => v.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}
