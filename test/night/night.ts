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
import { COMMANDS } from '../../src/action/settings.js';
import { gitAsync, g7Process, type G7Process } from '../factory/fixture.js';
import { nightRepo } from './setup.js';
import { followsCaveats, refineJob } from './coreloop.js';

/** The night's Gemini key: a canary that must never show up in a committed file or a log. */
export const CANARY = 'AIzaSyNIGHT-canary-key-0000000000000001';

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
  /** The event that started the job: schedule, or workflow_dispatch (a person). */
  event: string;
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
 * push to main is refused as GitHub refuses a protected branch. The night turns it on for one job.
 */
async function branchProtection(bare: string): Promise<{ on(): Promise<void>; off(): Promise<void> }> {
  const hook = path.join(bare, 'hooks', 'pre-receive');
  await mkdir(path.dirname(hook), { recursive: true });
  await writeFile(
    hook,
    `#!/bin/sh
if [ -e "$GIT_DIR/protect" ]; then
  echo "error: GH006: Protected branch update failed for refs/heads/main." >&2
  echo "error: Changes must be made through a pull request." >&2
  exit 1
fi
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
  const night: Night = { jobs: [], remote, gemini, github, logDir: o.logDir, morningAt: '', factoryRequests: 0, close: async () => { await remote.close(); await gemini.close(); await github.close(); } };
  const head = async () => (await gitAsync(remote.bare, 'rev-parse', 'refs/heads/main')).trim();

  let seq = 0;
  /** One scheduled (or dispatched) job of the factory workflow: a fresh checkout, then the action's step. */
  const job = async (
    name: string,
    at: string,
    kind: JobRecord['kind'],
    shows: string[],
    opts: { inputs?: Record<string, string>; workspace?: string; beforeStep?: (workspace: string) => Promise<void>; watch?: Parameters<typeof runBundle>[0]['watch']; event?: { name: string; payload: unknown } } = {},
  ): Promise<JobRecord> => {
    const before = await head();
    const co = opts.workspace ? { dir: opts.workspace, sha: (await gitAsync(opts.workspace, 'rev-parse', 'HEAD')).trim() } : await checkout(remote.url);
    await opts.beforeStep?.(co.dir);
    let killed = false;
    // The workflow hands the action github.token: a truck (and a lane run's merge) creates a check run on its
    // evidence commit.
    if (kind === 'run' || opts.inputs?.command === 'merge-lanes') github.expect('checks/create');
    const r: ActionRun = await runBundle({
      workspace: co.dir,
      sha: co.sha,
      apiUrl: github.url,
      repository: github.fullName,
      ...(opts.event ? { event: opts.event } : {}),
      inputs: { command: kind === 'lanes' ? 'run' : kind, 'gemini-api-key': CANARY, 'github-token': TOKEN, ...opts.inputs },
      env: { G7_NOW: at },
      ...(opts.watch ? { watch: (out: string, kill: (s: NodeJS.Signals) => void) => opts.watch!(out, (s) => ((killed = true), kill(s))) } : {}),
    });
    const file = path.join(o.logDir, `job${String(++seq).padStart(2, '0')}-${name}.log`);
    const logText = `${strip(r.stdout)}\n--- stderr ---\n${strip(r.stderr)}\n--- summary ---\n${r.summary}`;
    await writeFile(file, logText);
    const rec: JobRecord = { name, at, kind, shows, code: r.code, outputs: r.outputs, before, after: await head(), workspace: co.dir, event: opts.event?.name ?? 'schedule', log: file, logText, ...(killed ? { killed } : {}) };
    night.jobs.push(rec);
    log(`${at.slice(11, 16)}  ${name.padEnd(26)} exit ${(killed ? 'KILL' : String(r.code)).padEnd(4)} ${(r.outputs.state ?? '').padEnd(11)} ${r.outputs['run-id'] ?? ''}${killed ? ' (SIGKILLed)' : ''}  ${shows.join('; ')}`);
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
    const rec: JobRecord = { name, at, kind: name, shows, code: r.code, outputs: {}, before, after: await head(), workspace: co.dir, event, log: file, logText };
    night.jobs.push(rec);
    log(`${at.slice(11, 16)}  ${name.padEnd(26)} exit ${String(r.code).padEnd(4)} ${''.padEnd(11)}           ${shows.join('; ')}`);
    return rec;
  };

  const T = (hhmm: string, day = '2026-11-21') => `${day}T${hhmm}:00.000Z`;
  const state = (r: JobRecord) => r.outputs.state ?? '';

  // The evening before: a person dispatches plan-compile.
  await job('plan-compile', T('22:05', '2026-11-20'), 'plan-compile', ['a person compiles the day plan (dispatch)'], { event: { name: 'workflow_dispatch', payload: { inputs: { command: 'plan-compile' } } } });

  // 00:23 — round 1 truck A. Its first TAG card has more chunks than batch_min_requests: a Batch API job.
  // The first online calls meet a 429 burst with a retryDelay, then an answer that is not JSON (SCHEMA: the
  // card's one rework passes).
  gemini.script(
    { error: 'quota-minute', retryDelay: '1s' },
    { error: 'quota-minute', retryDelay: '1s' },
    { error: 'quota-minute', retryDelay: '1s' },
    { text: '{"tags": ["related-party"], "strike": tru' },
  );
  await job('truck', T('00:23'), 'run', ['429 burst with retryDelay', 'a malformed answer (SCHEMA, one rework)', 'a Batch API job submitted']);

  // 01:23 — the batch job has finished; its first poll fails once. A person pushes to main while the job runs.
  gemini.finishBatches();
  gemini.scriptRoute('batches.get', { error: 'unavailable' });
  await job('truck', T('01:23'), 'run', ['batch poll fails once, then collected', 'push race with a person'], {
    beforeStep: async () => {
      const person = await checkout(remote.url);
      await writeFile(path.join(person.dir, 'NOTES.md'), 'A person wrote this while the factory ran.\n');
      await gitAsync(person.dir, 'add', 'NOTES.md');
      await gitAsync(person.dir, 'commit', '-q', '-m', 'notes: a person commits during the night');
      await gitAsync(person.dir, 'push', '-q', 'origin', 'HEAD:main');
      night.personCommit = (await gitAsync(person.dir, 'rev-parse', 'HEAD')).trim();
    },
  });

  // 02:23 — the runner dies: SIGKILL in the middle of the truck's second bundle.
  const killed = await job('truck', T('02:23'), 'run', ['SIGKILL mid-bundle'], {
    watch: (out, kill) => {
      if (/bundle 1\/6 done[\s\S]*\[25\/120\]/.test(out)) kill('SIGKILL');
    },
  });
  night.killedRun = /run_\d{4}(?=: round \d+ truck [AB] of \d+ departs)/.exec(killed.logText)?.[0];

  // 03:23 — resumes the killed run; then a 503 streak outlasts the retries: RECOVERABLE.
  gemini.script(...Array.from({ length: 5 }, () => ({ error: 'unavailable' as const })));
  await job('truck', T('03:23'), 'run', ['resumes the killed run', '503 streak: RECOVERABLE']);

  // 04:23 — resumes; ten answers later the daily quota runs out: RECOVERABLE until midnight Pacific (08:00Z).
  gemini.script(...Array.from({ length: 10 }, () => ({ latencyMs: 0 })), { error: 'quota-day' });
  await job('truck', T('04:23'), 'run', ['daily quota exhausted: RECOVERABLE until 08:00Z']);
  // 06:23 — before retry_after: does nothing.
  await job('truck', T('06:23'), 'run', ['before retry_after: nothing']);
  // 08:23 — after it: resumes.
  await job('truck', T('08:23'), 'run', ['after retry_after: resumes']);

  // 09:23 — branch protection refuses the job's pushes (a pre-receive hook); a person lets the factory's App
  // past it before the next job.
  const protection = await branchProtection(remote.bare);
  await protection.on();
  const refused = await job('truck', T('09:23'), 'run', ['push refused by branch protection']);
  await protection.off();
  night.refusedRun = refused.outputs['run-id'];
  night.refusedCommits = (await gitAsync(refused.workspace, 'rev-list', `${refused.after}..HEAD`)).trim().split('\n').filter(Boolean);
  // 10:23 — on the same runner (a self-hosted runner keeps its workspace): pushes what was refused, then departs.
  await job('truck', T('10:23'), 'run', ['pushes the refused evidence first (same workspace)'], { workspace: refused.workspace });

  // Lane matrix: PENDING until the lane matrix (issue 9 item 4) lands: then one job runs lanes as a matrix.
  // The rest of the night: one truck per job until the factory stops for a person or has nothing left.
  // 11:23 — one truck as a lane matrix (factory-lanes.yml): a prepare job, one job per lane on its own clone,
  // all at once, pushing to the one remote, then a merge job that seals the run. Until the action has the lane
  // commands (issue 9 item 4), this job is PENDING and the truck runs as one job like the others.
  let h = 11;
  if ((COMMANDS as readonly string[]).includes('prepare-lanes')) {
    const at = T('11:23');
    const prep = await job('lanes-prepare', at, 'lanes', ['lane matrix: prepare'], { inputs: { command: 'prepare-lanes' } });
    const runId = prep.outputs['run-id'] ?? '';
    const lanes = JSON.parse(prep.outputs.lanes || '[]') as number[];
    await Promise.all(lanes.map((l) => job(`lane-${l}`, at, 'lanes', [`lane matrix: lane ${l}`], { inputs: { command: 'lane', 'run-id': runId, lanes: String(l) } })));
    await job('lanes-merge', at, 'lanes', ['lane matrix: merge and seal'], { inputs: { command: 'merge-lanes', 'run-id': runId } });
    h++;
  } else log('--:--  lane matrix                PENDING: one truck runs as a lane matrix once the action has the lane commands');
  for (; h <= 21; h++) {
    const r = await job('truck', T(`${String(h).padStart(2, '0')}:23`), 'run', ['the next truck']);
    if (state(r) === 'FAIL_STOP' || /nothing to run/.test(r.logText)) break;
  }
  const hh = (n: number) => String(n).padStart(2, '0');
  night.factoryRequests = gemini.requests.length;

  // After the last truck — the nightly coreloop pattern job, as coreloop.yml runs it: mine
  // the audit log in a fresh checkout, commit the candidates, push.
  await step('coreloop-pattern', T(`${hh(h)}:41`), ['coreloop pattern over the night\'s audit log, candidates committed'], async (dir) => {
    const r = await g7Process(dir, ['coreloop', 'pattern', '--since', '30d', '--min-repeat', '3', '--min-unique-questions', '3', '--min-chunk-len', '400', '--sanitize'], { G7_NOW: T(`${hh(h)}:41`), GEMINI_API_KEY: CANARY });
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
  const promoteAt = T(`${hh(h)}:55`);
  github.expect('pulls/create', { draft: true }).expect('issues/add-labels');
  await step('coreloop-promote', promoteAt, ['coreloop refine: the reflector writes a Caveat for the refused tags; refine --confirm checks it live and opens the draft PR'], (dir) => refineJob(dir, promoteAt, { GEMINI_API_KEY: CANARY, GITHUB_TOKEN: TOKEN, GITHUB_REPOSITORY: github.fullName, GITHUB_API_URL: github.url }), 'workflow_dispatch');
  const pr = [...Array(10).keys()].map((n) => github.pull(n + 1)).find((p) => String(p?.title ?? '').startsWith('[CORELOOP-'));
  if (pr) {
    const n = Number(pr.number);
    const labels = ((pr.labels as { name: string }[]) ?? []).map((l) => l.name);
    const payload = webhookPayload('auto_merge_enabled', { number: n, nodeId: String(pr.node_id), title: String(pr.title), head: String((pr.head as { ref: string }).ref), labels, autoMerge: true });
    pr.auto_merge = (payload.pull_request as { auto_merge: unknown }).auto_merge;
    github.expect('pulls/get', { pull_number: n }).expect('graphql:disablePullRequestAutoMerge').expect('issues/list-comments', { issue_number: n }).expect('issues/create-comment', { issue_number: n });
    const policy = await job('policy', T(`${hh(h)}:57`), 'policy', ['auto-merge enabled on the coreloop PR: the policy job must undo it'], { inputs: { command: 'policy' }, event: { name: 'pull_request_target', payload } });
    const after = github.pull(n)!;
    night.coreloopPr = { number: n, title: String(after.title), draft: Boolean(after.draft), blocked: policy.outputs.policy === 'fail' && after.auto_merge === null };
  } else log(`${hh(h)}:57  policy                     PENDING: no coreloop pull request to guard (promote opened none)`);
  night.morningAt = T(`${hh(h + 1)}:30`);
  return night;
}
