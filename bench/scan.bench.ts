// SCAN against the strongest peers, on a mixed library generated from a seed (10 KB-5 MB files, Korean and
// English text, CRLF, lines up to 1.5 MB): SCAN as a day plan runs it (cards of 40 files, `g7 plan compile` and
// `g7 run --no-commit` through the built binary) and SCAN of the whole library as one card in-process, against
// `openssl dgst -sha256` (one process) and `sha256sum` (one process, and two through `xargs -P2`); an
// unchanged rescan against `find -printf` of the sizes and mtimes, and SCAN's peak memory at two library sizes
// (it must not grow with the library). Every contender is a whole process; they run interleaved.
// G7_BENCH_SCAN_MB sets the library (default 300 MiB); `--full`: the memory check at 1 GiB vs 4 GiB.
import { rm, readFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { layoutFor } from '../src/ssot/layout.js';
import { defaultConfig } from '../src/ssot/config.js';
import { scan } from '../src/executors/scan.js';
import type { ExecContext } from '../src/executors/types.js';
import { writeCorpus, type CorpusFile } from './corpus.js';
import { scanRepo, scanRunCmd, cardsMs } from './scan-run.js';
import { childMain, interleave, machine, ratio, selfTask, spread, table, fmt, have, runOnce, taskResult, FULL, RUNS, type Cmd, type Run } from './harness.js';

const MiB = 2 ** 20;
const base = path.resolve('bench/.data/scan');
const SEED = 12;
const MAIN_MIB = Number(process.env.G7_BENCH_SCAN_MB ?? 300);
const PER_CARD = 40;
const SMALL_MIB = FULL ? 1024 : 100;
const LARGE_MIB = FULL ? 4096 : MAIN_MIB;

const libDir = (mib: number) => path.join(base, `library-${mib}`);

async function runScan(lib: string, out: string): Promise<Record<string, unknown>> {
  const repo = path.dirname(lib);
  const config = { ...defaultConfig(), libraryRoot: path.basename(lib) };
  const ctx = { layout: layoutFor(path.join(repo, 'ssot')), config, card: { id: 'L1_SCAN_000001', lane: 1, prio: 'A', type: 'SCAN', input: ['.'], output: path.relative(repo, out), accept: 'exists:x', failfast: 'never', cost_hint: 'LOW', deps: [] } } as unknown as ExecContext;
  const t0 = performance.now();
  const r = await scan(ctx);
  return { ms: performance.now() - t0, stdout: r.stdout.trim() };
}

const isChild = await childMain({
  // A full scan: the previous index is removed first, so every byte is read and hashed.
  async scan([lib, out]) {
    await rm(out!, { force: true });
    return runScan(lib!, out!);
  },
  // A rescan over an index that is complete and current.
  rescan: ([lib, out]) => runScan(lib!, out!),
});

if (!isChild) {
  const sizes = [...new Set([SMALL_MIB, MAIN_MIB, LARGE_MIB])];
  const corpora = new Map<number, CorpusFile[]>();
  for (const mib of sizes) {
    process.stderr.write(`library of ${mib} MiB (seed ${SEED})…\n`);
    corpora.set(mib, await writeCorpus(libDir(mib), { seed: SEED, bytes: mib * MiB }));
  }
  const lib = libDir(MAIN_MIB);
  const files = corpora.get(MAIN_MIB)!;
  const abs = files.map((f) => path.join(lib, f.rel));
  const bytes = files.reduce((a, f) => a + f.size, 0);
  spawnSync('cat', abs, { stdio: ['ignore', 'ignore', 'ignore'] }); // page cache warm for everyone

  const self = import.meta.url;
  const index = path.join(base, 'index.jsonl');
  const rescanIndex = path.join(base, 'index-rescan.jsonl');
  runOnce(selfTask(self, 'prepare', 'scan', [lib, rescanIndex]));
  const { repo, cards } = await scanRepo(lib, PER_CARD);
  const g7: Cmd = selfTask(self, 'g7 SCAN', 'scan', [lib, index]);
  const full: Cmd[] = [scanRunCmd('g7 run', repo), g7];
  if (have('openssl')) full.push({ name: 'openssl', argv: ['openssl', 'dgst', '-sha256', ...abs] });
  if (have('sha256sum')) {
    full.push({ name: 'sha256sum', argv: ['sha256sum', ...abs] });
    full.push({ name: 'sha256sum -P2', argv: ['sh', '-c', `find "${lib}" -type f ! -name '.*' -print0 | xargs -0 -P2 -n 64 sha256sum`] });
  }
  const rescan: Cmd[] = [
    selfTask(self, 'g7 rescan', 'rescan', [lib, rescanIndex]),
    { name: 'find', argv: ['find', lib, '-type', 'f', '!', '-name', '.*', '-printf', '%s %T@\n'] },
    { name: 'node', argv: [process.execPath, '-e', ''] },
  ];
  process.stderr.write(`full scans, ${RUNS} interleaved rounds…\n`);
  const runs = interleave([...full, ...rescan], RUNS);
  const ms = (name: string) => runs.get(name)!.map((r) => r.ms);
  const inner = (name: string) => runs.get(name)!.map((r) => Number(taskResult(r).ms));

  const mbps = (t: number) => (bytes / 1e6 / (t / 1000)).toFixed(0);
  const openssl = runs.has('openssl') ? ms('openssl') : undefined;
  const cardSums = runs.get('g7 run')!.map((r) => cardsMs(r, cards));
  const row = (label: string, series: number[], rss: string) => {
    const t = spread(series);
    const vsOpenssl = openssl ? fmt.range(ratio(openssl, series), fmt.x) : '-';
    return [label, fmt.range(t, fmt.s), `${mbps(t.med)} (${mbps(t.max)}-${mbps(t.min)})`, vsOpenssl, rss];
  };
  const label: Record<string, string> = {
    'g7 run': `g7 run --no-commit: ${cards} SCAN cards of ${PER_CARD} files, whole process`,
    'g7 SCAN': 'g7 SCAN in-process: the whole library as one card',
  };
  const rows = full.map((c) => row(label[c.name] ?? `${c.name} (peer: hashes every byte)`, ms(c.name), fmt.mb(runs.get(c.name)!)));
  rows.splice(1, 0, row(`g7 run --no-commit: the same, sum of the cards' own durations`, cardSums, '-'));
  const head = `library: ${(bytes / MiB).toFixed(0)} MiB in ${files.length} files (seed ${SEED}), page cache warm for every contender; ${RUNS} interleaved rounds, median (min-max)\nday plan: one SCAN entry, ${cards} cards of ${PER_CARD} files in lane 1 (one lane: no parallel peer)\nmachine: ${machine()}\n`;
  console.log(`\n${head}`);
  console.log(table(['full scan', 'seconds', 'MB/s', 'throughput x openssl', 'peak RSS MB'], rows));

  const g7Rescan = spread(inner('g7 rescan'));
  const find = ms('find');
  const nodeStart = spread(ms('node'));
  console.log('');
  console.log(
    table(
      ['unchanged rescan', 'ms', 'x find'],
      [
        ['find -printf "%s %T@" (floor: list + stat every file)', fmt.range(spread(find), fmt.ms), '1.00'],
        ['g7 SCAN again, nothing changed: inside the process', fmt.range(g7Rescan, fmt.ms), fmt.range(ratio(inner('g7 rescan'), find), fmt.x)],
        ['g7 SCAN again, nothing changed: whole process', fmt.range(spread(ms('g7 rescan')), fmt.ms), fmt.range(ratio(ms('g7 rescan'), find), fmt.x)],
        ['node -e "" (start-up of any Node process)', fmt.range(nodeStart, fmt.ms), fmt.range(ratio(ms('node'), find), fmt.x)],
      ],
    ),
  );

  // Memory: the same full scan at two library sizes, each once more, after the timed rounds.
  const mem = (mib: number): Run[] => [0, 1].map(() => runOnce(selfTask(self, `mem ${mib}`, 'scan', [libDir(mib), path.join(base, `index-${mib}.jsonl`)])));
  const small = mem(SMALL_MIB);
  const large = mem(LARGE_MIB);
  console.log('');
  console.log(table(['library', 'g7 SCAN peak RSS MB', 'seconds'], [[`${SMALL_MIB} MiB`, fmt.mb(small), fmt.range(spread(small.map((r) => r.ms)), fmt.s)], [`${LARGE_MIB} MiB`, fmt.mb(large), fmt.range(spread(large.map((r) => r.ms)), fmt.s)]]));

  const med = (name: string) => (openssl ? ratio(openssl, ms(name)).med : NaN);
  const goals: string[] = [];
  if (openssl) {
    const run = ratio(openssl, cardSums).med;
    goals.push(`g7 run, cards of ${PER_CARD} (sum of card durations) >= 0.8x openssl: ${fmt.x(run)} → ${run >= 0.8 ? 'met' : 'NOT met'}`);
    goals.push(`g7 run, whole process >= 0.8x openssl: ${fmt.x(med('g7 run'))} → ${med('g7 run') >= 0.8 ? 'met' : 'NOT met'}`);
    goals.push(`in-process SCAN, one card >= 0.8x openssl: ${fmt.x(med('g7 SCAN'))} → ${med('g7 SCAN') >= 0.8 ? 'met' : 'NOT met'}`);
  }
  if (runs.has('sha256sum -P2')) {
    const p2 = ratio(ms('sha256sum -P2'), ms('g7 SCAN')).med;
    goals.push(`throughput >= sha256sum -P2: ${fmt.x(p2)}x → ${p2 >= 1 ? 'met' : 'NOT met'}`);
  }
  const rescanX = ratio(inner('g7 rescan'), find).med;
  goals.push(`unchanged rescan <= 3x find (inside the process): ${fmt.x(rescanX)} → ${rescanX <= 3 ? 'met' : 'NOT met'}`);
  const flat = small[0]!.rssMB !== undefined ? Number(fmt.mb(large)) - Number(fmt.mb(small)) : NaN;
  if (!Number.isNaN(flat)) goals.push(`memory flat (${SMALL_MIB} → ${LARGE_MIB} MiB): ${flat >= 0 ? '+' : ''}${flat} MB → ${Math.abs(flat) <= 32 ? 'met' : 'NOT met'}`);
  console.log(`\n${goals.join('\n')}`);
  // The index both wrote must be the same bytes whichever run wrote it: a sanity check of the harness.
  const a = await readFile(index, 'utf8');
  if (a !== (await readFile(rescanIndex, 'utf8'))) throw new Error('the full scan and the rescan wrote different indexes');
  console.log(`g7: ${String(taskResult(runs.get('g7 SCAN')!.at(-1)!).stdout)}`);
}
