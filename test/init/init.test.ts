// `g7 init` in another repository: everything a factory needs on GitHub, the action by reference, nothing
// overwritten, and the settings only a person can make. This repository's own workflows and protection files
// are the same templates rendered for `uses: ./action`, so the two cannot drift apart.
import { describe, expect, it } from 'vitest';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { REPO, tempRepo } from '../helpers.js';
import { git, initGit } from '../factory/fixture.js';
import { lint } from '../action/actionlint.js';
import { branchProtection, coreloopWorkflow, factoryLanesWorkflow, factoryWorkflow, policyWorkflow, ruleset } from '../../src/cli/scaffold.js';
import { defaultConfig } from '../../src/ssot/config.js';
import { tagByRules } from '../../src/worker/offline.js';
import type { Taxonomy } from '../../src/worker/worker.js';
import { POLICY_ACTIVITIES, POLICY_SWEEP_CRON } from '../../src/policy/auto-merge.js';

const SCAFFOLDED = ['ssot/factory.yaml', 'ssot/rules/tags.yaml', 'ssot/.gitignore', '.github/workflows/factory.yml', '.github/workflows/factory-lanes.yml', '.github/workflows/ai-policy.yml', '.github/workflows/coreloop.yml', '.github/CODEOWNERS', '.github/rulesets/main.json', '.github/branch-protection.json'];

describe('g7 init', () => {
  it('scaffolds the SSOT, the workflows using the action by reference, CODEOWNERS and protection, and prints the one-time settings', async () => {
    const repo = await tempRepo();
    initGit(repo.root);
    git(repo.root, 'remote', 'add', 'origin', 'https://github.com/acme/reports.git');
    const r = await repo.g7('init', '--action', 'acme/g7/action@v1', '--app-id', '987654');
    expect(r.code, r.err).toBe(0);
    for (const f of SCAFFOLDED) expect(r.out).toMatch(new RegExp(`^created \\S*${f.replace(/[.]/g, '\\.')}$`, 'm'));

    const factory = parse(await readFile(path.join(repo.root, '.github/workflows/factory.yml'), 'utf8'));
    expect(factory.jobs.truck.steps.filter((s: { uses?: string }) => s.uses?.includes('/action@')).map((s: { uses: string }) => s.uses)).toEqual(['acme/g7/action@v1', 'acme/g7/action@v1']);
    const policy = parse(await readFile(path.join(repo.root, '.github/workflows/ai-policy.yml'), 'utf8'));
    expect(policy.jobs['block-coreloop-auto-merge'].steps).toEqual([{ uses: 'acme/g7/action@v1', with: { command: 'policy', 'github-token': '${{ github.token }}' } }]);
    for (const w of ['factory.yml', 'factory-lanes.yml', 'ai-policy.yml', 'coreloop.yml']) expect(await lint(await readFile(path.join(repo.root, '.github/workflows', w), 'utf8'), w)).toEqual([]);

    expect(await readFile(path.join(repo.root, '.github/CODEOWNERS'), 'utf8')).toMatch(/^\* +@acme$/m);
    const rules = JSON.parse(await readFile(path.join(repo.root, '.github/rulesets/main.json'), 'utf8'));
    expect(rules.bypass_actors).toEqual([{ actor_id: 987654, actor_type: 'Integration', bypass_mode: 'always' }]);
    // The default night, 00:00–07:00 Seoul, written into factory.yaml and scheduled in UTC.
    expect(parse(await readFile(path.join(repo.root, 'ssot/factory.yaml'), 'utf8')).night).toEqual({ start: '00:00', end: '07:00', tz: 'Asia/Seoul' });
    expect(factory.on.schedule).toEqual([{ cron: '23 15,17,19,21 * * *' }]);
    expect(r.out).toMatch(/Secret GEMINI_API_KEY/);
    expect(r.out).toMatch(/variable G7_APP_ID = its App ID, secret G7_APP_PRIVATE_KEY/);
    expect(r.out).toMatch(/gh api -X POST repos\/acme\/reports\/rulesets --input .*\.github\/rulesets\/main\.json/);
    expect(r.out).toMatch(/^the workflows use acme\/g7\/action@v1$/m);
    expect(r.out).not.toMatch(/warning/);
  });

  it('pins the action by default to the release of this g7, never a branch, and warns about a ref that may float', async () => {
    const repo = await tempRepo();
    const r = await repo.g7('init');
    expect(r.code, r.err).toBe(0);
    const version = JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')).version as string;
    for (const w of ['factory.yml', 'factory-lanes.yml', 'ai-policy.yml', 'coreloop.yml']) {
      const text = await readFile(path.join(repo.root, '.github/workflows', w), 'utf8');
      // The action by reference (uses: …/action@REF), or coreloop's checkout of the CLI (repository: + ref:).
      const refs = [...text.matchAll(/uses: g7-factory\/g7-factory\/action@(\S+)|repository: g7-factory\/g7-factory\n\s+ref: (\S+)/g)].map((m) => m[1] ?? m[2]);
      expect(refs.length, w).toBeGreaterThan(0);
      expect(new Set(refs), w).toEqual(new Set([`v${version}`]));
    }
    expect(r.out).toMatch(new RegExp(`^the workflows use g7-factory/g7-factory/action@v${version.replace(/\./g, '\\.')} \\(the release of this g7`, 'm'));
    expect(r.out).not.toMatch(/warning/);

    const branch = await tempRepo();
    const b = await branch.g7('init', '--action', 'acme/g7/action@main');
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/warning: "main" is neither a release tag \(v1\.2\.3\) nor a full commit SHA/);
    const sha = await tempRepo();
    expect((await sha.g7('init', '--action', `acme/g7/action@${'a1'.repeat(20)}`)).out).not.toMatch(/warning/);
  });

  it("writes a starter taxonomy whose rules match what they name: the money rule strikes '$5' and '$ 120', not 'cost'", async () => {
    const repo = await tempRepo();
    expect((await repo.g7('init')).code).toBe(0);
    const taxonomy = parse(await readFile(path.join(repo.root, 'ssot/rules/tags.yaml'), 'utf8')) as Taxonomy;
    expect(tagByRules('a fee of $5 was paid', taxonomy)).toMatchObject({ tags: ['money'], strike: true });
    expect(tagByRules('it cost $ 120 in all', taxonomy)).toMatchObject({ tags: ['money'], strike: true });
    expect(tagByRules('TODO: the cost is unknown', taxonomy)).toMatchObject({ tags: ['todo'], strike: false });
  });

  it('never overwrites: a second init keeps every file, and a CODEOWNERS a person wrote stays as it is', async () => {
    const repo = await tempRepo();
    await mkdir(path.join(repo.root, '.github'), { recursive: true });
    await writeFile(path.join(repo.root, '.github/CODEOWNERS'), '* @the-real-team\n');
    const first = await repo.g7('init');
    expect(first.out).toMatch(/kept {4}.*\.github\/CODEOWNERS \(exists\)/);
    expect(await readFile(path.join(repo.root, '.github/CODEOWNERS'), 'utf8')).toBe('* @the-real-team\n');
    const before = await Promise.all(SCAFFOLDED.map((f) => readFile(path.join(repo.root, f), 'utf8')));
    const second = await repo.g7('init', '--action', 'other/x/action@v9');
    expect(second.code).toBe(0);
    expect(second.out.match(/^kept /gm)).toHaveLength(SCAFFOLDED.length);
    expect(await Promise.all(SCAFFOLDED.map((f) => readFile(path.join(repo.root, f), 'utf8')))).toEqual(before);
    // Without a GitHub remote it cannot know the owner, and says so.
    expect(first.out).toMatch(/replace @OWNER/);
  });

  it('schedules the night of an existing factory.yaml in UTC, off the hour, and refuses a zone it does not know before writing anything', async () => {
    const repo = await tempRepo();
    await mkdir(path.join(repo.root, 'ssot'), { recursive: true });
    await writeFile(path.join(repo.root, 'ssot/factory.yaml'), 'night: { start: "22:00", end: "07:00", tz: Asia/Seoul }\n');
    const r = await repo.g7('init');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/the night: 22:00–07:00 Asia\/Seoul, scheduled jobs at cron "23 13,15,17,19,21 \* \* \*" \(UTC\)/);
    const factory = parse(await readFile(path.join(repo.root, '.github/workflows/factory.yml'), 'utf8'));
    expect(factory.on.schedule).toEqual([{ cron: '23 13,15,17,19,21 * * *' }]);

    const bad = await tempRepo();
    await mkdir(path.join(bad.root, 'ssot'), { recursive: true });
    await writeFile(path.join(bad.root, 'ssot/factory.yaml'), 'budget: { per_truck_usd: 1 }\nnight: { start: "22:00", end: "07:00", tz: Asia/Busan }\n');
    const refused = await bad.g7('init');
    expect(refused.code).not.toBe(0);
    expect(refused.err).toMatch(/ssot\/factory\.yaml:2:\d+: night\.tz: "Asia\/Busan" is not a time zone \[config\.night-tz\]/);
    await expect(readFile(path.join(bad.root, '.github/workflows/factory.yml'), 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('refuses options it cannot use, with exit 2 and what to give instead', async () => {
    const repo = await tempRepo();
    for (const [args, msg] of [[['--action', 'acme/g7@v1'], /--action: an action reference looks like owner\/repo\/action@ref/], [['--app-id', 'my-app'], /--app-id is the App's numeric ID/]] as const) {
      const r = await repo.g7('init', ...args);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(msg);
    }
  });
});

describe("this repository's own GitHub files", () => {
  it('are the templates rendered for `uses: ./action`', async () => {
    const local = { local: true } as const;
    const checks = ['test', 'block-coreloop-auto-merge'];
    const expected: [string, string][] = [
      // The shipped schedule is what g7 init writes for the default night (ssot/factory.yaml has none of its own).
      ['.github/workflows/factory.yml', factoryWorkflow(local, defaultConfig().night)],
      ['.github/workflows/factory-lanes.yml', factoryLanesWorkflow(local)],
      ['.github/workflows/ai-policy.yml', policyWorkflow(local, POLICY_ACTIVITIES, POLICY_SWEEP_CRON)],
      ['.github/workflows/coreloop.yml', coreloopWorkflow(local)],
      ['.github/rulesets/main.json', ruleset(0, checks)],
      ['.github/branch-protection.json', branchProtection(checks)],
    ];
    for (const [rel, text] of expected) expect(await readFile(path.join(REPO, rel), 'utf8'), `${rel} differs from src/cli/scaffold.ts`).toBe(text);
  });
});
