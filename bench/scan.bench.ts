// SCAN throughput against sha256sum over the same files, in the same run, and SCAN's peak memory at two
// corpus sizes (it must not grow with the library). SCAN hashes every byte once (per chunk) and also
// finds line boundaries and writes the index; sha256sum only hashes.
import { mkdir, writeFile, rm, stat } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { layoutFor } from '../src/ssot/layout.js';
import { defaultConfig } from '../src/ssot/config.js';
import { scan } from '../src/executors/scan.js';
import type { ExecContext } from '../src/executors/types.js';
import { childMain, measure, table } from './harness.js';

const GB = Number(process.env.G7_BENCH_SCAN_MB ?? 1024);
const FILE_MB = 8;
const RUNS = Number(process.env.G7_BENCH_RUNS ?? 3);
const root = path.resolve('bench/.data/scan');
const lib = path.join(root, 'library');

function files(mb: number): string[] {
  return Array.from({ length: Math.ceil(mb / FILE_MB) }, (_, i) => `f${String(i).padStart(5, '0')}.txt`);
}

async function generate(): Promise<void> {
  await rm(root, { recursive: true, force: true });
  await mkdir(lib, { recursive: true });
  const line = (i: number) => `${i.toString(36)} Revenue for the period was KRW ${i % 997} billion, up ${i % 31}% on the quarter; note ${i}.\n`;
  const block = Array.from({ length: 20000 }, (_, i) => line(i)).join('');
  const body = Buffer.from(block.repeat(Math.ceil((FILE_MB << 20) / block.length))).subarray(0, FILE_MB << 20);
  for (const f of files(GB)) await writeFile(path.join(lib, f), body);
}

async function runScan(mb: number): Promise<Record<string, unknown>> {
  const layout = layoutFor(path.join(root, 'ssot'));
  const config = { ...defaultConfig(), libraryRoot: 'library' };
  const out = `ssot/library_index/scan-${mb}-${process.pid}.jsonl`;
  await rm(path.join(root, out), { force: true });
  const ctx = { layout, config, card: { id: 'L1_SCAN_000001', lane: 1, prio: 'A', type: 'SCAN', input: files(mb), output: out, accept: 'exists:x', failfast: 'never', cost_hint: 'LOW', deps: [] } } as unknown as ExecContext;
  const r = await scan(ctx);
  const again = performance.now();
  await scan(ctx); // unchanged: every file's lines reused
  return { stdout: r.stdout, incremental_ms: performance.now() - again };
}

const isChild = await childMain({
  scan256: () => runScan(256),
  scanAll: () => runScan(GB),
});

if (!isChild) {
  console.log(`generating a ${GB} MB corpus of ${FILE_MB} MB text files…`);
  await generate();
  const all = files(GB).map((f) => path.join(lib, f));
  const bytes = (await Promise.all(all.map((f) => stat(f)))).reduce((a, s) => a + s.size, 0);
  spawnSync('cat', all, { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache for both
  const sha: number[] = [];
  const g7: { ms: number; rssMB: number; extra?: Record<string, unknown> }[] = [];
  for (let k = 0; k < RUNS; k++) {
    const t0 = performance.now();
    const r = spawnSync('sha256sum', all, { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('sha256sum failed');
    sha.push(performance.now() - t0);
    g7.push(measure(import.meta.url, 'scanAll', 1));
  }
  sha.sort((a, b) => a - b);
  g7.sort((a, b) => a.ms - b.ms);
  const shaMs = sha[Math.floor(RUNS / 2)]!;
  const g7All = g7[Math.floor(RUNS / 2)]!;
  const g7Small = measure(import.meta.url, 'scan256', 1);
  const mbps = (ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(0);
  console.log(`\ncorpus: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${all.length} files; page cache warm; median of ${RUNS}; Node ${process.versions.node}\n`);
  console.log(
    table(
      ['task', 'seconds', 'MB/s', 'x sha256sum', 'peak RSS MB'],
      [
        ['sha256sum (peer: hashes every byte)', (shaMs / 1000).toFixed(2), mbps(shaMs), '1.00', '-'],
        ['g7 SCAN: chunk at lines + sha256 per chunk + index', (g7All.ms / 1000).toFixed(2), mbps(g7All.ms), (shaMs / g7All.ms).toFixed(2), g7All.rssMB.toFixed(0)],
        ['g7 SCAN again, nothing changed (incremental)', (Number(g7All.extra?.incremental_ms) / 1000).toFixed(2), '-', '-', '-'],
      ],
    ),
  );
  console.log(`\n${table(['corpus', 'g7 SCAN peak RSS MB'], [['256 MiB', g7Small.rssMB.toFixed(0)], [`${(bytes / 2 ** 20).toFixed(0)} MiB`, g7All.rssMB.toFixed(0)]])}`);
  console.log(`\ngoal: throughput at least 0.8x sha256sum → ${shaMs / g7All.ms >= 0.8 ? 'met' : 'NOT met'}; memory flat across corpus sizes → ${Math.abs(g7All.rssMB - g7Small.rssMB) < 32 ? 'met' : 'NOT met'}`);
  console.log(String(g7All.extra?.stdout ?? '').trim());
}
