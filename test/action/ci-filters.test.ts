// CI ignores evidence: a commit that only carries what a checkpoint commits (evidence, state, journal, packets,
// card outputs under the SSOT) starts neither ci.yml nor check-dist.yml. The paths come from a real factory
// run (every file of every g7 commit, as `git show --name-only` lists them), matched the way GitHub matches
// filter patterns: `*` stops at `/`, `**` crosses folders, dot files match (picomatch with `dot: true`); a
// push is skipped when every changed path matches a `paths-ignore` pattern.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO, tempRepo } from '../helpers.js';
import { git, initGit } from '../factory/fixture.js';
import { coreloopWorkflow, factoryLanesWorkflow, factoryWorkflow, policyWorkflow } from '../../src/cli/scaffold.js';
import { POLICY_ACTIVITIES, POLICY_SWEEP_CRON } from '../../src/policy/auto-merge.js';

const require = createRequire(import.meta.url);
const picomatch = require('picomatch') as (patterns: string[], opts: { dot: boolean }) => (p: string) => boolean;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Yaml = Record<string, any>;
const CI = ['ci.yml', 'check-dist.yml'];

async function workflow(name: string): Promise<Yaml> {
  return parse(await readFile(path.join(REPO, '.github/workflows', name), 'utf8'));
}

/** GitHub's rule for `paths-ignore`: the workflow is skipped when every changed path matches a pattern. */
function skipped(patterns: string[], changed: string[]): boolean {
  // `?` and `+` mean other things to GitHub (zero-or-one, one-or-more) than to picomatch: keep them out.
  for (const p of patterns) expect(p, `pattern ${p} uses a character GitHub reads differently`).not.toMatch(/[?+[\]]/);
  const ignored = picomatch(patterns, { dot: true });
  return changed.length > 0 && changed.every((f) => ignored(f));
}

/** Every path of every commit g7 made (a G7-Run trailer), as git lists them: unquoted, Korean names as they are. */
function checkpointPaths(root: string): { commits: number; paths: string[] } {
  const shas = git(root, 'log', '--format=%H%x09%(trailers:key=G7-Run,valueonly)').split('\n').filter((l) => /\t\S/.test(l)).map((l) => l.split('\t')[0]!);
  const paths = new Set<string>();
  for (const sha of shas) for (const p of git(root, '-c', 'core.quotePath=false', 'show', '--name-only', '--format=', sha).split('\n').filter(Boolean)) paths.add(p);
  return { commits: shas.length, paths: [...paths].sort() };
}

describe('CI ignores evidence', () => {
  it('ci.yml and check-dist.yml ignore the same paths on push, and filter no pull request', async () => {
    const [ci, dist] = await Promise.all(CI.map(workflow));
    expect(ci!.on.push['paths-ignore'].length).toBeGreaterThan(0);
    expect(dist!.on.push['paths-ignore']).toEqual(ci!.on.push['paths-ignore']);
    // A required check skipped by a paths filter on a pull request stays pending and blocks the merge.
    for (const w of [ci!, dist!]) expect(w.on.pull_request ?? {}).not.toHaveProperty('paths-ignore');
  });

  it('every path a real factory run commits is ignored, and code, plans and config are not', async () => {
    const repo = await tempRepo({ example: true });
    initGit(repo.root);
    git(repo.root, 'add', '-A');
    git(repo.root, 'commit', '-q', '-m', 'the example factory');
    // The person's evening: compile the day plan, commit the backlog.
    const compiled = await repo.g7('plan', 'compile', 'ssot/plans/dayplan_20261121.yaml');
    expect(compiled.code, compiled.err).toBe(0);
    git(repo.root, 'add', '-A');
    git(repo.root, 'commit', '-q', '-m', 'the day plan, compiled');
    // Round 1 (SCAN, TAG, TEST, VERIFY), then round 2: the day plan recompiled from the grown strike list; its
    // STRIKE cards need a model, which the offline worker is not: a FAIL_STOP with a rework pack.
    const first = await repo.g7('run');
    expect(first.code, first.err).toBe(0);
    expect((await repo.g7('run')).err).toMatch(/FAIL_STOP: L3_STRIKE_000001 failed twice/);
    const { commits, paths } = checkpointPaths(repo.root);
    expect(commits).toBeGreaterThanOrEqual(3);
    // What the run wrote, of every kind: evidence, state and journal, packets, outputs.
    for (const kind of [/^ssot\/runs\/run_0001\/verify_report\.json$/, /^ssot\/state\/factory_state\.json$/, /^ssot\/state\/journal\//, /^ssot\/packets\//, /^ssot\/library_index\/strike_list\.jsonl$/, /^ssot\/rework\//, /^ssot\/backlog\/backlog_20261121\.jsonl$/]) {
      expect(paths.some((p) => kind.test(p)), `${kind} among the committed paths:\n${paths.join('\n')}`).toBe(true);
    }
    for (const name of CI) {
      const patterns = (await workflow(name)).on.push['paths-ignore'] as string[];
      const ignored = picomatch(patterns, { dot: true });
      expect(paths.filter((p) => !ignored(p)), `${name} would run for these`).toEqual([]);
      expect(skipped(patterns, paths)).toBe(true);
      // A commit that also changes anything a person writes runs CI.
      for (const other of ['src/factory/run.ts', 'action/dist/index.mjs', 'package.json', 'README.md', '.github/workflows/ci.yml', 'ssot/factory.yaml', 'ssot/plans/dayplan_20261121.yaml', 'ssot/backlog/packs/개집001.json', 'ssot/skills/TAG.md', 'ssot/rules/tags.yaml']) {
        expect(skipped(patterns, [...paths, other]), `${name} with ${other}`).toBe(false);
      }
    }
  });

  it('no scaffolded workflow starts on push without the same filters (g7 init writes none that does)', async () => {
    const a = { local: false as const, repo: 'owner/g7', ref: 'v1' };
    const ignore = (await workflow('ci.yml')).on.push['paths-ignore'];
    for (const text of [factoryWorkflow(a), factoryLanesWorkflow(a), policyWorkflow(a, POLICY_ACTIVITIES, POLICY_SWEEP_CRON), coreloopWorkflow(a)]) {
      const on = (parse(text) as Yaml).on;
      if (on.push) expect(on.push['paths-ignore']).toEqual(ignore);
    }
  });
});
