// SCAN the way a day plan runs it: a repository whose factory.yaml points at the generated library, a day plan
// with one SCAN entry in cards of `perCard` files, compiled with `g7 plan compile`, then one truck through
// `g7 run --no-commit`, every one of them the built `bin/g7.mjs` as a process. Before each timed run the
// repository goes back to its compiled commit (untracked state, runs and indexes removed), so every run is a
// first run that reads and hashes every byte.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Cmd, Run } from './harness.js';

const g7 = path.resolve('bin/g7.mjs');
const DAY = '20261207';
const git = (cwd: string, ...a: string[]) => execFileSync('git', a, { cwd, stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Writes the repository next to the library (once per library and card size) and compiles its day plan. */
export async function scanRepo(lib: string, perCard: number): Promise<{ repo: string; cards: number }> {
  const repo = path.join(path.dirname(lib), `repo-${path.basename(lib)}-${perCard}`);
  await rm(repo, { recursive: true, force: true });
  await mkdir(path.join(repo, 'ssot/plans'), { recursive: true });
  await writeFile(path.join(repo, 'ssot/factory.yaml'), `library: { root: ${JSON.stringify(path.relative(repo, lib))} }\n`);
  const plan = `date: ${DAY.slice(0, 4)}-${DAY.slice(4, 6)}-${DAY.slice(6)}
goal: Layer-1 scan of the generated library
entries:
  - { name: scan, lane: 1, prio: A, type: SCAN, each: { glob: "**/*.txt", per_card: ${perCard} }, output: "ssot/library_index/scan/{n}.jsonl", accept: "lines>=1:{output}" }
`;
  await writeFile(path.join(repo, `ssot/plans/dayplan_${DAY}.yaml`), plan);
  git(path.dirname(repo), 'init', '-q', '-b', 'main', repo);
  git(repo, 'config', 'user.email', 'bench@example.invalid');
  git(repo, 'config', 'user.name', 'bench');
  const out = execFileSync(process.execPath, [g7, '--ssot', path.join(repo, 'ssot'), 'plan', 'compile', `ssot/plans/dayplan_${DAY}.yaml`], { cwd: repo }).toString();
  const cards = Number(/total\s+(\d+) cards/.exec(out)?.[1] ?? NaN);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'compiled');
  return { repo, cards };
}

/** `g7 run --no-commit` in the repository, each time from the compiled commit. */
export function scanRunCmd(name: string, repo: string): Cmd {
  return {
    name,
    argv: [process.execPath, g7, '--ssot', path.join(repo, 'ssot'), 'run', '--no-commit'],
    cwd: repo,
    before: () => {
      git(repo, 'clean', '-q', '-fdx');
      git(repo, 'checkout', '-q', '--', '.');
    },
  };
}

/** The sum of the cards' own durations as `g7 run` printed them (`[k/n] ID PASS 123 ms`); throws unless every
 * card passed and the truck finished. */
export function cardsMs(r: Run, cards: number): number {
  const ms = [...r.stdout.matchAll(/^\[\d+\/\d+\] \S+ (\S+) (\d+) ms/gm)];
  if (ms.length !== cards || ms.some((m) => m[1] !== 'PASS') || !/READY/.test(r.stdout)) throw new Error(`g7 run did not pass all ${cards} cards:\n${r.stdout.slice(-2000)}`);
  return ms.reduce((a, m) => a + Number(m[2]), 0);
}
