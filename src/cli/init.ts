// `g7 init`: a factory in a repository: the SSOT skeleton, the workflows (the action by reference),
// CODEOWNERS, branch protection and the ruleset. It never overwrites a file, and ends with the settings only
// a person can make on GitHub.
import path from 'node:path';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { Layout } from '../ssot/layout.js';
import { loadConfig } from '../ssot/config.js';
import { nightCron } from '../ssot/night.js';
import { UsageError } from '../contracts/errors.js';
import { Git } from '../git/git.js';
import { POLICY_ACTIVITIES, POLICY_SWEEP_CRON } from '../policy/auto-merge.js';
import { repositoryOfRemote } from '../forge/connect.js';
import { defaultAction, floatingRef, branchProtection, codeowners, coreloopWorkflow, factoryLanesWorkflow, factoryWorkflow, parseActionRef, policyWorkflow, ruleset } from './scaffold.js';
import { EXIT } from './exit.js';
import type { Io } from './main.js';
import pkg from '../../package.json' with { type: 'json' };

const FACTORY_YAML = `# G7 Factory configuration. Paths are relative to the repository root (the folder holding ssot/).
library: { root: library }            # the library SCAN reads; may live outside the repository
models: { LOW: gemini-2.5-flash-lite, MID: gemini-2.5-flash, HIGH: gemini-2.5-pro }
limits: { rpm: 60, tpm: 1000000, timeout_s: 120 }
budget: { per_truck_usd: 2.00, per_night_usd: 10.00 }
# Local time: the scheduled jobs start inside it, and a truck that finishes with work left starts the next
# one until the end. g7 init writes the UTC cron of .github/workflows/factory.yml from it.
night: { start: "00:00", end: "07:00", tz: Asia/Seoul }
prices_per_mtok:
  gemini-2.5-flash-lite: { in: 0.10, out: 0.40 }
  gemini-2.5-flash: { in: 0.30, out: 2.50 }
  gemini-2.5-pro: { in: 1.25, out: 10.00 }
taxonomy: ssot/rules/tags.yaml
git: { commit: true, push: false }
`;

const TAGS_YAML = `# Offline tagger rules: a chunk gets a tag when any of its patterns match (case-insensitive).
tags:
  - name: todo
    keywords: [TODO, FIXME]
  - name: money
    regex: ['\\$\\s?\\d']
    strike: true
`;

/** The only check a new repository surely has: the policy job. Add your CI's job names to the ruleset. */
const REQUIRED_CHECKS = ['block-coreloop-auto-merge'];

export interface InitOptions {
  /** owner/repo/action@ref of the G7 action the workflows use. */
  action?: string | undefined;
  /** The code owner, e.g. @acme/reviewers; default the owner of the GitHub remote. */
  owner?: string | undefined;
  /** The factory's GitHub App ID, for the ruleset's bypass actor. */
  appId?: string | undefined;
}

/** Creates `file` with `text` unless it exists; the check and the creation are one step (link fails on EEXIST). */
async function createOnly(file: string, text: string): Promise<boolean> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, text);
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp);
  }
}

/** owner/repo of the `origin` remote when it is on GitHub. */
async function githubRepo(git: Git): Promise<string | undefined> {
  return repositoryOfRemote((await git.run(['remote', 'get-url', 'origin'], { allowFail: true })).stdout);
}

export async function initSsot(layout: Layout, io: Io, display: (p: string) => string, o: InitOptions = {}): Promise<number> {
  let action;
  try {
    action = parseActionRef(o.action ?? defaultAction(pkg.version));
  } catch (err) {
    throw new UsageError(`--action: ${(err as Error).message}`);
  }
  if (o.appId !== undefined && !/^\d+$/.test(o.appId)) throw new UsageError(`--app-id is the App's numeric ID (its settings page shows it), got "${o.appId}"`);
  if (o.owner !== undefined && !/^@[\w.-]+(\/[\w.-]+)?$|^[^@\s]+@[^@\s]+$/.test(o.owner)) throw new UsageError(`--owner is @user, @org/team or an e-mail address, got "${o.owner}"`);
  const git = new Git(layout.repoRoot);
  const repo = (await git.isRepo()) ? await githubRepo(git) : undefined;
  const owner = o.owner ?? (repo ? `@${repo.split('/')[0]}` : undefined);
  const appId = o.appId ? Number(o.appId) : 0;
  // A factory.yaml that is already there decides the night (and is checked before anything is written).
  const { night } = await loadConfig(layout, display);

  const dirs = [layout.plansDir, layout.packsDir, layout.packetsDir, layout.runsDir, layout.stateDir, layout.reworkDir, layout.libraryIndexDir, layout.skillsDir, path.join(layout.ssotDir, 'rules'), layout.auditDir];
  for (const d of dirs) await mkdir(d, { recursive: true });
  const gh = path.join(layout.repoRoot, '.github');
  const files: [string, string][] = [
    [layout.factoryFile, FACTORY_YAML],
    [path.join(layout.ssotDir, 'rules', 'tags.yaml'), TAGS_YAML],
    [path.join(layout.ssotDir, '.gitignore'), '# Written and read by g7 alone.\nstate/run.lock\n*.tmp-*\n'],
    [path.join(gh, 'workflows', 'factory.yml'), factoryWorkflow(action, night)],
    [path.join(gh, 'workflows', 'factory-lanes.yml'), factoryLanesWorkflow(action)],
    [path.join(gh, 'workflows', 'ai-policy.yml'), policyWorkflow(action, POLICY_ACTIVITIES, POLICY_SWEEP_CRON)],
    [path.join(gh, 'workflows', 'coreloop.yml'), coreloopWorkflow(action)],
    [path.join(gh, 'CODEOWNERS'), codeowners(owner ?? '@OWNER')],
    [path.join(gh, 'rulesets', 'main.json'), ruleset(appId, REQUIRED_CHECKS)],
    [path.join(gh, 'branch-protection.json'), branchProtection(REQUIRED_CHECKS)],
  ];
  for (const [file, text] of files) io.out((await createOnly(file, text)) ? `created ${display(file)}` : `kept    ${display(file)} (exists)`);

  const where = repo ?? 'OWNER/REPO';
  const rulesetFile = display(path.join(gh, 'rulesets', 'main.json'));
  io.out('');
  const workflow = path.join(gh, 'workflows', 'factory.yml');
  const cron = nightCron(night);
  io.out(`the night: ${night.start}–${night.end} ${night.tz}, scheduled jobs at cron "${cron}" (UTC)`);
  if (!(await readFile(workflow, 'utf8')).includes(`cron: "${cron}"`)) io.out(`  ${display(workflow)} was kept and runs at other times: delete it and run g7 init again to schedule this night`);
  io.out('');
  if (!action.local) {
    io.out(`the workflows use ${action.repo}/action@${action.ref}${o.action ? '' : ` (the release of this g7; --action ${action.repo}/action@<full commit SHA> pins it harder)`}`);
    const floating = floatingRef(action.ref);
    if (floating) io.out(`  warning: ${floating}; pin a tag or a SHA with --action`);
  }
  io.out('one-time settings on GitHub (a repository admin):');
  io.out(`  1. Secret GEMINI_API_KEY (Settings → Secrets and variables → Actions). Without it the offline worker runs and model cards stop with "no key".`);
  io.out(`  2. The factory's GitHub App (Contents, Checks, Pull requests, Issues: read and write; Actions: read and write if it dispatches the chained runs; Workflows: read and write only if a work pack may write .github/workflows/), installed on ${where}; variable G7_APP_ID = its App ID, secret G7_APP_PRIVATE_KEY = a private key of it.`);
  io.out('     It pushes the evidence past protection (GITHUB_TOKEN cannot be a bypass actor) and opens coreloop pull requests that start CI.');
  io.out(`  3. The ruleset: ${appId ? '' : `put the App ID in bypass_actors[0].actor_id of ${rulesetFile} (or run g7 init --app-id ID before it exists), then `}gh api -X POST repos/${where}/rulesets --input ${rulesetFile}`);
  io.out(`     (a repository without rulesets: gh api -X PUT repos/${where}/branches/main/protection --input ${display(path.join(gh, 'branch-protection.json'))}; the factory cannot push past it)`);
  io.out(`  4. CODEOWNERS: ${owner ? `${owner} owns everything; change it if reviews belong to a team` : 'replace @OWNER with the people or team who review (no GitHub remote to take it from)'}.`);
  io.out(`then: write a day plan in ${display(layout.plansDir)}/dayplan_YYYYMMDD.yaml, g7 plan compile it, commit, push; the nightly workflow runs from there`);
  return EXIT.OK;
}
