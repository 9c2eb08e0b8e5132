// A factory in a temporary git repository: a generated library, a taxonomy, and a backlog of exactly the
// cards a test asks for, packed and ready to run.
import { execFileSync, execFile } from 'node:child_process';
import path from 'node:path';
import { tempRepo, jsonl, childEnv, type TempRepo } from '../helpers.js';

export const DAY = '20261121';

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: childEnv() });
}

/** For anything that talks to a remote served by this same process: a sync call would block the server. */
export function gitAsync(cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('git', args, { cwd, encoding: 'utf8', env: childEnv() }, (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout))),
  );
}

export function initGit(dir: string): void {
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'config', 'user.email', 'factory@example.invalid');
  git(dir, 'config', 'user.name', 'G7 test');
  git(dir, 'config', 'commit.gpgsign', 'false');
}

export interface CardSpec {
  id: string;
  prio: 'A' | 'B' | 'C' | 'D';
  input?: string | string[];
  output?: string;
  accept?: string;
  failfast?: string;
  deps?: string[];
  pack?: string;
  cost_hint?: 'LOW' | 'MID' | 'HIGH';
}

export function cardLine(s: CardSpec) {
  const [, lane, type] = /^L(\d)_([A-Z]+)_/.exec(s.id)!;
  const output = s.output ?? `out/${s.id}.txt`;
  const c: Record<string, unknown> = { id: s.id, lane: Number(lane), prio: s.prio, type, input: s.input ?? 'x', output, accept: s.accept ?? `exists:${output}`, failfast: s.failfast ?? 'never', cost_hint: s.cost_hint ?? 'LOW', deps: s.deps ?? [] };
  if (s.pack) c.pack = s.pack;
  return c;
}

export interface Factory extends TempRepo {
  git(...args: string[]): string;
}

export async function factory(cards: CardSpec[], opts: { libraryFiles?: number; commit?: boolean; files?: Record<string, string> } = {}): Promise<Factory> {
  const repo = await tempRepo();
  await repo.write('ssot/factory.yaml', 'library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\nscan: { chunk_bytes: 1024 }\n');
  await repo.write('ssot/.gitignore', 'state/run.lock\n*.tmp-*\n');
  await repo.write('ssot/rules/tags.yaml', 'tags:\n  - { name: risk, keywords: [going-concern, related-party], strike: true }\n  - { name: money, regex: ["KRW \\\\d+"] }\n');
  await repo.write('ssot/rules/sensors.yaml', 'sensors:\n  - { id: S01, name: risk }\n');
  for (let i = 1; i <= (opts.libraryFiles ?? 4); i++) {
    const lines = Array.from({ length: 40 }, (_, k) => (k % 7 === 0 ? `Line ${k}: a related-party loan of KRW ${i * 10 + k} billion.` : `Line ${k}: ordinary text for file ${i}.`));
    await repo.write(`library/doc${String(i).padStart(3, '0')}.md`, lines.join('\n') + '\n');
  }
  for (const [rel, text] of Object.entries(opts.files ?? {})) await repo.write(rel, text);
  await repo.write(`ssot/backlog/backlog_${DAY}.jsonl`, jsonl(cards.map(cardLine)));
  initGit(repo.root);
  git(repo.root, 'add', '-A');
  git(repo.root, 'commit', '-q', '-m', 'factory fixture');
  const packed = await repo.g7('pack');
  if (packed.code !== 0) throw new Error(`pack failed: ${packed.err}`);
  if (opts.commit !== false) {
    git(repo.root, 'add', '-A');
    git(repo.root, 'commit', '-q', '-m', 'packed');
  }
  return Object.assign(repo, { git: (...args: string[]) => git(repo.root, ...args) });
}

export const runDir = (repo: TempRepo, id: string) => path.join(repo.ssot, 'runs', id);
