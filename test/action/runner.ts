// Running the action as a GitHub runner does: the committed bundle on Node 24, inputs as INPUT_* variables,
// GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files, the event payload at GITHUB_EVENT_PATH, the API at
// GITHUB_API_URL; and as GitHub's own local runner (@github/local-action) does, from the TypeScript source.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { REPO, childEnv } from '../helpers.js';
import { gitAsync } from '../factory/fixture.js';
import { httpRemote, type HttpRemote } from '../git/http-remote.js';
import { fakeGitHub, type FakeGitHub, type FakeGitHubOptions } from '../fakes/github-server.js';

export const TOKEN = 'ghs_actiontoken000000000001';

/** The loopback servers of a test file's tests (a git remote, a fake GitHub), closed after each test. */
export function loopback(): { remote(seedFrom: string): Promise<HttpRemote>; github(gitDir?: string, o?: FakeGitHubOptions): Promise<FakeGitHub> } {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });
  return {
    async remote(seedFrom) {
      const remote = await httpRemote(seedFrom);
      closers.push(() => remote.close());
      return remote;
    },
    async github(gitDir, o = {}) {
      const gh = await fakeGitHub({ token: TOKEN, ...o, ...(gitDir ? { gitDir } : {}) });
      closers.push(() => gh.close());
      return gh;
    },
  };
}

/** A runner's checkout: a fresh clone of the remote, with the identity the workflow configures. */
export async function checkout(url: string): Promise<{ dir: string; sha: string }> {
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'g7-checkout-')), 'work');
  await gitAsync(tmpdir(), 'clone', '-q', url, dir);
  for (const [k, v] of [['user.email', 'factory@example.invalid'], ['user.name', 'G7 test'], ['commit.gpgsign', 'false']]) await gitAsync(dir, 'config', k!, v!);
  return { dir, sha: (await gitAsync(dir, 'rev-parse', 'HEAD')).trim() };
}

export async function filesOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(path.join(e.parentPath, e.name));
  return out;
}

export interface ActionRun {
  code: number | null;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

export interface RunnerOptions {
  workspace: string;
  inputs: Record<string, string>;
  event?: { name: string; payload: unknown };
  apiUrl?: string;
  repository?: string;
  sha?: string;
  ref?: string;
  /** Extra variables, e.g. a git identity. */
  env?: Record<string, string>;
  /** The action's folder the runner starts (default the repository's action/; a runner's copy in _actions/…). */
  actionDir?: string;
  /** The workflow file the run belongs to (GITHUB_WORKFLOW_REF; default factory.yml): what chaining dispatches. */
  workflow?: string;
  /** Sees the step's output as it comes, with a way to kill the step (the night's SIGKILL mid-bundle). */
  watch?: (stdout: string, kill: (signal: NodeJS.Signals) => void) => void;
}

const DEFAULT_INPUTS = { command: 'run', ssot: 'ssot', plan: '', truck: '', lanes: '', 'run-id': '', models: '', 'dry-run': 'false', push: 'true', 'max-minutes': '50', chain: 'true', 'chain-link': '0', 'gemini-api-key': '', 'github-token': '' };

/** The variables a runner sets for a JavaScript action step (inputs as GitHub names them: INPUT_ + upper case). */
async function runnerEnv(o: RunnerOptions): Promise<{ env: Record<string, string>; output: string; summary: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'g7-runner-'));
  const output = path.join(dir, 'output');
  const summary = path.join(dir, 'summary');
  const eventPath = path.join(dir, 'event.json');
  await writeFile(output, '');
  await writeFile(summary, '');
  await writeFile(eventPath, JSON.stringify(o.event?.payload ?? {}));
  const env: Record<string, string> = {
    ...(childEnv() as Record<string, string>),
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: o.workspace,
    GITHUB_OUTPUT: output,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_EVENT_NAME: o.event?.name ?? 'schedule',
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_API_URL: o.apiUrl ?? 'http://127.0.0.1:9',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: o.repository ?? 'g7-factory/factory',
    GITHUB_RUN_ID: '4242',
    GITHUB_REF: o.ref ?? 'refs/heads/main',
    GITHUB_WORKFLOW_REF: `${o.repository ?? 'g7-factory/factory'}/.github/workflows/${o.workflow ?? 'factory.yml'}@${o.ref ?? 'refs/heads/main'}`,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'GitHub Actions 1000000001',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_TEMP: dir,
    RUNNER_TOOL_CACHE: path.join(dir, 'hostedtoolcache'),
    ...(o.sha ? { GITHUB_SHA: o.sha } : {}),
    ...(o.env ?? {}),
  };
  for (const [k, v] of Object.entries({ ...DEFAULT_INPUTS, ...o.inputs })) env[`INPUT_${k.toUpperCase()}`] = v;
  return { env, output, summary };
}

function spawnCollect(cmd: string, args: string[], env: Record<string, string>, cwd: string, watch?: RunnerOptions['watch']): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Asynchronous: the git remote and the fake GitHub are served by this same process.
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env, cwd });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
      watch?.(stdout, (sig) => p.kill(sig));
    });
    p.stderr.on('data', (d) => (stderr += d));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** GITHUB_OUTPUT's format: `name<<DELIMITER`, the value, the delimiter. */
export function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /^([\w-]+)<<(ghadelimiter_[\w-]+)\n([\s\S]*?)\n?\2$/gm;
  for (const m of text.matchAll(re)) out[m[1]!] = m[3]!;
  return out;
}

/** The committed bundle, as the runner starts it: `node action/dist/index.mjs` in the workspace. */
export async function runBundle(o: RunnerOptions): Promise<ActionRun> {
  const { env, output, summary } = await runnerEnv(o);
  const r = await spawnCollect(process.execPath, [path.join(o.actionDir ?? path.join(REPO, 'action'), 'dist/index.mjs')], env, o.workspace, o.watch);
  return { ...r, outputs: parseOutputs(await readFile(output, 'utf8')), summary: await readFile(summary, 'utf8') };
}

/** GitHub's local runner on the source: `local-action run action ../src/action/main.ts <dotenv>`. */
export async function runLocalAction(o: RunnerOptions): Promise<ActionRun> {
  const { env, summary } = await runnerEnv(o);
  const dotenv = path.join(path.dirname(summary), '.env');
  // local-action reads the step's variables from a dotenv file; PATH and HOME come from its own environment.
  await writeFile(dotenv, Object.entries(env).filter(([k]) => k !== 'PATH' && k !== 'HOME').map(([k, v]) => `${k}=${JSON.stringify(v)}`).join('\n') + '\n');
  const bin = path.join(REPO, 'node_modules/.bin/local-action');
  const r = await spawnCollect(bin, ['run', path.join(REPO, 'action'), '../src/action/main.ts', dotenv], { PATH: env.PATH!, HOME: env.HOME!, NO_COLOR: '1' }, REPO);
  // It prints outputs as `::set-output name=…::…` and does not write GITHUB_OUTPUT; the action's own log sits
  // between its banners, info lines marked `::info::` (a runner shows them plain).
  const outputs = Object.fromEntries([...r.stdout.matchAll(/::set-output name=([\w-]+)::(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  const log = /Running Action\n=+\n([\s\S]*?)\n=+\n\s*Action Outputs/.exec(r.stdout)?.[1] ?? r.stdout;
  const stdout = log.split('\n').filter((l) => l.trim() && !l.startsWith('::set-output')).map((l) => l.replace(/^::info::/, '')).join('\n');
  return { ...r, stdout, outputs, summary: await readFile(summary, 'utf8') };
}
