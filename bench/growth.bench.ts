// What a year of nights costs git and every command. (a) Repository growth: a generated English/Korean
// library (bench/corpus.ts) outside the repository, the offline worker, SCAN + TAG at `per_card: 3`, `g7 run`
// until nothing is left to run; then the packed .git after `git gc`, the largest committed file, main's growth
// per night (per truck), and both extrapolated linearly to a 12 GB library. (b) Per-truck cost with history:
// factories with N nights behind them (each a real 1-card night: a backlog day, `g7 run`), then a 1-card
// `g7 run`, `g7 status` and `g7 morning` on each, interleaved. The goals of issue 16 are printed beside.
// Sizes: quick by default (4 / 16 MB; 10 / 40 / 120 nights); `--full`: 20 / 100 / 400 MB and 10 / 300 / 1,000
// nights; G7_GROWTH_MB="20,100" and G7_GROWTH_NIGHTS="10,300" choose others.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { writeCorpus } from './corpus.js';
import { interleave, machine, spread, table, fmt, FULL, RUNS, type Cmd } from './harness.js';

const base = path.resolve('bench/.data/growth');
const G7 = path.resolve('bin/g7.mjs');
const MB = 1_000_000;
const sizes = (process.env.G7_GROWTH_MB ?? (FULL ? '20,100,400' : '4,16')).split(',').map(Number);
const nights = (process.env.G7_GROWTH_NIGHTS ?? (FULL ? '10,300,1000' : '10,40,120')).split(',').map(Number);
const TWELVE_GB = 12_000 * MB;
const env = { GEMINI_API_KEY: '', GIT_AUTHOR_NAME: 'bench', GIT_AUTHOR_EMAIL: 'bench@example.invalid', GIT_COMMITTER_NAME: 'bench', GIT_COMMITTER_EMAIL: 'bench@example.invalid' };

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...env } });
const g7 = (cwd: string, ...args: string[]) => spawnSync(process.execPath, [G7, ...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env } });

const FACTORY = 'library: { root: ../library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\n';
const TAGS = 'tags:\n  - { name: risk, keywords: [related-party, 특수관계인, lawsuit, 소송], strike: true }\n  - { name: money, keywords: [dividend, 배당, capital, 유상증자] }\n';

async function newRepo(dir: string, files: Record<string, string>): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  for (const [rel, text] of Object.entries({ 'ssot/factory.yaml': FACTORY, 'ssot/rules/tags.yaml': TAGS, 'ssot/rules/sensors.yaml': 'sensors:\n  - { id: S01, name: risk }\n', 'ssot/.gitignore': 'state/run.lock\n*.tmp-*\nstore/\n', ...files })) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  }
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'factory');
}

/** (a) One library size: scanned and tagged to the end; what git holds afterwards. */
async function growth(mb: number): Promise<(string | number)[]> {
  const dir = path.join(base, `lib-${mb}`);
  const files = await writeCorpus(path.join(dir, 'library'), { seed: 16, bytes: mb * MB, minFile: 5_000, maxFile: Math.min(2_000_000, mb * MB / 8) });
  const repo = path.join(dir, 'repo');
  const plan = `date: 2026-11-21\ngoal: scan and tag the library\nentries:\n  - { name: scan, lane: 1, prio: A, type: SCAN, each: { glob: "**/*.txt", per_card: 3 }, output: "ssot/library_index/scan/{n}.jsonl", accept: "lines>=1:{output}" }\n  - { name: tag, lane: 2, prio: B, type: TAG, after: { entry: scan, mode: each }, input: "ssot/library_index/scan/{n}.jsonl", output: "ssot/library_index/tags/{n}.jsonl", accept: "json:{output}" }\n`;
  await newRepo(repo, { 'ssot/plans/dayplan_20261121.yaml': plan });
  const c = g7(repo, 'plan', 'compile', 'ssot/plans/dayplan_20261121.yaml');
  if (c.status !== 0) throw new Error(`plan compile: ${c.stderr}`);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'plan');
  const before = git(repo, 'rev-list', '--count', 'HEAD').trim();
  let trucks = 0;
  for (;;) {
    const r = g7(repo, 'run');
    if (r.status !== 0) throw new Error(`g7 run exited ${r.status}: ${r.stderr.slice(-500)}`);
    if (/nothing to run/.test(r.stdout)) break;
    trucks++;
  }
  git(repo, 'gc', '-q', '--aggressive', '--prune=now');
  const pack = Number(/size-pack: (\d+)/.exec(git(repo, 'count-objects', '-v'))![1]) * 1024;
  const blobs = git(repo, 'rev-list', '--objects', '--all').trim().split('\n').map((l) => l.split(' ')[0]).join('\n');
  const sizesOut = execFileSync('git', ['cat-file', '--batch-check=%(objecttype) %(objectsize)'], { cwd: repo, input: blobs, encoding: 'utf8', maxBuffer: 1 << 30 });
  const largest = Math.max(...sizesOut.trim().split('\n').filter((l) => l.startsWith('blob')).map((l) => Number(l.split(' ')[1])));
  const libBytes = files.reduce((a, f) => a + f.size, 0);
  const commits = Number(git(repo, 'rev-list', '--count', 'HEAD').trim()) - Number(before);
  return [`${mb} MB`, files.length, trucks, commits, fmt.x(pack / 2 ** 20) + ' MiB', `${((pack / libBytes) * 100).toFixed(2)}%`, `${(largest / 1024).toFixed(1)} KB`, `${(pack / Math.max(1, trucks) / 1024).toFixed(0)} KB`, `${((pack * TWELVE_GB) / libBytes / 2 ** 30).toFixed(2)} GiB`];
}

const cardLine = (day: string) => JSON.stringify({ id: 'L5_TEST_000001', lane: 5, prio: 'C', type: 'TEST', input: 'printf ok', output: `out/${day}.txt`, accept: 'exit==0', failfast: 'never', cost_hint: 'LOW', deps: [] }) + '\n';
const dayAfter = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');

/** (b) A factory with `n` real 1-card nights behind it. Returns a night() that adds one more. */
async function history(n: number): Promise<{ repo: string; night: () => void }> {
  const repo = path.join(base, `nights-${n}`);
  await newRepo(repo, {});
  await mkdir(path.join(repo, 'library'), { recursive: true });
  let k = 0;
  const night = () => {
    const day = dayAfter(k++);
    execFileSync('sh', ['-c', `mkdir -p ssot/backlog && cat > ssot/backlog/backlog_${day}.jsonl`], { cwd: repo, input: cardLine(day) });
  };
  for (let i = 0; i < n; i++) {
    night();
    const r = g7(repo, 'run');
    if (r.status !== 0 || !/finished/.test(r.stdout)) throw new Error(`night ${i}: ${r.stdout.slice(-300)} ${r.stderr.slice(-300)}`);
  }
  return { repo, night };
}

console.log(`bench:growth on ${machine()}; at commit ${git(process.cwd(), 'rev-parse', '--short', 'HEAD').trim()}`);
console.log(`\n(a) repository growth: SCAN + TAG at per_card: 3, offline worker, g7 run until nothing is left (goal: packed history <= 2% of the library per full scan; no committed file over 50 MB)\n`);
const rows: (string | number)[][] = [];
for (const mb of sizes) rows.push(await growth(mb));
console.log(table(['library', 'files', 'trucks', 'commits', 'packed .git', 'of library', 'largest file', 'per truck', 'at 12 GB'], rows));

console.log(`\n(b) per-truck cost with history: wall ms, median (min-max) of ${RUNS} interleaved runs (goal: at ${nights.at(-1)} nights <= 1.5x the ${nights[0]}-night figure)\n`);
const facts = [];
for (const n of nights) facts.push({ n, ...(await history(n)) });
const cmds: Cmd[] = facts.flatMap((f) => [
  { name: `run ${f.n}`, argv: [process.execPath, G7, 'run'], cwd: f.repo, env, before: f.night },
  { name: `status ${f.n}`, argv: [process.execPath, G7, 'status'], cwd: f.repo, env },
  { name: `morning ${f.n}`, argv: [process.execPath, G7, 'morning'], cwd: f.repo, env },
]);
const res = interleave(cmds, RUNS);
const med = (name: string) => spread(res.get(name)!.map((r) => r.ms)).med;
console.log(
  table(
    ['command', ...nights.map((n) => `${n} nights`), `${nights.at(-1)} / ${nights[0]}`],
    ['run', 'status', 'morning'].map((c) => [c === 'run' ? 'g7 run (1 card)' : `g7 ${c}`, ...nights.map((n) => fmt.range(spread(res.get(`${c} ${n}`)!.map((r) => r.ms)), fmt.ms)), `${fmt.x(med(`${c} ${nights.at(-1)}`) / med(`${c} ${nights[0]}`))}x`]),
  ),
);
