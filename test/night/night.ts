// A whole night of the factory, scripted: a loopback git remote over HTTP (git http-backend), the fake Gemini
// and the fake GitHub, and a schedule of jobs that each run the committed action bundle as a runner does (a
// fresh clone, INPUT_* and GITHUB_* variables, one truck per job), with G7_NOW set to the job's scheduled
// time. Faults are injected from outside the product: scripted answers and errors in the fake Gemini, a
// pre-receive hook on the remote, a person's push, a SIGKILL. checks.ts then judges the night from the files,
// the remote's history and the fakes' request logs.
import { mkdir, writeFile, chmod, rm } from 'node:fs/promises';
import path from 'node:path';
import { chunkMark, chunkTextOf, fakeGemini, textOf, type FakeGemini } from '../fakes/gemini-server.js';
import { fakeGitHub, type FakeGitHub } from '../fakes/github-server.js';
import { webhookPayload } from '../fakes/github-webhooks.js';
import { httpRemote, type HttpRemote } from '../git/http-remote.js';
import { checkout, runBundle, TOKEN, type ActionRun } from '../action/runner.js';
import { gitAsync, g7Process, type G7Process } from '../factory/fixture.js';
import { nightRepo } from './setup.js';
import { followsCaveats, refineJob } from './coreloop.js';
import { REPO } from '../helpers.js';
import { scheduledRuns, workflowCrons } from './schedule.js';

/** The night's Gemini key: a canary that must never show up in a committed file or a log. */
export const CANARY = 'AIzaSyNIGHT-canary-key-0000000000000001';

/** The span the night plays: the evening before the first night to the morning after the second. */
export const NIGHT_FROM = '2026-11-20T12:00:00.000Z';
const NIGHT_UNTIL = '2026-11-22T00:00:00.000Z';
/** The shipped truck workflow, whose schedule the night plays. */
export const FACTORY_YML = path.join(REPO, '.github/workflows/factory.yml');

/** What started a job: the workflow's cron, a truck's own dispatch (chaining), or a person's dispatch. */
export type JobSource = 'schedule' | 'chain' | 'person';

interface Pending {
  at: string;
  source: JobSource;
  workflow: string;
  /** The dispatch's inputs, as GitHub fills them in (empty for a scheduled run). */
  inputs: Record<string, string>;
  link: number;
}

interface Fault {
  shows: string[];
  before?: () => Promise<void>;
  /** After the job's checkout, before its step (a person's push that the job's push then races). */
  beforeStep?: () => Promise<void>;
  after?: (r: JobRecord) => Promise<void>;
  watch?: (out: string, kill: (s: NodeJS.Signals) => void) => void;
}

/** What factory.yml's g7 step passes the action, from the run's dispatch inputs (none on a schedule). */
function factoryInputs(i: Record<string, string>): Record<string, string> {
  return { command: i.command || 'run', truck: i.truck && i.truck !== 'next' ? i.truck : '', lanes: i.lanes ?? '', 'dry-run': i['dry-run'] || 'false', 'chain-link': i.chain || '0' };
}

/** What factory-lanes.yml's prepare step passes the action. */
function lanesInputs(i: Record<string, string>): Record<string, string> {
  return { truck: i.truck && i.truck !== 'next' ? i.truck : '', lanes: i.lanes ?? '' };
}

export const plusMinutes = (iso: string, m: number) => new Date(Date.parse(iso) + m * 60_000).toISOString();
/** The next whole minute after `iso`. */
const nextMinuteAfter = (iso: string) => new Date(Math.floor(Date.parse(iso) / 60_000) * 60_000 + 60_000).toISOString();

export interface JobRecord {
  name: string;
  /** The scheduled time the job's clock (G7_NOW) starts at. */
  at: string;
  kind: 'run' | 'plan-compile' | 'coreloop-pattern' | 'coreloop-promote' | 'policy' | 'lanes';
  /** What the job was there to show. */
  shows: string[];
  code: number | null;
  outputs: Record<string, string>;
  /** The remote's main before and after the job. */
  before: string;
  after: string;
  workspace: string;
  /** The event that started the job: schedule, or workflow_dispatch (a person, or a truck's chain). */
  event: string;
  /** Who started it; for a chained run, its link in the chain. */
  source: JobSource;
  link: number;
  /** The job's clock when it ended (its start plus the time it really took). */
  endAt: string;
  log: string;
  logText: string;
  killed?: boolean;
}

export interface Night {
  jobs: JobRecord[];
  remote: HttpRemote;
  gemini: FakeGemini;
  github: FakeGitHub;
  /** Folder with every job's log (stdout + stderr), the morning report, the fakes' request logs. */
  logDir: string;
  /** The person's commit that raced a job's push. */
  personCommit?: string;
  /** The run whose push the remote refused once. */
  refusedRun?: string;
  /** The commits the remote refused, as the refused job's workspace had them. */
  refusedCommits?: string[];
  killedRun?: string;
  /** Requests the fake Gemini had when the last truck finished: the factory's own calls (coreloop's reproduction check replays on purpose after that). */
  factoryRequests: number;
  /** factory.yml's crons and the times they fired in the span played. */
  schedule: { crons: string[]; fired: string[] };
  /** Runs the night played because a truck dispatched them (a lane matrix counts once). */
  chainRuns: number;
  /** When a person reads the morning report (after the last job). */
  morningAt: string;
  /** The coreloop draft PR as the fake GitHub holds it (when promote opens one). */
  coreloopPr?: { number: number; title: string; draft: boolean; blocked: boolean };
  close(): Promise<void>;
}

const strip = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, '');

/** The night's fake Gemini: answers tags from the chunk's own text (not the taxonomy in the prompt), strike findings, and the two work packs' patches. */
function nightAnswer(fallback: FakeGemini['answer']): FakeGemini['answer'] {
  return (body) => {
    const schema = JSON.stringify((body.generationConfig as Record<string, unknown> | undefined)?.responseJsonSchema ?? {});
    const prompt = JSON.stringify(body.contents ?? '');
    if (schema.includes('"edits"')) {
      if (prompt.includes('reports/strike-digest.md')) return { edits: [{ path: 'reports/strike-digest.md', content: '# Strike digest\n\n- related-party loans in the ledger and every fifth disclosure\n' }] };
      if (prompt.includes('tools/fixit.mjs')) return { edits: [{ path: 'tools/fixit.mjs', content: '// still failing: the check cannot pass tonight\nprocess.exit(1);\n' }] };
      return { edits: [] };
    }
    if (schema.includes('"tags"')) {
      // The prompt names no file (one answer serves every occurrence of a text): the answer names the text's digest.
      const text = chunkTextOf(textOf(body.contents)) ?? '';
      const risky = /related-party/.test(text);
      return { tags: risky ? ['related-party'] : [], strike: risky, why: `${risky ? 'a related-party loan' : 'nothing notable'} in chunk ${chunkMark(text)}` };
    }
    if (schema.includes('"findings"')) {
      // A verdict per sensor, each with the sentence of the struck text it rests on, quoted verbatim.
      const text = /Text:\\n([\s\S]*?)"\}/.exec(prompt)?.[1] ?? '';
      const sentences = text.split(/\\n|(?<=\.)\s/).map((x) => x.trim()).filter(Boolean);
      const hit = sentences.find((x) => /related-party/.test(x));
      const plain = sentences.find((x) => !/related-party/.test(x) && x.endsWith('.')) ?? sentences[0] ?? '';
      return { findings: ['S01', 'S02', 'S03', 'S04', 'S05'].map((sensor) => (sensor === 'S01' && hit ? { sensor, verdict: 'hit', quote: hit } : { sensor, verdict: 'no', quote: plain })) };
    }
    return fallback(body);
  };
}

export interface NightOptions {
  libraryFiles?: number;
  log?: (line: string) => void;
  logDir: string;
}

/**
 * Branch protection on the remote, as a pre-receive hook: while `protect` exists in the bare repository, every
 * push to main is refused as GitHub refuses a protected branch; other branches (g7/unpushed/…) are not covered,
 * as the ruleset g7 init writes covers the default branch only. The night turns it on for one job.
 */
async function branchProtection(bare: string): Promise<{ on(): Promise<void>; off(): Promise<void> }> {
  const hook = path.join(bare, 'hooks', 'pre-receive');
  await mkdir(path.dirname(hook), { recursive: true });
  await writeFile(
    hook,
    `#!/bin/sh
[ -e "$GIT_DIR/protect" ] || exit 0
while read -r old new ref; do
  if [ "$ref" = "refs/heads/main" ]; then
    echo "error: GH006: Protected branch update failed for refs/heads/main." >&2
    echo "error: Changes must be made through a pull request." >&2
    exit 1
  fi
done
exit 0
`,
  );
  await chmod(hook, 0o755);
  const marker = path.join(bare, 'protect');
  return { on: () => writeFile(marker, ''), off: () => rm(marker, { force: true }) };
}

export async function runNight(o: NightOptions): Promise<Night> {
  const log = o.log ?? (() => {});
  await mkdir(o.logDir, { recursive: true });
  const gemini = await fakeGemini({ keys: [CANARY] });
  gemini.answer = followsCaveats(nightAnswer(gemini.answer));
  const seed = await nightRepo({ libraryFiles: o.libraryFiles ?? 300, geminiUrl: gemini.url });
  const remote = await httpRemote(seed.root);
  const github = await fakeGitHub({ token: TOKEN, gitDir: remote.bare });
  const night: Night = { jobs: [], remote, gemini, github, logDir: o.logDir, morningAt: '', factoryRequests: 0, schedule: { crons: [], fired: [] }, chainRuns: 0, close: async () => { await remote.close(); await gemini.close(); await github.close(); } };
  const head = async () => (await gitAsync(remote.bare, 'rev-parse', 'refs/heads/main')).trim();

  let seq = 0;
  /** One scheduled (or dispatched) job of the factory workflow: a fresh checkout, then the action's step. */
  const job = async (
    name: string,
    at: string,
    kind: JobRecord['kind'],
    shows: string[],
    opts: { inputs?: Record<string, string>; workspace?: string; beforeStep?: () => Promise<void>; watch?: Parameters<typeof runBundle>[0]['watch']; event?: { name: string; payload: unknown } | undefined; workflow?: string; source?: JobSource; link?: number } = {},
  ): Promise<JobRecord> => {
    const before = await head();
    const t0 = Date.now();
    const co = opts.workspace ? { dir: opts.workspace, sha: (await gitAsync(opts.workspace, 'rev-parse', 'HEAD')).trim() } : await checkout(remote.url);
    await opts.beforeStep?.();
    let killed = false;
    // The workflow hands the action github.token: a truck (and a lane run's merge) creates a check run on its
    // evidence commit.
    if (kind === 'run' || opts.inputs?.command === 'merge-lanes') github.expect('checks/create').expect('actions/create-workflow-dispatch');
    const r: ActionRun = await runBundle({
      workspace: co.dir,
      sha: co.sha,
      apiUrl: github.url,
      repository: github.fullName,
      ...(opts.event ? { event: opts.event } : {}),
      ...(opts.workflow ? { workflow: opts.workflow } : {}),
      inputs: { command: kind === 'lanes' ? 'run' : kind, 'gemini-api-key': CANARY, 'github-token': TOKEN, ...opts.inputs },
      env: { G7_NOW: at },
      ...(opts.watch ? { watch: (out: string, kill: (s: NodeJS.Signals) => void) => opts.watch!(out, (s) => ((killed = true), kill(s))) } : {}),
    });
    const file = path.join(o.logDir, `job${String(++seq).padStart(2, '0')}-${name}.log`);
    const logText = `${strip(r.stdout)}\n--- stderr ---\n${strip(r.stderr)}\n--- summary ---\n${r.summary}`;
    await writeFile(file, logText);
    const rec: JobRecord = { name, at, kind, shows, code: r.code, outputs: r.outputs, before, after: await head(), workspace: co.dir, event: opts.event?.name ?? 'schedule', source: opts.source ?? 'schedule', link: opts.link ?? 0, endAt: new Date(Date.parse(at) + Date.now() - t0).toISOString(), log: file, logText, ...(killed ? { killed } : {}) };
    night.jobs.push(rec);
    log(`${at.slice(5, 10)} ${at.slice(11, 16)}  ${name.padEnd(26)} exit ${(killed ? 'KILL' : String(r.code)).padEnd(4)} ${(r.outputs.state ?? '').padEnd(11)} ${r.outputs['run-id'] ?? ''}${killed ? ' (SIGKILLed)' : ''}  ${shows.join('; ')}`);
    return rec;
  };

  /** A job whose step is not the action (the coreloop workflow runs the CLI): a fresh checkout, then `fn`. */
  const step = async (name: 'coreloop-pattern' | 'coreloop-promote', at: string, shows: string[], fn: (dir: string) => Promise<G7Process>, event = 'schedule'): Promise<JobRecord> => {
    const before = await head();
    const co = await checkout(remote.url);
    const r = await fn(co.dir);
    const file = path.join(o.logDir, `job${String(++seq).padStart(2, '0')}-${name}.log`);
    const logText = `${strip(r.out)}\n--- stderr ---\n${strip(r.err)}\n`;
    await writeFile(file, logText);
    const rec: JobRecord = { name, at, kind: name, shows, code: r.code, outputs: {}, before, after: await head(), workspace: co.dir, event, source: event === 'schedule' ? 'schedule' : 'person', link: 0, endAt: at, log: file, logText };
    night.jobs.push(rec);
    log(`${at.slice(5, 10)} ${at.slice(11, 16)}  ${name.padEnd(26)} exit ${String(r.code).padEnd(4)} ${''.padEnd(11)}           ${shows.join('; ')}`);
    return rec;
  };

  // The schedule is the shipped workflow's: factory.yml's cron over two nights of the default window (00:00–07:00
  // Seoul, 15:00–22:00Z), and the runs the trucks dispatch themselves (chaining), read from the fake GitHub's log
  // of workflow_dispatch events. A person dispatches twice: plan-compile the evening before, and one truck as a
  // lane matrix (factory-lanes.yml) in the day between the nights.
  const crons = await workflowCrons(FACTORY_YML);
  const fired = await scheduledRuns(FACTORY_YML, NIGHT_FROM, NIGHT_UNTIL);
  night.schedule = { crons, fired };
  const pending: Pending[] = [
    ...fired.map((at): Pending => ({ at, source: 'schedule', workflow: 'factory.yml', inputs: {}, link: 0 })),
    { at: '2026-11-20T13:05:00.000Z', source: 'person', workflow: 'factory.yml', inputs: { command: 'plan-compile' }, link: 0 },
    { at: '2026-11-21T12:05:00.000Z', source: 'person', workflow: 'factory-lanes.yml', inputs: {}, link: 0 },
  ];

  // The faults, in the order the truck jobs of factory.yml meet them (whichever started the job: the cron or a
  // chain). What a job does in between is the factory's own decision; the checks judge it.
  const protection = await branchProtection(remote.bare);
  const faults: Fault[] = [
    // The first online calls meet a 429 burst with a retryDelay, then an answer that is not JSON (SCHEMA: the
    // card's one rework passes); the ledger's TAG card has more chunks than batch_min_requests: a Batch API job.
    { shows: ['429 burst with retryDelay', 'a malformed answer (SCHEMA, one rework)', 'a Batch API job submitted'], before: async () => void gemini.script({ error: 'quota-minute', retryDelay: '1s' }, { error: 'quota-minute', retryDelay: '1s' }, { error: 'quota-minute', retryDelay: '1s' }, { text: '{"tags": ["related-party"], "strike": tru' }) },
    // The batch job has finished; its first poll fails once. A person pushes to main while the job runs.
    {
      shows: ['batch poll fails once, then collected', 'push race with a person'],
      before: async () => {
        gemini.finishBatches();
        gemini.scriptRoute('batches.get', { error: 'unavailable' });
      },
      beforeStep: async () => {
        const person = await checkout(remote.url);
        await writeFile(path.join(person.dir, 'NOTES.md'), 'A person wrote this while the factory ran.\n');
        await gitAsync(person.dir, 'add', 'NOTES.md');
        await gitAsync(person.dir, 'commit', '-q', '-m', 'notes: a person commits during the night');
        await gitAsync(person.dir, 'push', '-q', 'origin', 'HEAD:main');
        night.personCommit = (await gitAsync(person.dir, 'rev-parse', 'HEAD')).trim();
      },
    },
    // The runner dies: SIGKILL in the middle of the truck's second bundle.
    { shows: ['SIGKILL mid-bundle'], watch: (out, kill) => void (/bundle 1\/6 done[\s\S]*\[25\/120\]/.test(out) && kill('SIGKILL')), after: async (r) => void (night.killedRun = /run_\d{4}(?=: round \d+ truck [AB] of \d+ departs)/.exec(r.logText)?.[0]) },
    // Resumes the killed run; ten answers later the daily quota runs out: RECOVERABLE until midnight Pacific (08:00Z).
    { shows: ['resumes the killed run', 'daily quota exhausted: RECOVERABLE until 08:00Z'], before: async () => void gemini.script(...Array.from({ length: 10 }, () => ({ latencyMs: 0 })), { error: 'quota-day' }) },
    { shows: ['before retry_after: nothing'] },
    // The next night: a 503 streak outlasts the retries: RECOVERABLE.
    { shows: ['503 streak: RECOVERABLE'], before: async () => void gemini.script(...Array.from({ length: 5 }, () => ({ error: 'unavailable' as const }))) },
    { shows: ['resumes after the 503 streak'] },
    // Branch protection refuses the job's pushes to main (a pre-receive hook); a person lets the factory's App
    // past it before the next job. The side branch g7/unpushed/<run> is outside it, as the ruleset leaves it.
    {
      shows: ['push refused by branch protection'],
      before: () => protection.on(),
      after: async (r) => {
        await protection.off();
        night.refusedRun = r.outputs['run-id'];
        night.refusedCommits = (await gitAsync(r.workspace, 'rev-list', `${r.after}..HEAD`)).trim().split('\n').filter(Boolean);
      },
    },
    // A fresh clone: the runner that was refused is gone with its workspace (a GitHub-hosted runner).
    { shows: ['lands the refused evidence from g7/unpushed first (a fresh runner)'] },
  ];

  let seen = 0;
  while (pending.length) {
    if (night.jobs.length > 60) throw new Error('the night ran more than 60 jobs: a chain that does not end?');
    pending.sort((a, b) => a.at.localeCompare(b.at));
    const p = pending.shift()!;
    if (p.source === 'chain') night.chainRuns++;
    const event = p.source === 'schedule' ? undefined : { name: 'workflow_dispatch', payload: { inputs: p.inputs } };
    const via = p.source === 'chain' ? `chain ${p.link}` : p.source === 'person' ? 'dispatch' : 'cron';
    let last: JobRecord;
    if (p.workflow === 'factory-lanes.yml') {
      // One truck as a lane matrix: a prepare job, one job per lane on its own clone, all at once, pushing to the
      // one remote, then a merge job that seals the run.
      const o = { event, workflow: p.workflow, source: p.source, link: p.link };
      const prep = await job('lanes-prepare', p.at, 'lanes', ['lane matrix: prepare'], { ...o, inputs: { command: 'prepare-lanes', ...lanesInputs(p.inputs) } });
      const runId = prep.outputs['run-id'] ?? '';
      const lanes = JSON.parse(prep.outputs.lanes || '[]') as number[];
      const laneJobs = await Promise.all(lanes.map((l) => job(`lane-${l}`, nextMinuteAfter(prep.endAt), 'lanes', [`lane matrix: lane ${l}`], { ...o, inputs: { command: 'lane', 'run-id': runId, lanes: String(l) } })));
      last = await job('lanes-merge', nextMinuteAfter([prep, ...laneJobs].map((j) => j.endAt).sort().at(-1)!), 'lanes', ['lane matrix: merge and seal'], { ...o, inputs: { command: 'merge-lanes', 'run-id': runId, 'chain-link': p.inputs.chain || '0' } });
    } else {
      const inputs = factoryInputs(p.inputs);
      const truck = inputs.command === 'run';
      const f = truck ? faults.shift() : undefined;
      const shows = f?.shows ?? (truck ? ['the next truck'] : [`a person dispatches ${inputs.command}`]);
      await f?.before?.();
      last = await job(truck ? `truck (${via})` : inputs.command!, p.at, truck ? 'run' : (inputs.command as JobRecord['kind']), shows, { inputs, event, workflow: p.workflow, source: p.source, link: p.link, ...(f?.watch ? { watch: f.watch } : {}), ...(f?.beforeStep ? { beforeStep: f.beforeStep } : {}) });
      await f?.after?.(last);
    }
    // The runs this job dispatched (chaining) start once it is gone: GitHub's concurrency group holds them.
    for (const d of github.dispatches.slice(seen)) pending.push({ at: nextMinuteAfter(last.endAt), source: 'chain', workflow: d.workflow, inputs: d.inputs, link: Number(d.inputs.chain ?? 0) });
    seen = github.dispatches.length;
  }
  night.factoryRequests = gemini.requests.length;
  const lastAt = night.jobs.map((j) => j.endAt).sort().at(-1)!;
  // The nightly coreloop job at coreloop.yml's own cron, the first after the last truck.
  const coreloopAt = (await scheduledRuns(path.join(REPO, '.github/workflows/coreloop.yml'), lastAt, plusMinutes(lastAt, 48 * 60)))[0]!;
  // After the last truck — the nightly coreloop pattern job, as coreloop.yml runs it: mine
  // the audit log in a fresh checkout, commit the candidates, push.
  await step('coreloop-pattern', coreloopAt, ['coreloop pattern over the night\'s audit log, candidates committed'], async (dir) => {
    const r = await g7Process(dir, ['coreloop', 'pattern', '--since', '30d', '--min-repeat', '3', '--min-unique-questions', '3', '--min-chunk-len', '400', '--sanitize'], { G7_NOW: coreloopAt, GEMINI_API_KEY: CANARY });
    await gitAsync(dir, 'add', 'ssot/audit');
    const staged = await gitAsync(dir, 'diff', '--cached', '--name-only');
    if (staged.trim()) {
      await gitAsync(dir, 'commit', '-q', '-m', 'g7: coreloop pattern candidates');
      await gitAsync(dir, 'push', '-q', 'origin', 'HEAD:main');
    }
    return r;
  });
  // A person dispatches coreloop.yml's promote with the night's first candidate: the change is committed on a
  // skill/docstring-* branch; promote pushes it and opens a draft pull request through the forge (once issue 10
  // lands; before that the branch stays in the job's clone and no pull request exists). Then someone enables
  // auto-merge on it, and the policy job (ai-policy.yml) must undo that and fail.
  const promoteAt = plusMinutes(coreloopAt, 14);
  github.expect('pulls/create', { draft: true }).expect('issues/add-labels');
  await step('coreloop-promote', promoteAt, ['coreloop refine: the reflector writes a Caveat for the refused tags; refine --confirm checks it live and opens the draft PR'], (dir) => refineJob(dir, promoteAt, { GEMINI_API_KEY: CANARY, GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: github.fullName, GITHUB_API_URL: github.url }), 'workflow_dispatch');
  const pr = [...Array(10).keys()].map((n) => github.pull(n + 1)).find((p) => String(p?.title ?? '').startsWith('[CORELOOP-'));
  if (pr) {
    const n = Number(pr.number);
    const labels = ((pr.labels as { name: string }[]) ?? []).map((l) => l.name);
    const payload = webhookPayload('auto_merge_enabled', { number: n, nodeId: String(pr.node_id), title: String(pr.title), head: String((pr.head as { ref: string }).ref), labels, autoMerge: true });
    pr.auto_merge = (payload.pull_request as { auto_merge: unknown }).auto_merge;
    github.expect('pulls/get', { pull_number: n }).expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments', { issue_number: n }).expect('issues/create-comment', { issue_number: n });
    const policy = await job('policy', plusMinutes(coreloopAt, 16), 'policy', ['auto-merge enabled on the coreloop PR: the policy job must undo it'], { inputs: { command: 'policy' }, event: { name: 'pull_request_target', payload } });
    const after = github.pull(n)!;
    night.coreloopPr = { number: n, title: String(after.title), draft: Boolean(after.draft), blocked: policy.outputs.policy === 'fail' && after.auto_merge === null };
  } else log(`${plusMinutes(coreloopAt, 16).slice(11, 16)}  policy                     PENDING: no coreloop pull request to guard (promote opened none)`);
  night.morningAt = plusMinutes(coreloopAt, 60);
  return night;
}
