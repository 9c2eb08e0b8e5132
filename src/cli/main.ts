// The `g7` command line. It turns arguments into settings and calls the core; nothing else happens here.
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { access } from 'node:fs/promises';
import { G7Error, UsageError, formatProblem } from '../contracts/errors.js';
import { EXIT } from './exit.js';
import { layoutFor, type Layout } from '../ssot/layout.js';
import type { Common } from './factory.js';
import { registerCoreloop } from './coreloop.js';
import { registerLanes } from './lanes.js';
import type { Worker } from '../worker/worker.js';
import pkg from '../../package.json' with { type: 'json' };

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export interface Globals {
  ssot: string;
  json: boolean;
}

/**
 * A command that reads or writes the factory needs its SSOT folder: run in the wrong folder, it says so
 * and writes nothing (no stray ssot/state/).
 */
export async function requireSsot(layout: Layout): Promise<void> {
  const exists = (p: string) => access(p).then(() => true, () => false);
  for (const p of [layout.factoryFile, layout.backlogDir, layout.plansDir, layout.stateDir]) if (await exists(p)) return;
  // Standing in the SSOT folder itself (demo/ssot): g7 looks for ssot/ below where it runs.
  const inside = await exists(path.join(layout.repoRoot, 'factory.yaml'));
  const hint = inside ? `this folder looks like an SSOT itself: run g7 from its parent (cd ..), or pass --ssot .` : 'run g7 from the repository that holds it, pass --ssot DIR, or create one with g7 init';
  throw new UsageError(`no SSOT at ${display(layout.ssotDir)}: ${hint}`);
}

export function display(p: string): string {
  const rel = path.relative(process.cwd(), p);
  return (rel && !rel.startsWith('..') ? rel : p).split(path.sep).join('/');
}

export function buildProgram(io: Io, setCode: (c: number) => void, worker?: Worker): Command {
  // Each command imports its module when it runs: `g7 status` loads neither the run loop nor the compiler.
  const program = new Command('g7')
    .description('G7 Factory: day plan → work cards → 120-slot trucks → evidence in git')
    .option('--ssot <dir>', 'the SSOT folder; its parent is the repository root', 'ssot')
    .option('--json', 'machine-readable output on stdout', false)
    .version(pkg.version, '-V, --version', 'the version of g7')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) })
    // A wrong command or option: commander's one line (with "did you mean …?"), then where the list is.
    .showHelpAfterError('(g7 --help lists the commands)');
  const g = (): Globals => program.opts<Globals>();
  const run = (fn: () => Promise<number>) => async () => setCode(await fn());
  /** The factory commands: only inside an SSOT. */
  const inSsot = (fn: (c: Common) => Promise<number>) => run(async () => {
    const c = common();
    await requireSsot(c.layout);
    return fn(c);
  });

  program
    .command('init')
    .description('set up a factory in this repository: the SSOT skeleton, workflows, CODEOWNERS, protection and ruleset; never overwrites a file')
    .option('--action <ref>', 'the G7 action the workflows use, owner/repo/action@ref')
    .option('--owner <owner>', 'the code owner (@user, @org/team); default the owner of the GitHub remote')
    .option('--app-id <id>', "the factory's GitHub App ID, the ruleset's bypass actor")
    .action((opts: { action?: string; owner?: string; appId?: string }) => run(async () => (await import('./init.js')).initSsot(layoutFor(g().ssot), io, display, opts))());

  const plan = program.command('plan').description('compile and check day plans');
  plan
    .command('compile')
    .argument('<dayplan>', 'the day plan YAML (at most 30 lines)')
    .option('--replace', 'replace an existing backlog with different content (the old one is kept as .bak)')
    .option('--dry-run', 'compile and report, write nothing')
    .description('expand a day plan into work cards: ssot/backlog/backlog_YYYYMMDD.jsonl')
    .action((file: string, opts: { replace?: boolean; dryRun?: boolean }) => run(async () => (await import('./plan.js')).planCompile(file, opts, g(), io))());
  plan
    .command('check')
    .argument('<files...>', 'day plans (.yaml), backlogs (.jsonl), work packs (.json), factory.yaml')
    .description('validate files without writing anything')
    .action((files: string[]) => run(async () => (await import('./plan.js')).planCheck(files, g(), io))());

  plan
    .command('estimate')
    .argument('<dayplan>', 'the day plan YAML')
    .description('what the plan costs before a night pays for it: requests, tokens, dollars online and in batch mode, time at the rate limits, trucks and nights, against the budgets; writes nothing unless --record')
    .option('--record', 'keep the figures as the day\'s forecast (state/forecast_YYYYMMDD.json), for the morning report to hold against what the night paid')
    .action((file: string, o: { record?: boolean }) => run(async () => (await import('./plan.js')).planEstimate(file, g(), io, o))());

  program
    .command('pack')
    .addOption(new Option('--day <day>', 'the backlog day (YYYYMMDD); default: the newest backlog'))
    .description("load the day's current round, two trucks (OPS_120PLUS120), into ssot/packets/<day>/round_NN/")
    .action((opts: { day?: string }) => run(async () => (await import('./plan.js')).pack(opts, g(), io))());
  const common = (): Common => ({ layout: layoutFor(g().ssot), json: g().json, io, display, ...(worker ? { worker } : {}) });
  program
    .command('run')
    .description('run the next truck: six bundles of 20 cards, evidence sealed and committed after each bundle and at every stop')
    .addOption(new Option('--truck <truck>', 'run this truck of the newest day (A or B)'))
    .option('--lanes <lanes>', 'run only these lanes, comma separated (e.g. 1,2)')
    .option('--no-commit', 'write the evidence but do not commit it')
    .option('--push', 'push after each commit (fetch + rebase on a race)')
    .option('--no-push', 'do not push, even with git.push: true; departs although a refused push left evidence off the remote (a factory without a remote)')
    .option('--max-minutes <minutes>', 'time budget of this job: no bundle starts that would not end in time (estimated from the bundles so far); the truck stops RECOVERABLE and the next g7 run resumes it')
    .action((opts: { truck?: string; lanes?: string; commit: boolean; push?: boolean; maxMinutes?: string }) => inSsot(async (c) => (await import('./factory.js')).runCommand(c, opts))());
  program
    .command('status')
    .description('the state, the current run, the last stop reason and exactly which files to read')
    .action(() => inSsot(async (c) => (await import('./status.js')).statusCommand(c))());
  program
    .command('resume')
    .description('after FAIL_STOP (or RECOVERABLE): requeue the failed card and set the factory READY (a person\'s restart)')
    .option('--skip <card>', 'drop this card instead: recorded as SKIP with the reason; its dependents are held back')
    .option('--reason <text>', 'why the card is skipped (required with --skip)')
    .option('--no-commit', 'do not commit the change of state')
    .action((opts: { commit: boolean; skip?: string; reason?: string }) => inSsot(async (c) => (await import('./factory.js')).resumeCommand(c, opts))());
  program
    .command('verify')
    .argument('[run]', 'the run to check (default: the newest), e.g. run_0003')
    .description('re-check an evidence pack from its files alone: changed, missing or added files')
    .action((id: string | undefined) => inSsot(async (c) => (await import('./factory.js')).verifyCommand(c, id))());
  program
    .command('morning')
    .option('--since <when>', 'the start of the night: an ISO time or an age (12h, 2d); default 24h')
    .description('the morning report: states, trucks, cards by triage class, tokens and cost, rework, coreloop, what to do now; printed and written to ssot/runs/morning_YYYYMMDD.md')
    .action((opts: { since?: string }) => inSsot(async (c) => (await import('./morning.js')).morningCommand(c, opts))());
  program
    .command('log')
    .description('the history of runs, rebuilt from git log alone (G7-* commit trailers)')
    .action(() => inSsot(async (c) => (await import('./factory.js')).logCommand(c))());
  registerLanes(program, inSsot);
  registerCoreloop(program, io, setCode);
  return program;
}

export async function main(argv: string[], io: Io = { out: (s) => process.stdout.write(s + '\n'), err: (s) => process.stderr.write(s + '\n') }, worker?: Worker): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram(io, (c) => (code = c), worker);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    const code = reportError(err, io);
    // --json promises JSON on stdout: a script parsing it gets the error there too (stderr keeps the words).
    if (program.opts<Globals>().json && !(err instanceof CommanderError)) io.out(JSON.stringify({ error: err instanceof Error ? err.message : String(err), exit: code }));
    return code;
  }
}

export function reportError(err: unknown, io: Io): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
  if (err instanceof UsageError) {
    io.err(`g7: ${err.message}`);
    return EXIT.USAGE;
  }
  if (err instanceof G7Error) {
    if (err.summary) io.err(`g7: ${err.summary}`);
    // A problem the summary already says in full (its message and its fix) is not said twice.
    for (const p of err.problems) if (!(err.summary?.includes(p.message) && (!p.hint || err.summary.includes(p.hint)))) io.err(formatProblem(p));
    return EXIT.INVALID_INPUT;
  }
  const e = err as Error;
  io.err(`g7: internal error: ${e?.message ?? String(err)}`);
  if (process.env.G7_DEBUG) io.err(e?.stack ?? '');
  else io.err('    → this is a bug in g7; run again with G7_DEBUG=1 for details and report it');
  return EXIT.INTERNAL;
}

export type { Layout };
