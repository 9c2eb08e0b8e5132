// `g7 lanes prepare | run | merge`: one truck as a job matrix (SPEC 12; the work is in src/factory/lanes.ts and
// lanes-merge.ts, loaded only when a lane command runs).
// prepare numbers and plans the run once, each lane job runs its lane into its own part of the run, and
// the merge job folds the parts together and seals the run.
import type { Command } from 'commander';
import { Option } from 'commander';
import { UsageError } from '../contracts/errors.js';
import { laneLayout } from '../ssot/layout.js';
import type { RunOutcome } from '../factory/run.js';
import type { Common } from './factory.js';

function laneList(text: string | undefined): number[] | undefined {
  if (!text) return undefined;
  const lanes = text.split(',').map((s) => Number(s.trim()));
  if (lanes.some((l) => !Number.isInteger(l) || l < 1 || l > 8)) throw new UsageError(`--lanes takes lane numbers 1-8, comma separated; got "${text}"`);
  return lanes;
}

function runId(text: string | undefined, option: string): string | undefined {
  if (text === undefined) return undefined;
  if (!/^run_\d{4,}$/.test(text)) throw new UsageError(`${option} takes a run id such as run_0003, got "${text}"`);
  return text;
}

/** The factory's dependencies, and how the command ends: loaded when a lane command runs, not before. */
async function deps(c: Common, asked: boolean, layout = c.layout) {
  const [{ factoryDeps }, { reportOutcome }, { commitsIn }] = await Promise.all([import('./settings.js'), import('./factory.js'), import('../factory/gates.js')]);
  const made = await factoryDeps({ layout, display: c.display, worker: c.worker, log: (l) => (c.json ? undefined : c.io.out(l)), warn: (l) => c.io.err(`warning: ${l}`) });
  const commit = commitsIn(c.display(c.layout.repoRoot), made.deps.git !== undefined, asked, made.config);
  return { ...made, commit, report: (name: string, out: RunOutcome) => reportOutcome(c, name, out, made.deps) };
}

type GitOpts = { commit: boolean; push?: boolean };

export function registerLanes(program: Command, inSsot: (fn: (c: Common) => Promise<number>) => () => Promise<void>): void {
  const lanes = program.command('lanes').description('one truck as a job matrix: prepare the run, run each lane on its own runner, merge and seal');
  lanes
    .command('prepare')
    .description('depart the next truck as a lane run: number it, plan its lanes (runs/run_NNNN/lanes.json), commit; runs no card')
    .addOption(new Option('--truck <truck>', 'this truck of the newest day (A or B)').choices(['A', 'B']))
    .option('--lanes <lanes>', 'only these lanes, comma separated (the others wait for the next run)')
    .option('--no-commit', 'write the files but do not commit them')
    .option('--push', 'push the commit (fetch + rebase on a race)')
    .action((opts: GitOpts & { truck?: 'A' | 'B'; lanes?: string }) =>
      inSsot(async (c) => {
        const only = laneList(opts.lanes);
        const { deps: d, config, commit, report } = await deps(c, opts.commit);
        const { runFactory } = await import('../factory/run.js');
        return report('g7 lanes prepare', await runFactory(d, { truck: opts.truck, lanes: only, commit, push: opts.push ?? config.git.push, prepareLanes: true }));
      })(),
    );
  lanes
    .command('run')
    .description("run one lane of a prepared lane run: only its cards, writing only its part runs/run_NNNN/lanes/<lane>/ and its cards' outputs")
    .requiredOption('--run <run>', 'the run the prepare job made (run_NNNN)')
    .requiredOption('--lane <lane>', 'the lane, 1-8')
    .option('--no-commit', 'write the evidence but do not commit it')
    .option('--push', 'push after each commit (fetch + rebase on a race)')
    .action((opts: GitOpts & { run: string; lane: string }) =>
      inSsot(async (c) => {
        const lane = laneList(opts.lane)!;
        if (lane.length !== 1) throw new UsageError(`--lane takes one lane, got "${opts.lane}"`);
        const { deps: d, config, commit, report } = await deps(c, opts.commit, laneLayout(c.layout, runId(opts.run, '--run')!, lane[0]!));
        const { runFactory } = await import('../factory/run.js');
        return report('g7 lanes run', await runFactory(d, { commit, push: opts.push ?? config.git.push }));
      })(),
    );
  lanes
    .command('merge')
    .argument('[run]', 'the lane run (default: the run the state names)')
    .description("fold the lanes' parts into the run: journal, spend, audit log, verify_report.json over every card; seal, set the state, commit")
    .option('--no-commit', 'write the files but do not commit them')
    .option('--push', 'push the commit (fetch + rebase on a race)')
    .action((run: string | undefined, opts: GitOpts) =>
      inSsot(async (c) => {
        const { deps: d, config, commit, report } = await deps(c, opts.commit);
        const { mergeLaneRun } = await import('../factory/lanes-merge.js');
        const out = await mergeLaneRun(d, runId(run, 'the run'), { commit, push: opts.push ?? config.git.push });
        return report('g7 lanes merge', out ?? { code: 'NOTHING', state: 'READY', passed: 0, failed: 0, message: 'no lane run to merge: the state names none' });
      })(),
    );
}
