// The product as a user gets it: `npm pack`'s tarball, installed in an empty folder outside this repository
// (so no node_modules of ours is above it), offline (the dependencies from npm's cache, pinned by our lockfile),
// and the g7 it installs runs there: --help, init, plan compile, run.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { REPO, childEnv } from '../helpers.js';

const PLAN = `date: 2026-11-21
goal: one check, to see the factory run
entries:
  - { name: hello, lane: 1, prio: A, type: TEST, input: "node -e \\"console.log('hello')\\"", output: out/hello.txt, accept: exit==0 }
`;

describe('npm pack: the tarball installs in an empty folder and its g7 works there', () => {
  it('g7 --help, g7 init, g7 plan compile and g7 run, offline, from the installed tarball', { timeout: 240_000 }, async () => {
    const work = await mkdtemp(path.join(tmpdir(), 'g7-pack-'));
    // The real npm cache: the sealed HOME has none, and --offline never asks the registry.
    const cache = process.env.npm_config_cache ?? path.join(userInfo().homedir, '.npm');
    const env = childEnv({ npm_config_cache: cache, npm_config_update_notifier: 'false' });
    execFileSync('npm', ['pack', '--pack-destination', work], { cwd: REPO, env, stdio: 'pipe' });
    const tgz = (await readdir(work)).find((f) => f.endsWith('.tgz'))!;
    expect(tgz).toMatch(/^g7-factory-.*\.tgz$/);
    const inst = path.join(work, 'inst');
    execFileSync('mkdir', ['-p', inst]);
    execFileSync('tar', ['-xzf', path.join(work, tgz), '-C', inst]);
    const pkg = path.join(inst, 'package');
    // The installed dependencies as the lockfile pins them (npm ci needs it; the tarball carries none).
    await copyFile(path.join(REPO, 'package-lock.json'), path.join(pkg, 'package-lock.json'));
    execFileSync('npm', ['ci', '--omit=dev', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: pkg, env, stdio: 'pipe' });

    const user = path.join(work, 'factory');
    execFileSync('mkdir', ['-p', user]);
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=u@example.invalid', '-c', 'user.name=u', ...args], { cwd: user, env, encoding: 'utf8' });
    git('init', '-q');
    const g7 = (...args: string[]) => execFileSync(process.execPath, [path.join(pkg, 'bin/g7.mjs'), ...args], { cwd: user, env: { ...env, GIT_AUTHOR_NAME: 'u', GIT_AUTHOR_EMAIL: 'u@example.invalid', GIT_COMMITTER_NAME: 'u', GIT_COMMITTER_EMAIL: 'u@example.invalid' }, encoding: 'utf8' });

    expect(g7('--help')).toMatch(/^Usage: g7 /);
    expect(g7('init')).toMatch(/then: write a day plan/);
    await writeFile(path.join(user, 'ssot/plans/dayplan_20261121.yaml'), PLAN);
    git('add', '-A');
    git('commit', '-qm', 'the factory');
    expect(g7('plan', 'compile', 'ssot/plans/dayplan_20261121.yaml')).toMatch(/total\s+1 cards/);
    expect(g7('run')).toMatch(/run_0001: READY — round 1 truck A of 20261121 finished: 1 passed/);
  });
});
