// The six things a night must show (issue 11), each judged from the files of a fresh clone of the remote,
// the remote's git history and the fakes' request logs; never from what the program says it counted.
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { JournalEvent, VerifyReport } from '../../src/contracts/types.gen.js';
import { checkout } from '../action/runner.js';
import { gitAsync } from '../factory/fixture.js';
import { g7Process } from '../factory/fixture.js';
import { CANARY, NIGHT_FROM, type Night } from './night.js';
import { NIGHT_DAY } from './setup.js';
import { journalText } from '../ssot/journal-lines.js';
import { coreloopProblems } from './coreloop.js';
import { DEFAULT_NIGHT, nightEndsAt } from '../../src/ssot/night.js';

export interface Check {
  n: number;
  title: string;
  /** PENDING: the step it needs has not landed yet (said so, never counted as held). */
  result: 'ok' | 'FAIL' | 'PENDING';
  details: string[];
}


async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

/** Every object in a bare repository, uncompressed, searched for a string: blobs of every commit, every message. */
function objectsContain(bare: string, needle: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const p = spawn('git', ['cat-file', '--batch-all-objects', '--batch'], { cwd: bare });
    const want = Buffer.from(needle);
    let tail = Buffer.alloc(0);
    let found = false;
    p.stdout.on('data', (b: Buffer) => {
      const buf = Buffer.concat([tail, b]);
      if (buf.includes(want)) found = true;
      tail = buf.subarray(Math.max(0, buf.length - want.length));
    });
    p.on('error', reject);
    p.on('close', () => resolve(found));
  });
}

/** The request as the service would bill it: the same body twice is the same request. */
const requestKey = (body: unknown) => createHash('sha256').update(JSON.stringify(body)).digest('hex');

export async function checkNight(night: Night): Promise<{ checks: Check[]; morning: string; final: string }> {
  const checks: Check[] = [];
  const add = (n: number, title: string, problems: string[], details: string[], pending?: string) =>
    checks.push({ n, title, result: pending ? 'PENDING' : problems.length ? 'FAIL' : 'ok', details: pending ? [pending, ...details] : [...problems.map((p) => `FAIL: ${p}`), ...details] });
  const final = (await checkout(night.remote.url)).dir;
  const g7 = (...args: string[]) => g7Process(final, args, { G7_NOW: night.morningAt });
  const ssot = path.join(final, 'ssot');
  const runs = (await readdir(path.join(ssot, 'runs'))).filter((n) => /^run_\d{4}$/.test(n)).sort();
  const reports = new Map<string, VerifyReport>();
  for (const r of runs) reports.set(r, await readJson<VerifyReport>(path.join(ssot, 'runs', r, 'verify_report.json')));
  const journal: JournalEvent[] = (await journalText(ssot)).split('\n').filter(Boolean).map((l) => JSON.parse(l) as JournalEvent);
  const morningRun = await g7('morning', '--since', NIGHT_FROM);
  const morning = morningRun.out;

  // 1. At least 5 run directories, each a verifying evidence pack, all on the remote (this is its clone).
  {
    const problems: string[] = [];
    const verified: string[] = [];
    for (const r of runs) {
      const v = await g7('verify', r);
      if (v.code !== 0 || !/^ok /.test(v.out)) problems.push(`${r} does not verify: ${v.out}${v.err}`);
      else verified.push(r);
    }
    // Made by the shipped schedule alone: factory.yml's cron and the runs its trucks dispatched (chaining).
    const unattended = night.jobs.filter((j) => j.kind === 'run' && j.source !== 'person');
    const byPerson = night.jobs.filter((j) => j.kind === 'run' && j.source === 'person');
    if (byPerson.length) problems.push(`trucks started by hand: ${byPerson.map((j) => `${j.name} at ${j.at}`).join(', ')}`);
    const made = runs.filter((r) => unattended.some((j) => j.outputs['run-id'] === r));
    if (made.length < 5) problems.push(`only ${made.length} run directories on the remote were made by the schedule and its chaining (of ${runs.length})`);
    const chained = unattended.filter((j) => j.source === 'chain');
    if (!chained.length) problems.push('no truck chained the next run');
    if (night.github.dispatches.length !== night.chainRuns) problems.push(`the fake GitHub took ${night.github.dispatches.length} dispatch(es); the night played ${night.chainRuns} chained run(s)`);
    // A chained run whose clock is past the night's end departs nothing (SPEC 9a: the night stops at its end).
    const late = chained.filter((j) => !nightEndsAt(DEFAULT_NIGHT, new Date(j.at)) && /run_\d{4}: round \d+ truck [AB] of \d+ departs/.test(j.logText));
    if (late.length) problems.push(`a chained run departed past the night's end: ${late.map((j) => j.at).join(', ')}`);
    // Every truck job that pushed evidence made a check run on its evidence commit, and GitHub refused nothing.
    const pushed = night.jobs.filter((j) => j.kind === 'run' && j.outputs['run-id'] && j.before !== j.after && j.outputs.commit === j.after);
    for (const j of pushed) if (!night.github.checkRuns.some((c) => c.head_sha === j.after && c.name === `g7 ${j.outputs['run-id']}`)) problems.push(`no check run g7 ${j.outputs['run-id']} on the evidence commit the job at ${j.at} pushed`);
    for (const p of night.github.problems) problems.push(`fake GitHub: ${p.length > 300 ? `${p.slice(0, 300)}…` : p}`);
    add(1, 'at least 5 run directories, made by the shipped schedule and its chaining alone, each verifying, all on the remote', problems, [
      `${made.length} of ${runs.length} run directories made by factory.yml's cron (${night.schedule.crons.join('; ')}: ${night.schedule.fired.length} scheduled runs) and ${chained.length} chained run(s) (links ${chained.map((j) => j.link).join(', ')}, each a workflow_dispatch the fake GitHub took), none by a person`,
      `${verified.length} of ${runs.length} verify on a fresh clone (g7 verify): ${runs[0]} … ${runs.at(-1)}`,
      `${night.github.checkRuns.length} check runs on evidence commits (the fake GitHub, validated against GitHub's OpenAPI description), one for each of the ${pushed.length} jobs that pushed a run`,
    ]);
  }

  // 2. The strike list grew across the scan rounds, with no duplicate entries.
  {
    const problems: string[] = [];
    const rel = 'ssot/library_index/strike_list.jsonl';
    const commits = (await gitAsync(night.remote.bare, 'log', '--reverse', '--format=%H%x1f%(trailers:key=G7-Run,valueonly,separator=)%x1f%(trailers:key=G7-Round,valueonly,separator=)', 'refs/heads/main', '--', rel)).trim().split('\n').filter(Boolean);
    const sizes: { run: string; round: string; lines: number }[] = [];
    for (const c of commits) {
      const [sha, run, round] = c.split('\x1f');
      const text = await gitAsync(night.remote.bare, 'show', `${sha}:${rel}`).catch(() => '');
      sizes.push({ run: run!, round: round!, lines: text.split('\n').filter(Boolean).length });
    }
    for (let i = 1; i < sizes.length; i++) if (sizes[i]!.lines < sizes[i - 1]!.lines) problems.push(`it shrank from ${sizes[i - 1]!.lines} to ${sizes[i]!.lines} lines (${sizes[i]!.run})`);
    const growingRuns = new Set(sizes.filter((s, i) => s.lines > (sizes[i - 1]?.lines ?? 0)).map((s) => s.run));
    if (growingRuns.size < 2) problems.push(`it grew in ${growingRuns.size} run(s); a night's scan should grow it in several`);
    const lines = (await readFile(path.join(final, rel), 'utf8')).split('\n').filter(Boolean);
    const keys = lines.map((l) => (JSON.parse(l) as { key: string }).key);
    const dupes = keys.filter((k, i) => keys.indexOf(k) !== i);
    if (dupes.length) problems.push(`${dupes.length} duplicate entries, e.g. ${dupes[0]}`);
    add(2, 'strike_list.jsonl grew across the scan rounds, no duplicates', problems, [`lines per commit that changed it: ${sizes.map((s) => s.lines).join(' → ')} (grown by ${[...growingRuns].join(', ')}); ${lines.length} entries, ${new Set(keys).size} distinct`]);
  }

  // 3. Every FAIL produced a rework pack; every stop is explained in g7 status and the morning report.
  {
    const problems: string[] = [];
    const fails: string[] = [];
    for (const [id, rep] of reports)
      for (const c of rep.cards.filter((x) => x.status === 'FAIL')) {
        fails.push(`${id}/${c.id}`);
        const pack = path.join(ssot, 'rework', `${rep.day}_${c.id}_${id}.json`);
        const ok = await readJson<{ card: { id: string } }>(pack).then((p) => p.card.id === c.id, () => false);
        if (!ok) problems.push(`${c.id} failed in ${id} without a rework pack (${path.relative(final, pack)})`);
      }
    const stops = journal.filter((e) => e.event === 'run_stop' && e.state !== 'READY');
    for (const s of stops) if (!morning.includes(`| ${s.run} |`) || !morning.includes((s.detail ?? '').slice(0, 60).replace(/\|/g, '\\|'))) problems.push(`the morning report does not explain the stop of ${s.run} (${s.state}: ${s.detail})`);
    const status = await g7('status');
    const state = await readJson<{ state: string; last_stop: { reason: string } | null }>(path.join(ssot, 'state/factory_state.json'));
    if (state.last_stop && !status.out.includes(state.last_stop.reason)) problems.push(`g7 status does not say why the factory stopped (${state.last_stop.reason})`);
    if (!/^next: /m.test(status.out)) problems.push('g7 status does not say what comes next');
    const silent = night.jobs.filter((j) => j.kind === 'run' && !j.killed && j.before === j.after && !/nothing to do before then|nothing to run|refused the push|REFUSED: FAIL_STOP since|the night ended/.test(j.logText));
    for (const j of silent) problems.push(`the job at ${j.at} changed nothing on the remote and did not say why`);
    add(3, 'every FAIL has a rework pack; every stop is explained in g7 status and the morning report', problems, [`${fails.length} FAIL card(s): ${fails.join(', ') || 'none'}`, `${stops.length} stop(s) that were not READY, each in the morning report; g7 status: ${status.out.split('\n').find((l) => l.startsWith('state:')) ?? '?'}`]);
  }

  // 4. Nothing lost.
  {
    const problems: string[] = [];
    const details: string[] = [];
    // Every card of every truck accounted for exactly once: one result (PASS or FAIL) per time it was issued (a
    // card the strike list's growth compiled anew is requeued, and runs again), none lost: a card without any
    // record is only allowed behind the slot where a FAIL_STOP stopped its truck.
    const results = new Map<string, JournalEvent[]>();
    for (const e of journal.filter((x) => x.event === 'card_result')) results.set(e.card!, [...(results.get(e.card!) ?? []), e]);
    const requeued = new Map<string, number>();
    for (const e of journal.filter((x) => x.event === 'requeue')) requeued.set(e.card!, (requeued.get(e.card!) ?? 0) + 1);
    const failStops = journal.filter((e) => e.event === 'run_stop' && e.state === 'FAIL_STOP');
    const seen = new Set<string>();
    let unreached = 0;
    let trucks = 0;
    const roundsDir = path.join(ssot, 'packets', NIGHT_DAY);
    for (const round of (await readdir(roundsDir)).sort())
      for (const truck of ['A', 'B'] as const) {
        const file = path.join(roundsDir, round, `packet_${truck}.jsonl`);
        const slots = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { slot: number; card: { id: string } });
        if (slots.length) trucks++;
        const roundNo = Number(round.slice('round_'.length));
        const stoppedAt = failStops.filter((s) => s.round === roundNo && s.truck === truck).map((s) => results.get((/^(\S+) failed/.exec(s.detail ?? '') ?? [])[1] ?? '')?.[0]?.slot ?? 0);
        for (const s of slots) {
          const id = s.card.id;
          const rs = results.get(id) ?? [];
          if (rs.length === 0) {
            if (stoppedAt.some((slot) => slot > 0 && s.slot > slot)) unreached++;
            else problems.push(`${id} (${round} truck ${truck} slot ${s.slot}) has no result and was not behind a stop`);
          }
          if (seen.has(id)) continue;
          seen.add(id);
          // A SKIP is a card held back in one run, with the reason (a dep not done); it may run in a later one.
          const allowed = 1 + (requeued.get(id) ?? 0);
          const ran = rs.filter((r) => r.status !== 'SKIP');
          if (ran.length > allowed) problems.push(`${id} has ${ran.length} results for ${allowed} issue(s): ${rs.map((r) => `${r.status} in ${r.run}`).join(', ')}`);
        }
      }
    details.push(`${seen.size} cards in ${trucks} trucks: each with one result per issue (${[...requeued.values()].reduce((a, b) => a + b, 0)} requeued by a recompile), ${unreached} behind the FAIL_STOP`);

    // The killed job's truck resumed: the next job continued the same run.
    const killedAt = night.jobs.findIndex((j) => j.killed);
    const resumer = night.jobs[killedAt + 1];
    if (killedAt < 0 || !night.killedRun) problems.push('no job was killed');
    else if (!resumer || !resumer.logText.includes(`resuming ${night.killedRun}`)) problems.push(`the job after the kill did not resume ${night.killedRun}`);
    else details.push(`killed at ${night.jobs[killedAt]!.at.slice(11, 16)} in ${night.killedRun}; resumed by the job at ${resumer.at.slice(11, 16)}`);

    // The job before a RECOVERABLE stop's retry_after did nothing: no commit, no run; the one after resumed.
    const early = night.jobs.find((j) => j.shows.some((s) => s.includes('before retry_after')));
    const later = early && night.jobs[night.jobs.indexOf(early) + 1];
    if (!early || !later) problems.push('no job ran before a retry_after');
    else if (early.before !== early.after || !/nothing to do before then/.test(early.logText)) problems.push(`the job at ${early.at} before retry_after changed the remote or did not say why`);
    else if (later.before === later.after || !/resumes the truck after RECOVERABLE|departs/.test(later.logText)) problems.push(`the job at ${later.at} after retry_after did not resume`);
    else details.push(`daily quota: the job at ${early.at.slice(11, 16)} (before retry_after) made no commit and no run; the one at ${later.at.slice(11, 16)} resumed in ${later.outputs['run-id']}`);

    // Both sides of the push race are in the history.
    const isAncestor = (a: string) => gitAsync(night.remote.bare, 'merge-base', '--is-ancestor', a, 'refs/heads/main').then(() => true, () => false);
    const racer = night.jobs.find((j) => j.shows.some((s) => s.includes('push race')));
    const racerCommits = racer ? (await gitAsync(night.remote.bare, 'log', '--format=%H', `${racer.before}..${racer.after}`)).trim().split('\n').filter(Boolean) : [];
    if (!night.personCommit || !(await isAncestor(night.personCommit))) problems.push("the person's commit is not in the history");
    else if (racerCommits.length < 2 || !racerCommits.includes(night.personCommit)) problems.push("the racing job's evidence and the person's commit are not both in the history");
    else details.push(`push race: the person's ${night.personCommit.slice(0, 10)} and ${racerCommits.length - 1} evidence commit(s) of ${racer!.outputs['run-id']} are both on main`);

    // The refused push's evidence arrived with the next job.
    const refusedJob = night.jobs.find((j) => j.shows.some((s) => s.includes('push refused')));
    if (!refusedJob || !night.refusedCommits?.length) problems.push('no push was refused');
    else {
      const next = night.jobs[night.jobs.indexOf(refusedJob) + 1]!;
      const onRemoteAfterRefusal = await Promise.all(night.refusedCommits.map((c) => gitAsync(night.remote.bare, 'merge-base', '--is-ancestor', c, refusedJob.after).then(() => true, () => false)));
      const arrived = (await gitAsync(night.remote.bare, 'log', '--format=%H', `${next.before}..${next.after}`)).split('\n');
      if (onRemoteAfterRefusal.some(Boolean)) problems.push('the refused evidence was on the remote right after the refusal');
      else if (!night.refusedCommits.every((c) => arrived.includes(c))) problems.push(`the refused evidence (${night.refusedCommits.length} commit(s)) did not arrive with the next job`);
      else details.push(`${night.refusedCommits.length} commit(s) of ${night.refusedRun} refused at ${refusedJob.at.slice(11, 16)}, parked on g7/unpushed/${night.refusedRun} and landed by the job at ${next.at.slice(11, 16)} on a fresh clone`);
      if (next.workspace === refusedJob.workspace) problems.push('the job after the refusal ran in the refused job\'s workspace: a GitHub-hosted runner is discarded');
      const parked = (await gitAsync(night.remote.bare, 'for-each-ref', '--format=%(refname)', 'refs/heads/g7/unpushed/')).trim();
      if (parked) problems.push(`side branches left on the remote after the night: ${parked.split('\n').join(', ')}`);
    }

    // No model request was paid for twice: paid calls / unique requests, from the fake's request log.
    const paid: string[] = [];
    for (const r of night.gemini.requests.slice(0, night.factoryRequests)) {
      if (r.route === 'generateContent' && r.status === 200) paid.push(requestKey(r.body));
      if (r.route === 'batchGenerateContent' && r.status === 200) {
        const reqs = (((r.body as { batch?: { inputConfig?: { requests?: { requests?: { request: unknown }[] } } } }).batch?.inputConfig?.requests?.requests) ?? []);
        for (const x of reqs) paid.push(requestKey(x.request));
      }
    }
    const ratio = paid.length / new Set(paid).size;
    if (ratio !== 1) problems.push(`paid calls / unique requests = ${ratio.toFixed(2)} (${paid.length} / ${new Set(paid).size})`);
    const replays = night.gemini.requests.length - night.factoryRequests;
    details.push(`paid calls / unique requests = ${ratio.toFixed(2)} (${paid.length} / ${new Set(paid).size}, from the fake Gemini's log of the trucks' calls; ${night.gemini.requests.slice(0, night.factoryRequests).filter((r) => r.status >= 400).length} refused requests not paid${replays ? `; then ${replays} calls of coreloop's reproduction check, which asks again on purpose` : ''})`);

    // The canary key: in no object of the remote (every file of every commit, every message) and no log.
    // The search must see what is there: the trailers of every evidence commit, and a line of the ledger.
    for (const known of ['G7-Manifest:', 'a related-party loan of KRW 9 million']) if (!(await objectsContain(night.remote.bare, known))) problems.push(`the object search does not find "${known}", which is in the remote`);
    if (await objectsContain(night.remote.bare, CANARY)) problems.push('the canary key is in the remote repository');
    const leaks: string[] = [];
    for (const j of night.jobs) if (j.logText.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n').includes(CANARY)) leaks.push(path.basename(j.log));
    for (const f of await readdir(night.logDir)) if (!f.endsWith('.log') && (await readFile(path.join(night.logDir, f), 'utf8')).includes(CANARY)) leaks.push(f);
    if (leaks.length) problems.push(`the canary key is in ${leaks.join(', ')}`);
    details.push(`canary key: in none of the remote's objects and none of the ${night.jobs.length} job logs (the runner's ::add-mask:: lines aside)`);
    add(4, 'nothing lost: each card once, the killed truck resumed, both sides of the race, the refused evidence arrived, nothing paid twice, no key leaked', problems, details);
  }

  // 5. g7 log reproduces the night from git log alone.
  {
    const problems: string[] = [];
    const log = await g7('log', '--json');
    const rows = JSON.parse(log.out || '[]') as { run: string; round: number; truck: string; state: string; passed: number; failed: number }[];
    const byRun = new Map(rows.map((r) => [r.run, r]));
    for (const [id, rep] of reports) {
      const row = byRun.get(id);
      if (!row) problems.push(`${id} is missing from g7 log`);
      else if (row.state !== rep.state || row.passed !== rep.counts.passed || row.failed !== rep.counts.failed || row.truck !== rep.truck || row.round !== (rep.round ?? 1))
        problems.push(`${id}: g7 log says ${row.state} ${row.passed}/${row.failed} round ${row.round} ${row.truck}, the evidence ${rep.state} ${rep.counts.passed}/${rep.counts.failed} round ${rep.round} ${rep.truck}`);
    }
    if (rows.length !== reports.size) problems.push(`g7 log has ${rows.length} runs, the remote ${reports.size} run folders`);
    add(5, 'g7 log reproduces the night from git log alone', problems, [`${rows.length} runs in g7 log match their verify reports (state, round, truck, passed, failed)`]);
  }

  // 6. The coreloop PR is a draft, carries [CORELOOP-, and its auto-merge attempt was blocked.
  {
    const pr = night.coreloopPr;
    if (!pr) add(6, 'the coreloop PR is a draft with [CORELOOP- and its auto-merge attempt was blocked', ['coreloop opened no pull request: see the coreloop-promote job log'], []);
    else {
      const problems: string[] = [];
      if (!pr.draft) problems.push('the PR is not a draft');
      if (!pr.title.startsWith('[CORELOOP-')) problems.push(`the PR title does not start with [CORELOOP-: ${pr.title}`);
      if (!pr.blocked) problems.push('the auto-merge attempt was not blocked by the policy job');
      const loop = await coreloopProblems(night.github, night.gemini, pr.number, night.logDir);
      add(6, 'the coreloop PR is a draft with [CORELOOP- and its auto-merge attempt was blocked; a Caveat the reflector wrote from the failures, every failing case flipped', [...problems, ...loop.problems], [`#${pr.number}: ${pr.draft ? 'a draft' : 'NOT a draft'}; auto-merge enabled on it ${pr.blocked ? 'was disabled by the policy job, which failed the check' : 'was NOT undone'}`, ...loop.details]);
    }
  }
  return { checks, morning, final };
}
