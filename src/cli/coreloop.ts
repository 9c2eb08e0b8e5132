// `g7 coreloop …`: the self-improvement loop's commands. Arguments become settings here; the work is in
// src/coreloop, loaded only when a coreloop command runs (tree-sitter, ts-morph and secretlint with it).
import path from 'node:path';
import { stat } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { G7Error, UsageError, formatProblem } from '../contracts/errors.js';
import { layoutFor, type Layout } from '../ssot/layout.js';
import { Git } from '../git/git.js';
import { EXIT } from './exit.js';
import { display, type Io } from './main.js';
import { nowDate } from '../host/clock.js';

/** factory.yaml, imported only by the subcommands that read it: the YAML parser stays out of the others' start-up. */
const loadConfig: typeof import('../ssot/config.js').loadConfig = async (...args) => (await import('../ssot/config.js')).loadConfig(...args);

function count(name: string, min = 0): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} takes a whole number ≥ ${min}, got "${v}"`);
    return n;
  };
}

interface Ctx {
  layout: Layout;
  json: boolean;
  io: Io;
  now: Date;
}

/** The forge, when this machine can reach it: a token and a GitHub repository (or why not). */
async function forgeFor(git: Git): Promise<import('../forge/forge.js').Forge | string> {
  const origin = await git.run(['remote', 'get-url', 'origin'], { allowFail: true });
  const { connectForge, forgeSettingsFromEnv } = await import('../forge/connect.js');
  const settings = forgeSettingsFromEnv(process.env, origin.code === 0 ? origin.stdout.trim() : undefined);
  if (!settings.repository) return origin.code === 0 ? 'origin is not a GitHub repository and GITHUB_REPOSITORY is not set' : 'there is no origin remote and GITHUB_REPOSITORY is not set';
  if (!settings.token) return 'GITHUB_TOKEN (or GH_TOKEN) is not set';
  return connectForge(settings);
}

/** Git history, with the forge's pull requests when it can be reached (git alone otherwise, and why). */
async function history(c: Ctx) {
  const { readHistory, readPulls, withPulls } = await import('../coreloop/history.js');
  const git = new Git(c.layout.repoRoot);
  const h = await readHistory(git);
  const forge = await forgeFor(git);
  if (typeof forge === 'string') return { ...h, forgeNote: `GitHub not consulted: ${forge}; from git alone` };
  try {
    return withPulls(h, await readPulls(forge));
  } catch (err) {
    const { ForgeError } = await import('../forge/forge.js');
    if (!(err instanceof ForgeError)) throw err;
    c.io.err(`g7: GitHub not consulted: ${err.message}`);
    return { ...h, forgeNote: `GitHub not consulted: ${err.message}; from git alone` };
  }
}

/**
 * The audit records earlier jobs pushed to the data branch (g7/audit), taken into the store before the log
 * is read: on a hosted runner the store of a fresh clone is empty. Said on stderr; never stops the command.
 */
async function takeAuditLog(c: Ctx): Promise<void> {
  const { pullAuditLog } = await import('../factory/store-sync.js');
  const { auditPlace } = await import('../ssot/audit-store.js');
  const config = await loadConfig(c.layout, display);
  const say = (line: string) => c.io.err(`g7: ${line}`);
  await pullAuditLog({ git: new Git(c.layout.repoRoot), remote: config.git.remote, branch: config.store.auditBranch, storeDir: auditPlace(c.layout).storeDir, log: say, warn: say });
}

interface Mined {
  code: number;
  /** The candidates file written, and the Guide candidates in it. */
  file: string;
  guide: string[];
  gate: import('../coreloop/history.js').Gate;
}

async function mine(c: Ctx, kind: 'pattern' | 'refine', since: string, run: (deps: import('../coreloop/pattern.js').MineDeps) => Promise<import('../coreloop/pattern.js').PatternResult>): Promise<Mined> {
  const { windowFrom } = await import('../coreloop/records.js');
  const { outputFiles, writeCandidates } = await import('../coreloop/candidates.js');
  const { knownCandidates } = await import('../coreloop/known.js');
  const { stabilityGate } = await import('../coreloop/history.js');
  const { auditPlace } = await import('../ssot/audit-store.js');
  const config = await loadConfig(c.layout, display);
  const window = windowFrom(since, c.now);
  const h = await history(c);
  const known = await knownCandidates(c.layout.auditDir, c.layout.repoRoot, h);
  await takeAuditLog(c);
  const mined = await run({ audit: auditPlace(c.layout), window, now: c.now.toISOString(), skills: config.skills, known, display });
  for (const d of mined.dropped) c.io.err(`note: candidate ${d.key}: ${d.reason}`);
  const out = outputFiles(c.layout.auditDir, kind, c.now.toISOString().slice(0, 10));
  const file = await writeCandidates(mined.file, out, display);
  // What this run found (decided candidates were skipped), under the ids the merged file gives them.
  const idOf = new Map(file.candidates.map((x) => [x.key, x.id]));
  const fresh = mined.file.candidates.map((x) => ({ ...x, id: idOf.get(x.key) ?? x.id }));
  const kept = file.candidates.length - fresh.length;
  if (c.json) c.io.out(JSON.stringify({ candidates: display(out.json), draft: display(out.draft), found: fresh.length, skipped: file.skipped.length, kept, scanned: file.scanned }));
  else {
    const s = file.scanned;
    c.io.out(`${kind}: ${s.records} records in ${s.files} file(s) since ${window.since.slice(0, 16)}Z${s.invalid ? ` (${s.invalid} unreadable lines)` : ''}`);
    for (const cand of fresh) c.io.out(`  ${cand.id}  ${cand.action === 'retire' ? `retire ${cand.bullet.id}` : cand.section.padEnd(7)}  ${cand.target ?? '(no skill)'}  ${cand.evidence.records} records: ${cand.bullet.text.slice(0, 90)}`);
    if (fresh.length === 0) c.io.out('  no candidates');
    if (file.skipped.length) c.io.out(`  ${file.skipped.length} found again but already decided (rejected, merged or on a branch)`);
    if (kept > 0) c.io.out(`  ${kept} candidate(s) of an earlier run today kept in the file as they were`);
    c.io.out(`wrote ${display(out.json)} and ${display(out.draft)} (read the draft; nothing else changed)`);
  }
  const guide = fresh.filter((x) => x.action === 'append' && x.section === 'Guide' && x.target).map((x) => x.id);
  return { code: EXIT.OK, file: out.json, guide, gate: stabilityGate(h, c.now) };
}

/** The reproduction check with the worker this machine has: Gemini with a key, the offline rules without. */
async function replay(c: Ctx, repeats: number) {
  const { replayCheck } = await import('../coreloop/reproduce.js');
  const { windowFrom } = await import('../coreloop/records.js');
  const { pickWorker } = await import('./settings.js');
  const config = await loadConfig(c.layout, display);
  const worker = await pickWorker(config, c.layout, process.env.GEMINI_API_KEY || undefined);
  const { rebuildRequest } = await import('../executors/rebuild.js');
  const { cardsFromRuns } = await import('../coreloop/scratch.js');
  const { auditPlace } = await import('../ssot/audit-store.js');
  const at = { repoRoot: c.layout.repoRoot, libraryRoot: config.libraryRoot, cacheDir: c.layout.cacheDir };
  await takeAuditLog(c);
  return replayCheck({ audit: auditPlace(c.layout), cacheDir: c.layout.cacheDir, rebuild: (e) => rebuildRequest(e, at), worker, repeats, window: windowFrom('90d', c.now), display, repoRoot: c.layout.repoRoot, cardOf: cardsFromRuns(c.layout) });
}

/** Says it on stderr, and on a runner also as a job-log warning and in the step summary. */
async function warnOnRunner(c: Ctx, note: string): Promise<void> {
  c.io.err(`g7: ${note}`);
  if (process.env.GITHUB_ACTIONS !== 'true') return;
  c.io.out(`::warning title=coreloop pull request::${note.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A')}`);
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary) await (await import('node:fs/promises')).appendFile(summary, `> [!WARNING]\n> ${note}\n\n`);
}

/** Draft pull requests through GitHub when there is a token and a GitHub repository; otherwise the branch stays local. */
async function pullRequests(git: Git) {
  const { pullRequestsNotAvailable } = await import('../coreloop/promote.js');
  if ((await git.run(['remote', 'get-url', 'origin'], { allowFail: true })).code !== 0) return pullRequestsNotAvailable('there is no origin remote to push the branch to');
  const forge = await forgeFor(git);
  if (typeof forge === 'string') return pullRequestsNotAvailable(forge);
  const { forgePullRequests } = await import('../coreloop/pulls.js');
  // The coreloop workflow says which token it fell back to: a pull request opened with GITHUB_TOKEN starts no checks.
  return forgePullRequests(git, forge, { workflowToken: process.env.G7_TOKEN_SOURCE === 'github-token' });
}

async function apply(c: Ctx, phase: 'R' | 'F', opts: { candidate: string; id: string; confirm?: boolean; repeats: number; replay: boolean }): Promise<number> {
  const { loadCandidates, findCandidate } = await import('../coreloop/candidates.js');
  const { promoteCandidate } = await import('../coreloop/promote.js');
  const shown = display(path.resolve(opts.candidate));
  const cand = findCandidate(await loadCandidates(path.resolve(opts.candidate), shown), opts.id, shown);
  const git = new Git(c.layout.repoRoot);
  let r;
  try {
    r = await promoteCandidate(
      { repoRoot: c.layout.repoRoot, git, env: process.env, now: c.now.toISOString(), reproduction: await replay(c, opts.repeats), allowUnreplayed: !opts.replay, evidenceDir: path.relative(c.layout.repoRoot, path.join(c.layout.auditDir, 'reproductions')), pullRequests: opts.confirm ? await pullRequests(git) : { openDraft: async () => ({ notOpened: 'dry run' }) } },
      cand, shown, phase, opts.confirm === true,
    );
  } catch (err) {
    // Refused by the reproduction check: not a bad input, a verdict (exit 6, like a truck that may not depart).
    if (!(err instanceof G7Error) || err.problems[0]?.rule !== 'coreloop.reproduction') throw err;
    c.io.err(`g7: ${err.summary}`);
    c.io.err(err.problems[0].message);
    return EXIT.REFUSED;
  }
  if (c.json) {
    c.io.out(JSON.stringify(r));
    return EXIT.OK;
  }
  if (r.status === 'already-applied') {
    c.io.out(`nothing to do: ${r.reason}`);
    return EXIT.OK;
  }
  c.io.out(r.diff.trimEnd());
  c.io.out('');
  if (r.reproduction.table) c.io.out(`${r.reproduction.table}\n`);
  c.io.out(`reproduction check: ${r.reproduction.ran ? (r.reproduction.passed ? `passed (${r.reproduction.note})` : 'failed') : r.reproduction.note}`);
  if (r.status === 'dry-run') {
    c.io.out(`would commit on branch ${r.branch} (from ${r.pr.base}): ${r.pr.title}`);
    c.io.out(`would push it and open a draft PR labelled ${r.pr.labels.join(', ')} into ${r.pr.base}; it never auto-merges`);
    c.io.out(`nothing was changed; run again with --confirm to commit it on the branch`);
  } else if (r.status === 'already-on-branch') c.io.out(`already committed on branch ${r.branch}; nothing was changed`);
  else {
    c.io.out(`committed ${r.commit!.slice(0, 10)} on branch ${r.branch}: ${r.pr.title}`);
    c.io.out(`your checked-out branch and working tree are unchanged`);
    c.io.out(r.prResult && 'url' in r.prResult ? `draft PR: ${r.prResult.url}` : `draft PR not opened: ${(r.prResult as { notOpened: string }).notOpened}`);
    if (r.prResult && 'note' in r.prResult && r.prResult.note) await warnOnRunner(c, r.prResult.note);
  }
  // Tried and refused (the push, or GitHub): committed here, not there, like a truck's unpushed evidence.
  return r.prResult && 'failed' in r.prResult && r.prResult.failed ? EXIT.UNPUSHED : EXIT.OK;
}

export function registerCoreloop(program: Command, io: Io, setCode: (code: number) => void): void {
  const ctx = (): Ctx => {
    const g = program.opts<{ ssot: string; json: boolean }>();
    return { layout: layoutFor(g.ssot), json: g.json, io, now: nowDate() };
  };
  /** Commands that read or write the SSOT refuse to start without one, rather than create it in the wrong folder. */
  const run = (fn: (c: Ctx) => Promise<number>, needsSsot = true) => async () => {
    const c = ctx();
    if (needsSsot && !(await stat(c.layout.ssotDir).then((s) => s.isDirectory(), () => false)))
      throw new UsageError(`no SSOT folder at ${display(c.layout.ssotDir)}: run g7 from the repository root, or pass --ssot DIR`);
    setCode(await fn(c));
  };
  const coreloop = program.command('coreloop').description('the self-improvement loop: mine the audit log, propose skill docstring changes for a person to merge');

  coreloop
    .command('status')
    .description('counts per phase (O P R F A) and the stability gate, from the files, git history and (with a token) GitHub\'s coreloop PRs')
    .action(run(async (c) => {
      const { coreloopStatus } = await import('../coreloop/status.js');
      await takeAuditLog(c);
      const s = await coreloopStatus(c.layout, await history(c), c.now);
      const { lines, ...figures } = s;
      if (c.json) c.io.out(JSON.stringify(figures));
      else for (const l of lines) c.io.out(l);
      return EXIT.OK;
    }));

  coreloop
    .command('pattern')
    .description('P: find recurring successes and write Guide candidates + a draft to read (opens no PR, except with --open-prs at tier 2)')
    .option('--since <span>', 'how far back: 30d, 12h, 2w or YYYY-MM-DD', '30d')
    .option('--min-repeat <n>', 'records a group needs', count('--min-repeat', 1), 3)
    .option('--min-unique-questions <n>', 'different inputs a group needs', count('--min-unique-questions', 1), 3)
    .option('--min-chunk-len <n>', 'answers shorter than this are left out', count('--min-chunk-len'), 400)
    .option('--sanitize', 'leave question texts out of the candidates and the draft')
    .option('--open-prs', 'only at automation tier 2 (see status): promote each Guide candidate as promote --confirm would; below tier 2, nothing more')
    .action((o: { since: string; minRepeat: number; minUniqueQuestions: number; minChunkLen: number; sanitize?: boolean; openPrs?: boolean }) =>
      run(async (c) => {
        const { minePatterns } = await import('../coreloop/pattern.js');
        const m = await mine(c, 'pattern', o.since, (deps) => minePatterns(deps, { minRepeat: o.minRepeat, minUniqueQuestions: o.minUniqueQuestions, minChunkLen: o.minChunkLen, sanitize: o.sanitize === true }));
        if (!o.openPrs) return m.code;
        // Automation is staged: the nightly job opens Guide-append draft PRs by itself only once stability holds.
        if (m.gate.tier < 2) {
          c.io.err(`tier ${m.gate.tier}: no pull request is opened by the nightly job (${m.gate.next})`);
          return m.code;
        }
        let code: number = m.code;
        for (const id of m.guide) {
          const r = await apply(c, 'R', { candidate: m.file, id, confirm: true, repeats: 3, replay: true });
          if (r !== EXIT.OK) code = r; // one refused candidate does not stop the others
        }
        return code;
      })());

  coreloop
    .command('refine')
    .description('F: find recurring failures and write Caveats candidates; with --candidate/--id, apply one (like promote)')
    .option('--since <span>', 'how far back: 30d, 12h, 2w or YYYY-MM-DD', '30d')
    .option('--min-failures <n>', 'failures a group needs', count('--min-failures', 1), 2)
    .option('--exclude-types <list>', 'signal types or causes to leave out, e.g. transient_network,rate_limit', '')
    .option('--sanitize', 'leave question texts out of the counterexamples and the draft')
    .option('--candidate <file>', 'a counterexamples file to apply a candidate from')
    .option('--id <id>', 'the candidate to apply (cx-…)')
    .option('--confirm', 'commit the change on its skill/docstring-* branch, push it and open a draft PR (without it: show the diff only)')
    .option('--repeats <k>', 'arm-B runs per case of the reproduction check when the model is not deterministic (at least 3)', count('--repeats', 3), 3)
    .option('--no-replay', 'propose it even when no recorded case can be replayed (the pull request says it went unchecked)')
    .action((o: { since: string; minFailures: number; excludeTypes: string; sanitize?: boolean; candidate?: string; id?: string; confirm?: boolean; repeats: number; replay: boolean }) =>
      run(async (c) => {
        if (o.candidate || o.id) {
          if (!o.candidate || !o.id) throw new UsageError('--candidate and --id go together');
          return apply(c, 'F', { candidate: o.candidate, id: o.id, confirm: o.confirm, repeats: o.repeats, replay: o.replay });
        }
        if (o.confirm) throw new UsageError('--confirm applies a candidate: give --candidate FILE --id ID');
        const { mineFailures } = await import('../coreloop/refine.js');
        const excludeTypes = o.excludeTypes.split(',').map((s) => s.trim()).filter(Boolean);
        return (await mine(c, 'refine', o.since, (deps) => mineFailures(deps, { minFailures: o.minFailures, excludeTypes, sanitize: o.sanitize === true }))).code;
      })());

  coreloop
    .command('promote')
    .description('R: append a candidate to its skill\'s Guide after the reproduction check; shows the diff, and with --confirm commits it on a skill/docstring-* branch, pushes it and opens a draft PR')
    .requiredOption('--candidate <file>', 'a candidates file written by pattern')
    .requiredOption('--id <id>', 'the candidate (cand-…)')
    .option('--confirm', 'commit the change on its branch (the checked-out branch is not touched), push it and open a draft PR')
    .option('--repeats <k>', 'arm-B runs per case of the reproduction check when the model is not deterministic (at least 3)', count('--repeats', 3), 3)
    .option('--no-replay', 'propose it even when no recorded case can be replayed (the pull request says it went unchecked)')
    .action((o: { candidate: string; id: string; confirm?: boolean; repeats: number; replay: boolean }) => run((c) => apply(c, 'R', o))());

  coreloop
    .command('verify')
    .description('the reproduction check alone: replay recorded cases without (A) and with (B) the candidate\'s change; exit 6 when it is refused or cannot be checked')
    .requiredOption('--candidate <file>', 'a candidates or counterexamples file')
    .requiredOption('--id <id>', 'the candidate')
    .option('--repeats <k>', 'arm-B runs per case when the model is not deterministic (at least 3)', count('--repeats', 3), 3)
    .action((o: { candidate: string; id: string; repeats: number }) =>
      run(async (c) => {
        const { loadCandidates, findCandidate } = await import('../coreloop/candidates.js');
        const { verifyCandidate } = await import('../coreloop/promote.js');
        const shown = display(path.resolve(o.candidate));
        const cand = findCandidate(await loadCandidates(path.resolve(o.candidate), shown), o.id, shown);
        const r = await verifyCandidate(c.layout.repoRoot, cand, c.now.toISOString(), await replay(c, o.repeats));
        if (c.json) c.io.out(JSON.stringify(r));
        else {
          if (r.table) c.io.out(`${r.table}\n`);
          c.io.out(`${cand.id}: ${r.ran ? (r.passed ? `passed (${r.note})` : `REFUSED: ${r.note}`) : r.note}`);
        }
        return r.passed ? EXIT.OK : EXIT.REFUSED;
      })());

  coreloop
    .command('reject')
    .description('record that a candidate is not wanted: pattern and refine will not propose it again')
    .requiredOption('--candidate <file>', 'the candidates or counterexamples file')
    .requiredOption('--id <id>', 'the candidate')
    .requiredOption('--reason <text>', 'why, for the record')
    .action((o: { candidate: string; id: string; reason: string }) =>
      run(async (c) => {
        const { loadCandidates, findCandidate, recordDecision } = await import('../coreloop/candidates.js');
        const shown = display(path.resolve(o.candidate));
        const cand = findCandidate(await loadCandidates(path.resolve(o.candidate), shown), o.id, shown);
        await recordDecision(c.layout.auditDir, { key: cand.key, candidate: cand.id, decision: 'rejected', at: c.now.toISOString(), reason: o.reason });
        c.io.out(`${cand.id} (key ${cand.key}) rejected; recorded in ${display(path.join(c.layout.auditDir, 'decisions.jsonl'))}`);
        return EXIT.OK;
      })());

  coreloop
    .command('propose-axis')
    .description('A: write a proposal for a new engine axis (Markdown only), when the merged history earns it')
    .requiredOption('--engine <name>', 'the engine (card type), e.g. tag')
    .requiredOption('--axis <name>', 'the axis, e.g. 수익성 or related-party')
    .option('--min-r-merges <n>', 'merged R bullets needed', count('--min-r-merges'), 3)
    .option('--min-f-caveats <n>', 'merged F caveats needed', count('--min-f-caveats'), 2)
    .option('--min-age-days <n>', 'days since the first R merge', count('--min-age-days'), 30)
    .action((o: { engine: string; axis: string; minRMerges: number; minFCaveats: number; minAgeDays: number }) =>
      run(async (c) => {
        const { judgeAxis, proposalFile, renderProposal, writeProposal } = await import('../coreloop/axis.js');
        const v = judgeAxis(await history(c), o.engine, o.axis, { minRMerges: o.minRMerges, minFCaveats: o.minFCaveats, minAgeDays: o.minAgeDays }, c.now);
        const file = proposalFile(c.layout.auditDir, v, c.now);
        const written = v.missing.length === 0 ? await writeProposal(file, renderProposal(v, c.now)) : undefined;
        if (c.json) c.io.out(JSON.stringify({ engine: o.engine, axis: o.axis, r_merges: v.r.length, f_caveats: v.f.length, first_r_merge: v.firstR ?? null, missing: v.missing, proposal: written ? display(file) : null, written: written ?? null }));
        else if (v.missing.length) c.io.out(`no proposal for ${o.engine}/${o.axis}: ${v.missing.join('; ')}`);
        else c.io.out(written === 'exists' ? `${display(file)} already exists; left as it is` : `wrote ${display(file)}: read it, then design the axis by hand`);
        return v.missing.length ? EXIT.REFUSED : EXIT.OK;
      })());

  coreloop
    .command('backfill')
    .description('O for history: rebuild audit records from run evidence and the response cache (dry run unless --confirm)')
    .option('--confirm', 'append the rebuilt records to the audit log in the store (calls already there are not added twice)')
    .action((o: { confirm?: boolean }) =>
      run(async (c) => {
        const { backfill } = await import('../coreloop/backfill.js');
        const config = await loadConfig(c.layout, display);
        await takeAuditLog(c);
        const r = await backfill({ layout: c.layout, libraryRoot: config.libraryRoot, skills: config.skills, confirm: o.confirm === true, display });
        if (c.json) c.io.out(JSON.stringify(r));
        else {
          c.io.out(`${r.runs} run(s), ${r.attempts} attempt(s) with worker calls, ${r.calls} call(s): ${r.present} already in the log, ${r.unrecorded} not rebuildable (the cache holds no request), ${r.rebuilt} record(s) rebuilt`);
          if (r.failed) c.io.err(`g7: ${r.failed}`);
          else c.io.out(o.confirm ? `appended ${r.written} record(s) to ${display(path.join(c.layout.storeDir, 'audit', 'ai-ask'))}` : 'nothing was written; run again with --confirm to append them');
        }
        return r.failed ? EXIT.INTERNAL : EXIT.OK;
      })());

  coreloop
    .command('sanitize')
    .description('check audit logs for secrets and personal data, or write a copy fit to share (never over the originals)')
    .option('--check', 'report what is sensitive; write nothing')
    .addOption(new Option('--mode <mode>', 'hash or drop: questions removed; mask: questions kept with paths and company names masked (every mode keys its hashes and masks secrets, e-mails and URLs)').choices(['hash', 'drop', 'mask']))
    .option('--in <dir>', 'the logs to read (default: the store\'s audit log, store/audit/ai-ask, or the old layout\'s audit/ai-ask when the store has none)')
    .option('--out <dir>', 'where the sanitized copy goes (not --in, not inside it)')
    .action((o: { check?: boolean; mode?: 'hash' | 'drop' | 'mask'; in?: string; out?: string }) =>
      run(async (c) => {
        if (!o.check && !o.mode) throw new UsageError('say --check, or --mode hash|drop|mask with --out DIR');
        if (o.check && o.mode) throw new UsageError('--check writes nothing; leave out --mode and --out, or --check');
        if (o.mode && !o.out) throw new UsageError(`--mode ${o.mode} needs --out DIR (the originals are never written)`);
        const { sanitize } = await import('../coreloop/sanitize/sanitize.js');
        const inStore = path.join(c.layout.storeDir, 'audit', 'ai-ask');
        const input = path.resolve(o.in ?? ((await stat(inStore).catch(() => undefined)) ? inStore : path.join(c.layout.auditDir, 'ai-ask')));
        const output = o.out && path.resolve(o.out);
        let key: import('../coreloop/sanitize/key.js').SanitizeKey | undefined;
        let names: string[] = [];
        if (o.mode) {
          const { checkOutside } = await import('../coreloop/sanitize/sanitize.js');
          await checkOutside(input, output!); // before a key file is made for a copy that would be refused
          key = await (await import('../coreloop/sanitize/key.js')).sanitizeKey(c.layout, process.env.G7_SANITIZE_KEY);
          names = (await loadConfig(c.layout, display)).coreloop.sanitizeNames;
        }
        const r = await sanitize({ input, output, mode: o.mode, key: key?.key, names, display });
        const found = Object.values(r.byRule).reduce((a, b) => a + b, 0);
        if (c.json) c.io.out(JSON.stringify({ ...r, written: r.written.map(display), found }));
        else {
          for (const p of r.problems) (o.check ? c.io.err : () => {})(formatProblem(p));
          if (found > r.problems.length && o.check) c.io.err(`… and ${found - r.problems.length} more`);
          c.io.out(`${r.records} records in ${r.files} file(s): ${found ? Object.entries(r.byRule).map(([k, n]) => `${n} ${k}`).join(', ') : 'nothing sensitive found'}${r.skippedLines ? `; ${r.skippedLines} unreadable lines left out` : ''}`);
          if (r.written.length) c.io.out(`wrote ${r.written.length} file(s) under ${display(path.resolve(o.out!))} (${o.mode}); the originals are unchanged`);
          if (key) c.io.out(`hashes keyed with ${key.source === 'G7_SANITIZE_KEY' ? 'G7_SANITIZE_KEY' : `the factory's own key, ${display(key.source)}${key.created ? ' (generated now)' : ''}, which git never tracks: keep it to keep hashes comparable between exports`}`);
        }
        return o.check && found > 0 ? EXIT.INVALID_INPUT : EXIT.OK;
      }, !o.in)());

  coreloop
    .command('shape')
    .argument('[targets...]', 'skill targets (file.md, file.py::func, file.ts::Class.method); default: the skills of factory.yaml')
    .description('check that skill docstrings keep the nine sections (Summary When How Args Returns Guide Caveats Verified Examples) within budget')
    .action((targets: string[]) =>
      run(async (c) => {
        const { shapeOf } = await import('../coreloop/status.js');
        const config = await loadConfig(c.layout, display);
        const list = targets.length ? targets : [...new Set(Object.values(config.skills))];
        if (list.length === 0) throw new UsageError(`no skills in ${display(c.layout.factoryFile)}; name targets: g7 coreloop shape ssot/skills/TAG.md`);
        const results = await Promise.all(list.map((t) => shapeOf(c.layout.repoRoot, t)));
        if (c.json) c.io.out(JSON.stringify({ ok: results.every((r) => r.problems.length === 0), targets: results }));
        else
          for (const r of results) {
            c.io.out(`${r.problems.length ? 'FAIL' : 'ok  '} ${r.target}${r.problems.length ? `: ${r.problems.length} problem(s)` : ''}`);
            for (const p of r.problems) c.io.err(formatProblem(p));
          }
        return results.every((r) => r.problems.length === 0) ? EXIT.OK : EXIT.INVALID_INPUT;
      }, targets.length === 0)());
}
