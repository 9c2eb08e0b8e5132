// A factory in a temporary git repository: a generated library, a taxonomy, and a backlog of exactly the
// cards a test asks for, packed and ready to run.
import { execFileSync, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { tempRepo, jsonl, childEnv, REPO, type TempRepo } from '../helpers.js';

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

export async function factory(cards: CardSpec[], opts: { libraryFiles?: number; commit?: boolean; files?: Record<string, string | Uint8Array> } = {}): Promise<Factory> {
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

export interface G7Process {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/**
 * The g7 binary as a scheduled job runs it: its own process, in the repository root, with the sealed test
 * environment plus `env` (a test that wants a key passes one).
 */
export function g7Process(root: string, args: string[], env: Record<string, string> = {}): Promise<G7Process> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(REPO, 'bin/g7.mjs'), ...args], { cwd: root, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (err += b));
    p.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

/** `g7 …args | head -1` in `root`: the reader takes the first line and closes the pipe. */
export function g7IntoHead(root: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; first: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(REPO, 'bin/g7.mjs'), ...args], { cwd: root, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let first = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => {
      first += b.toString();
      if (first.includes('\n')) p.stdout.destroy(); // head -1 exits: the pipe's read end is closed
    });
    p.stderr.on('data', (b) => (err += b));
    p.on('close', (code) => resolve({ code, first: first.split('\n')[0]!, err }));
  });
}

/** A repository with a library of `libraryFiles` files, the fixture's taxonomy, a day plan and nothing compiled yet. */
export async function planRepo(plan: string, opts: { libraryFiles?: number; factoryYaml?: string } = {}): Promise<Factory> {
  const repo = await tempRepo();
  await repo.write('ssot/factory.yaml', opts.factoryYaml ?? 'library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\nscan: { chunk_bytes: 1024 }\n');
  await repo.write('ssot/.gitignore', 'state/run.lock\n*.tmp-*\n');
  await repo.write('ssot/rules/tags.yaml', 'tags:\n  - { name: risk, keywords: [going-concern, related-party], strike: true }\n  - { name: money, regex: ["KRW \\\\d+"] }\n');
  await repo.write('ssot/rules/sensors.yaml', 'sensors:\n  - { id: S01, name: risk }\n');
  for (let i = 1; i <= (opts.libraryFiles ?? 4); i++) await repo.write(`library/doc${String(i).padStart(3, '0')}.md`, `Doc ${i}: a related-party loan of KRW ${i} billion.\nOrdinary text.\n`);
  await repo.write(`ssot/plans/dayplan_${DAY}.yaml`, plan);
  initGit(repo.root);
  git(repo.root, 'add', '-A');
  git(repo.root, 'commit', '-q', '-m', 'plan fixture');
  return Object.assign(repo, { git: (...args: string[]) => git(repo.root, ...args) });
}

/** The clock moves past a RECOVERABLE stop's retry_after (what waiting for the next scheduled job does). */
export async function timePasses(f: TempRepo): Promise<void> {
  const file = path.join(f.ssot, 'state', 'factory_state.json');
  const state = JSON.parse(await readFile(file, 'utf8'));
  state.last_stop.retry_after = new Date(Date.now() - 1000).toISOString();
  await writeFile(file, JSON.stringify(state, null, 2) + '\n');
}

/** factory.yaml lines that point the Gemini worker at a fake, with a price for every default model (the departure check wants one). */
export function geminiAt(url: string): string {
  return `gemini: { base_url: "${url}" }\nprices_per_mtok: { gemini-2.5-flash-lite: { in: 0.1, out: 0.4 }, gemini-2.5-flash: { in: 0.3, out: 2.5 }, gemini-2.5-pro: { in: 1.25, out: 10 } }\n`;
}

/** A working clone of a remote (served by this process: the clone must not block it), with a git identity. */
export async function cloneRemote(url: string): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'g7-clone-')), 'work');
  await gitAsync(tmpdir(), 'clone', '-q', url, dir);
  initGit(dir); // identity only; init on an existing repository keeps its history
  return dir;
}
