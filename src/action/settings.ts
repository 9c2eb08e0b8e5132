// Every input and every runner variable the action uses, read once into typed settings; nothing else in the
// action reads an input or GITHUB_* variable. Secrets are masked in the log here, and the Gemini key is kept
// in the settings only: it never goes into process.env, where a card's child process could read it.
import path from 'node:path';
import * as core from '@actions/core';

export const COMMANDS = ['run', 'pack', 'plan-compile', 'status', 'verify', 'resume', 'policy', 'prepare-lanes', 'lane', 'merge-lanes'] as const;
export type ActionCommand = (typeof COMMANDS)[number];

export interface GitHubContext {
  eventName: string;
  eventPath: string | undefined;
  /** REST base URL (GITHUB_API_URL); GraphQL is `${apiUrl}/graphql`. */
  apiUrl: string;
  serverUrl: string;
  /** owner/name */
  repository: string | undefined;
  /** The commit the workflow run checked out. */
  sha: string | undefined;
  /** The branch the run is on (refs/heads/… of GITHUB_REF), for a checkout with a detached HEAD. */
  branch: string | undefined;
  runUrl: string | undefined;
  /** GITHUB_RUN_ATTEMPT: 1 for the event's own run, more for a re-run. */
  runAttempt: number;
  /** The workflow file this run runs (from GITHUB_WORKFLOW_REF, e.g. factory.yml): what chaining dispatches. */
  workflowFile: string | undefined;
  /** RUNNER_ENVIRONMENT: github-hosted runners are discarded after the job; self-hosted ones keep the workspace. */
  runner: 'github-hosted' | 'self-hosted' | undefined;
  /** RUNNER_TEMP: where a step may leave files for later steps of the job (the unpushed evidence's bundle). */
  runnerTemp: string | undefined;
}

export interface ActionSettings {
  command: ActionCommand;
  /** The checked-out repository (GITHUB_WORKSPACE). */
  workspace: string;
  /** Absolute path of the SSOT folder. */
  ssot: string;
  plan: string | undefined;
  truck: 'A' | 'B' | undefined;
  lanes: number[] | undefined;
  /** The lane run a `lane` or `merge-lanes` step works on (the prepare step's `run-id` output). */
  runId: string | undefined;
  /** Models per cost hint for this job, over factory.yaml's (`LOW=…,HIGH=…`). */
  models: Partial<Record<'LOW' | 'MID' | 'HIGH', string>> | undefined;
  dryRun: boolean;
  push: boolean;
  /** The job's time budget for a truck (`max-minutes`): below the App token's hour and the job's timeout-minutes. */
  maxMinutes: number;
  /** `chain`: a truck that leaves work inside the night dispatches the next run of this workflow. */
  chain: boolean;
  /** `chain-link`: this run's link in tonight's chain (0: not started by chaining). */
  chainLink: number;
  geminiApiKey: string | undefined;
  /** For the GitHub API: the policy check, and the check run on the evidence commit. */
  githubToken: string | undefined;
  github: GitHubContext;
}

/** An input with a value the action cannot use; the message names the input and the values it takes. */
export class InputError extends Error {
  constructor(readonly input: string, message: string) {
    super(`input ${input}: ${message}`);
    this.name = 'InputError';
  }
}

/** The runner's environment lacks what a command needs (an event, a repository, a token). */
export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}

function oneOf<T extends string>(input: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new InputError(input, `"${value}" is not one of ${allowed.join(', ')}`);
  return value as T;
}

function bool(input: string): boolean {
  const v = core.getInput(input).trim().toLowerCase();
  if (v === '') return false;
  if (['true', 'false'].includes(v)) return v === 'true';
  throw new InputError(input, `"${v}" is not true or false`);
}

/** The App installation token lives one hour; the last bundle, its checkpoint and push must fit before it expires. */
export const DEFAULT_MAX_MINUTES = 50;

function maxMinutes(): number {
  const text = core.getInput('max-minutes').trim();
  if (text === '') return DEFAULT_MAX_MINUTES;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InputError('max-minutes', `a number of minutes above 0, below the job's timeout-minutes and the token's hour (default ${DEFAULT_MAX_MINUTES}); got "${text}"`);
  return n;
}

function chainLink(): number {
  const text = core.getInput('chain-link').trim();
  if (text === '') return 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InputError('chain-link', `a whole number, 0 or more (the workflow passes \${{ inputs.chain || 0 }}); got "${text}"`);
  return n;
}

function models(): ActionSettings['models'] {
  const text = core.getInput('models').trim();
  if (!text) return undefined;
  const out: NonNullable<ActionSettings['models']> = {};
  for (const pair of text.split(',')) {
    const m = /^\s*(LOW|MID|HIGH)\s*=\s*([\w.-]+)\s*$/.exec(pair);
    if (!m) throw new InputError('models', `"${pair.trim()}" is not COST=MODEL with COST one of LOW, MID, HIGH (e.g. HIGH=gemini-2.5-pro)`);
    out[m[1] as 'LOW' | 'MID' | 'HIGH'] = m[2]!;
  }
  return out;
}

export function readSettings(): ActionSettings {
  const env = process.env;
  const command = oneOf('command', core.getInput('command') || 'run', COMMANDS);
  const truckText = core.getInput('truck');
  const truck = truckText ? oneOf('truck', truckText, ['A', 'B'] as const) : undefined;
  const lanesText = core.getInput('lanes');
  const lanes = lanesText ? lanesText.split(',').map((s) => Number(s.trim())) : undefined;
  if (lanes?.some((l) => !Number.isInteger(l) || l < 1 || l > 8)) throw new InputError('lanes', `lane numbers 1-8, comma separated; got "${lanesText}"`);
  if (command === 'lane' && lanes?.length !== 1) throw new InputError('lanes', `command lane runs one lane (the matrix's, e.g. lanes: \${{ matrix.lane }}); got "${lanesText}"`);
  const runId = core.getInput('run-id').trim() || undefined;
  if (runId !== undefined && !/^run_\d{4,}$/.test(runId)) throw new InputError('run-id', `a run id looks like run_0003; got "${runId}"`);
  if (command === 'lane' && !runId) throw new InputError('run-id', 'command lane needs the run the prepare step made (run-id: \${{ needs.prepare.outputs.run-id }})');
  const geminiApiKey = core.getInput('gemini-api-key') || undefined;
  const githubToken = core.getInput('github-token') || undefined;
  for (const secret of [geminiApiKey, githubToken]) if (secret) core.setSecret(secret);
  // The runner hands inputs over as environment variables, which every child process (git, a TEST card's
  // shell) would inherit: once read, the secret ones leave the environment.
  delete env['INPUT_GEMINI-API-KEY'];
  delete env['INPUT_GITHUB-TOKEN'];
  const workspace = path.resolve(env.GITHUB_WORKSPACE || process.cwd());
  const ref = env.GITHUB_REF ?? '';
  const server = env.GITHUB_SERVER_URL || 'https://github.com';
  return {
    command,
    workspace,
    ssot: path.resolve(workspace, core.getInput('ssot') || 'ssot'),
    plan: core.getInput('plan') || undefined,
    truck,
    lanes,
    runId,
    models: models(),
    dryRun: bool('dry-run'),
    push: core.getInput('push') === '' ? true : bool('push'),
    maxMinutes: maxMinutes(),
    chain: core.getInput('chain') === '' ? true : bool('chain'),
    chainLink: chainLink(),
    geminiApiKey,
    githubToken,
    github: {
      eventName: env.GITHUB_EVENT_NAME ?? '',
      eventPath: env.GITHUB_EVENT_PATH || undefined,
      apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
      serverUrl: server,
      repository: env.GITHUB_REPOSITORY || undefined,
      sha: env.GITHUB_SHA || undefined,
      branch: ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined,
      runUrl: env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID ? `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined,
      runAttempt: Math.max(1, Number(env.GITHUB_RUN_ATTEMPT) || 1),
      // owner/repo/.github/workflows/factory.yml@refs/heads/main
      workflowFile: /\/\.github\/workflows\/([^/@]+)@/.exec(env.GITHUB_WORKFLOW_REF ?? '')?.[1],
      runner: env.RUNNER_ENVIRONMENT === 'github-hosted' || env.RUNNER_ENVIRONMENT === 'self-hosted' ? env.RUNNER_ENVIRONMENT : undefined,
      runnerTemp: env.RUNNER_TEMP || undefined,
    },
  };
}

/** A path as GitHub shows it: relative to the repository root, with forward slashes. */
export function repoPath(s: Pick<ActionSettings, 'workspace'>, abs: string): string {
  return path.relative(s.workspace, abs).split(path.sep).join('/');
}
