// The audit trail over a real HTTP remote: pushed evidence verifies in a fresh clone, and push races
// (a person's commit, or a second factory in the same repository) end with both histories on the remote.
import { describe, expect, it } from 'vitest';
import { mkdtemp, writeFile, mkdir, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { factory, git, gitAsync, initGit } from '../factory/fixture.js';
import { httpRemote } from './http-remote.js';
import { REPO, childEnv } from '../helpers.js';
import { main } from '../../src/cli/main.js';

async function clone(url: string): Promise<string> {
  const dir = path.join(await mkdtemp(path.join(tmpdir(), 'g7-clone-')), 'work');
  await gitAsync(tmpdir(), 'clone', '-q', url, dir);
  initGit(dir); // identity only; init on an existing repository keeps its history
  return dir;
}

const g7 = async (ssot: string, ...args: string[]) => {
  const out: string[] = [];
  const code = await main(['--ssot', ssot, ...args], { out: (s) => out.push(s), err: (s) => out.push(s) });
  return { code, out: out.join('\n') };
};

function g7Process(ssot: string, ...args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(REPO, 'bin/g7.mjs'), '--ssot', ssot, ...args], { stdio: 'ignore', env: childEnv() });
    p.on('close', resolve);
  });
}

const cards = [
  { id: 'L1_SCAN_000001', prio: 'A' as const, input: ['doc001.md'], output: 'ssot/library_index/scan/1.jsonl' },
  { id: 'L2_TEST_000001', prio: 'B' as const, input: 'printf ok', output: 'ssot/out/t.txt' },
];

describe('git audit trail over HTTP', () => {
  it('pushes each checkpoint; a fresh clone of the remote verifies the evidence and rebuilds g7 log', async () => {
    const f = await factory(cards);
    const remote = await httpRemote(f.root);
    try {
      const work = await clone(remote.url);
      const r = await g7(path.join(work, 'ssot'), 'run', '--push');
      expect(r.code).toBe(0);
      const fresh = await clone(remote.url);
      expect((await g7(path.join(fresh, 'ssot'), 'verify', 'run_0001')).code).toBe(0);
      const log = JSON.parse((await g7(path.join(fresh, 'ssot'), '--json', 'log')).out);
      expect(log).toEqual([expect.objectContaining({ run: 'run_0001', state: 'READY', passed: 2 })]);
    } finally {
      await remote.close();
    }
  });

  it('survives a push race with a person: fetch, rebase, push; both commits are on the remote', async () => {
    const f = await factory(cards);
    const remote = await httpRemote(f.root);
    try {
      const factoryClone = await clone(remote.url);
      const person = await clone(remote.url);
      await mkdir(path.join(person, 'ssot/skills'), { recursive: true });
      await writeFile(path.join(person, 'ssot/skills/NOTE.md'), '# a note written while the factory ran\n');
      git(person, 'add', '-A');
      git(person, 'commit', '-q', '-m', 'person: a note');
      await gitAsync(person, 'push', '-q', 'origin', 'main');
      const r = await g7(path.join(factoryClone, 'ssot'), 'run', '--push');
      expect(r.code).toBe(0);
      const subjects = git(remote.bare, 'log', '--format=%s', 'main');
      expect(subjects).toMatch(/person: a note/);
      expect(subjects).toMatch(/g7: run_0001 truck A stop: READY, 2 passed, 0 failed/);
      expect(git(remote.bare, 'log', '--format=%s', 'main').trim().split('\n')[0]).toMatch(/^g7: run_0001/);
    } finally {
      await remote.close();
    }
  });

  it('two factories in one repository push at the same time; both runs survive on the remote', async () => {
    const f = await factory(cards);
    // A second SSOT beside the first: its own state, journal and runs, the same remote.
    await cp(f.ssot, path.join(f.root, 'second', 'ssot'), { recursive: true });
    await cp(path.join(f.root, 'library'), path.join(f.root, 'second', 'library'), { recursive: true });
    git(f.root, 'add', '-A');
    git(f.root, 'commit', '-q', '-m', 'second factory');
    // The remote holds the first two pushes until both have arrived: they overlap, one of them is refused.
    const remote = await httpRemote(f.root, { holdPushes: 2 });
    try {
      const a = await clone(remote.url);
      const b = await clone(remote.url);
      const [ca, cb] = await Promise.all([g7Process(path.join(a, 'ssot'), 'run', '--push'), g7Process(path.join(b, 'second', 'ssot'), 'run', '--push')]);
      expect([ca, cb]).toEqual([0, 0]);
      // Two checkpoints (bundle 1, stop) per run, and at least one push again after the refused one.
      expect(remote.pushes).toBeGreaterThanOrEqual(5);
      const trailers = git(remote.bare, 'log', '--format=%(trailers:key=G7-Run,valueonly)%x09%(trailers:key=G7-State,valueonly)%x09%s', 'main');
      const stops = trailers.split('\n').filter((l) => / stop: READY/.test(l));
      expect(stops).toHaveLength(2);
      const fresh = await clone(remote.url);
      expect((await g7(path.join(fresh, 'ssot'), 'verify', 'run_0001')).code).toBe(0);
      expect((await g7(path.join(fresh, 'second', 'ssot'), 'verify', 'run_0001')).code).toBe(0);
    } finally {
      await remote.close();
    }
  });
});
