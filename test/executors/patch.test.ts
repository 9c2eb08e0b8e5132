// PATCH writes only what its work pack allows; every escape is rejected as PATH and nothing is written.
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, symlink, writeFile, mkdtemp, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { patchPathProblem } from '../../src/executors/patch.js';
import { factory, runDir } from '../factory/fixture.js';
import type { Worker } from '../../src/worker/worker.js';
import type { WorkPack } from '../../src/contracts/types.gen.js';

const PACK: WorkPack = {
  id: 'p1', goal: 'fix the greeting', forbidden: [], success: ['greets'], evidence: ['diff'],
  files: { create: ['src/new.txt', '.github/workflows/named.yml'], modify: ['src/greet.txt'] },
};

async function repo() {
  const root = await mkdtemp(path.join(tmpdir(), 'g7-patch-'));
  await mkdir(path.join(root, 'src'), { recursive: true });
  await writeFile(path.join(root, 'src/greet.txt'), 'hello\n');
  const outside = await mkdtemp(path.join(tmpdir(), 'g7-outside-'));
  await symlink(outside, path.join(root, 'escape'));
  await mkdir(path.join(root, 'inside'));
  await symlink(path.join(root, 'inside'), path.join(root, 'internal-link'));
  return root;
}

describe('PATCH path rules', () => {
  const rejected: [string, WorkPack | undefined, RegExp][] = [
    ['../outside.txt', undefined, /escapes the repository/],
    ['src/../../outside.txt', undefined, /escapes the repository/],
    ['/etc/passwd', undefined, /is absolute/],
    ['C:\\Windows\\x', undefined, /is absolute/],
    ['.git/config', undefined, /\.git/],
    ['src/.git/hooks/pre-commit', undefined, /\.git/],
    ['src/other.txt', undefined, /not in the work pack/],
    ['.github/workflows/ci.yml', undefined, /not in the work pack/],
    ['escape/evil.txt', { ...PACK, files: { create: ['escape/evil.txt'], modify: [] } }, /symlink escape, which leaves the repository/],
    ['src/missing.txt', { ...PACK, files: { create: [], modify: ['src/missing.txt'] } }, /does not exist \(list it under create\)/],
  ];
  it.each(rejected)('rejects %s', async (p, pack, why) => {
    const root = await repo();
    expect(await patchPathProblem(root, p, pack ?? PACK)).toMatch(why);
  });

  it.each(['src/greet.txt', 'src/new.txt', '.github/workflows/named.yml', 'src\\new.txt'])('allows %s', async (p) => {
    expect(await patchPathProblem(await repo(), p, PACK)).toBeUndefined();
  });

  it('allows a symlink that stays inside the repository', async () => {
    const root = await repo();
    expect(await patchPathProblem(root, 'internal-link/a.txt', { ...PACK, files: { create: ['internal-link/a.txt'], modify: [] } })).toBeUndefined();
  });
});

describe('a PATCH card', () => {
  const worker = (edits: { path: string; content: string }[]): Worker => ({
    provider: 'stub',
    async call() {
      return { json: { edits }, provider: 'stub', model: 'm', tokens: { in: 5, out: 5 }, cost_usd: 0, finish_reason: 'STOP', duration_ms: 1 };
    },
  });

  async function setup() {
    return factory([{ id: 'L3_PATCH_000001', prio: 'A', input: 'greet', output: 'out/patch.json', pack: 'p1', accept: 'exists:out/patch.json && cmd:grep -q bonjour src/greet.txt' }], {
      files: { 'src/greet.txt': 'hello\n', 'ssot/backlog/packs/p1.json': JSON.stringify(PACK) },
    });
  }

  it('applies allowed edits and passes its accept rule', async () => {
    const f = await setup();
    const { main } = await import('../../src/cli/main.js');
    const code = await main(['--ssot', f.ssot, 'run', '--no-commit'], { out: () => {}, err: () => {} }, worker([{ path: 'src/greet.txt', content: 'bonjour\n' }, { path: 'src/new.txt', content: 'new\n' }]));
    expect(code).toBe(0);
    expect(await readFile(path.join(f.root, 'src/greet.txt'), 'utf8')).toBe('bonjour\n');
    expect(await readFile(path.join(f.root, 'src/new.txt'), 'utf8')).toBe('new\n');
  });

  it('writes nothing when one edit escapes, and fails the card as PATH (twice, then FAIL_STOP)', async () => {
    const f = await setup();
    const { main } = await import('../../src/cli/main.js');
    const code = await main(['--ssot', f.ssot, 'run', '--no-commit'], { out: () => {}, err: () => {} }, worker([{ path: 'src/greet.txt', content: 'bonjour\n' }, { path: '../../pwned.txt', content: 'x' }]));
    expect(code).toBe(4);
    expect(await readFile(path.join(f.root, 'src/greet.txt'), 'utf8')).toBe('hello\n');
    await expect(access(path.join(f.root, '..', '..', 'pwned.txt'))).rejects.toThrow();
    const report = JSON.parse(await readFile(path.join(runDir(f, 'run_0001'), 'verify_report.json'), 'utf8'));
    expect(report.cards[0]).toMatchObject({ status: 'FAIL', attempts: 2, triage: { class: 'PATH', reason: expect.stringMatching(/escapes the repository/) } });
  });
});
