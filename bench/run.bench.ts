// (b) Orchestration overhead per card: a 120-card truck of TAG cards with an instant worker, against a
// bare loop that writes and fsyncs as many files as the run wrote. (c) Repository growth per 120-card
// truck: what the commits of one truck add to .git, packed.
import { mkdir, writeFile, rm, readdir, open } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { main } from '../src/cli/main.js';
import type { Worker } from '../src/worker/worker.js';
import { tagByRules } from '../src/worker/offline.js';
import { childMain, measure, table } from './harness.js';

const RUNS = Number(process.env.G7_BENCH_RUNS ?? 3);
const base = path.resolve('bench/.data/run');
const pad = (n: number) => String(n).padStart(6, '0');

const instant: Worker = {
  provider: 'instant',
  async call(req) {
    if (req.task.kind !== 'TAG') throw new Error('TAG only');
    return { json: tagByRules(req.task.chunk.text, req.task.taxonomy), provider: 'instant', model: 'none', tokens: { in: 0, out: 0 }, cost_usd: 0, finish_reason: 'STOP', duration_ms: 0 };
  },
};

async function setup(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const w = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  };
  await w('ssot/factory.yaml', 'library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\n');
  await w('ssot/.gitignore', 'state/run.lock\n*.tmp-*\n');
  await w('ssot/rules/tags.yaml', 'tags:\n  - { name: risk, keywords: [related-party], strike: true }\n');
  const lines: string[] = [];
  for (let i = 1; i <= 120; i++) {
    const text = `Card ${i}: a related-party loan of KRW ${i} billion.\n`;
    await w(`library/d${i}.md`, text);
    await w(`ssot/library_index/scan/${i}.jsonl`, JSON.stringify({ path: `d${i}.md`, offset: 0, length: Buffer.byteLength(text), sha256: '0'.repeat(64), size: Buffer.byteLength(text), mtime_ms: 0 }) + '\n');
    lines.push(JSON.stringify({ id: `L1_TAG_${pad(i)}`, lane: 1, prio: 'A', type: 'TAG', input: `ssot/library_index/scan/${i}.jsonl`, output: `ssot/library_index/tags/${i}.jsonl`, accept: `json:ssot/library_index/tags/${i}.jsonl`, failfast: 'never', cost_hint: 'LOW', deps: [] }));
  }
  await w('ssot/backlog/backlog_20261121.jsonl', lines.join('\n') + '\n');
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'bench@example.invalid');
  git('config', 'user.name', 'bench');
  const io = { out: () => {}, err: (s: string) => process.stderr.write(s + '\n') };
  if ((await main(['--ssot', path.join(dir, 'ssot'), 'pack'], io)) !== 0) throw new Error('pack failed');
  git('add', '-A');
  git('commit', '-q', '-m', 'setup');
}

async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) n += e.isDirectory() ? await countFiles(path.join(dir, e.name)) : 1;
  return n;
}

async function packedSize(dir: string): Promise<number> {
  execFileSync('git', ['gc', '-q', '--prune=now'], { cwd: dir });
  const out = execFileSync('git', ['count-objects', '-v'], { cwd: dir, encoding: 'utf8' });
  return Number(/size-pack: (\d+)/.exec(out)![1]) * 1024 + Number(/^size: (\d+)/m.exec(out)![1]) * 1024;
}

const isChild = await childMain({
  async truck() {
    const dir = path.join(base, `t-${process.argv.at(-1)}`);
    await setup(dir);
    const io = { out: () => {}, err: (s: string) => process.stderr.write(s + '\n') };
    const commit = process.argv.includes('--commit');
    const packedBefore = commit ? await packedSize(dir) : 0;
    const t0 = performance.now();
    const code = await main(['--ssot', path.join(dir, 'ssot'), 'run', ...(commit ? [] : ['--no-commit'])], io, instant);
    const ms = performance.now() - t0;
    if (code !== 0) throw new Error(`run exited ${code}`);
    const growth = commit ? (await packedSize(dir)) - packedBefore : 0;
    const commits = commit ? Number(execFileSync('git', ['rev-list', '--count', 'HEAD'], { cwd: dir, encoding: 'utf8' })) - 1 : 0;
    // Files the run wrote: its evidence pack, the outputs, the cached responses.
    const files = (await countFiles(path.join(dir, 'ssot/runs'))) + 120 + (await countFiles(path.join(dir, 'ssot/state/cache')));
    return { run_ms: ms, files, dir, growth, commits };
  },
  async fsyncLoop() {
    const n = Number(process.argv.at(-1));
    const dir = path.join(base, 'fsync');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const body = Buffer.alloc(600, 120);
    for (let i = 0; i < n; i++) {
      const fh = await open(path.join(dir, `f${i}`), 'w');
      await fh.writeFile(body);
      await fh.sync();
      await fh.close();
    }
    return {};
  },
});

if (!isChild) {
  await mkdir(base, { recursive: true });
  const runs = Array.from({ length: RUNS }, (_, k) => measure(import.meta.url, 'truck', 1, [String(k)]));
  runs.sort((a, b) => Number(a.extra!.run_ms) - Number(b.extra!.run_ms));
  const mid = runs[Math.floor(RUNS / 2)]!;
  const files = Number(mid.extra!.files);
  const floor = measure(import.meta.url, 'fsyncLoop', RUNS, [String(files)]);
  const committed = measure(import.meta.url, 'truck', 1, ['commit', '--commit']);
  const dir = String(committed.extra!.dir);
  const runMs = Number(mid.extra!.run_ms);
  const perCard = runMs / 120;
  console.log(`\n120 TAG cards, instant worker, no commits; median of ${RUNS}; Node ${process.versions.node}\n`);
  console.log(
    table(
      ['task', 'total ms', 'per card ms', 'x floor'],
      [
        [`floor: write + fsync ${files} files (as many as the run wrote)`, floor.ms.toFixed(0), (floor.ms / 120).toFixed(2), '1.00'],
        ['g7 run: 120 cards, evidence sealed per bundle', runMs.toFixed(0), perCard.toFixed(2), (runMs / floor.ms).toFixed(2)],
        ['g7 run with a git commit per bundle and at the stop', Number(committed.extra!.run_ms).toFixed(0), (Number(committed.extra!.run_ms) / 120).toFixed(2), (Number(committed.extra!.run_ms) / floor.ms).toFixed(2)],
      ],
    ),
  );
  const evidenceBytes = Number(execFileSync('du', ['-sb', path.join(dir, 'ssot/runs')], { encoding: 'utf8' }).split('\t')[0]);
  console.log(`\n${table(['repository growth per 120-card truck', 'value'], [['evidence pack on disk (runs/run_0001), bytes', evidenceBytes], ['.git growth after git gc, bytes', Number(committed.extra!.growth)], ['commits the truck added', Number(committed.extra!.commits)]])}`);
}
