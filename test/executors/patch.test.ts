// PATCH writes only what its work pack allows; every escape is rejected as PATH and nothing is written.
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, symlink, writeFile, mkdtemp, access } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { patchPathProblem } from '../../src/executors/patch.js';
import { factory, runDir } from '../factory/fixture.js';
import type { Worker, WorkerRequest } from '../../src/worker/worker.js';
import { resolveEdit, resolveEdits, type Edit, type Shown } from '../../src/executors/edits.js';
import { buildPacket } from '../../src/worker/gemini/prompt.js';
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

describe('PATCH edits as changes (search and replace)', () => {
  // A 200-line module, far past a 256-token input budget (about 1,024 characters shown).
  const BIG = Array.from({ length: 200 }, (_, i) => `export const v${i} = ${i}; // line ${i}`).join('\n') + '\n';
  const CONFIG = 'library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\nscan: { chunk_bytes: 1024 }\nlimits: { max_input_tokens: 256 }\n';
  const BIGPACK: WorkPack = { ...PACK, files: { create: ['src/new.txt'], modify: ['src/big.ts', 'src/crlf.txt'] } };

  /** A worker that answers each attempt from the list in turn, and keeps what it was asked. */
  function scripted(answers: unknown[][]): Worker & { asked: WorkerRequest[] } {
    const asked: WorkerRequest[] = [];
    return {
      provider: 'stub',
      asked,
      async call(req) {
        asked.push(req);
        return { json: { edits: answers[Math.min(asked.length, answers.length) - 1] }, provider: 'stub', model: 'm', tokens: { in: 5, out: 5 }, cost_usd: 0.01, finish_reason: 'STOP', duration_ms: 1 };
      },
    };
  }

  async function setup(accept = 'exists:out/patch.json') {
    return factory([{ id: 'L3_PATCH_000001', prio: 'A', input: 'fix v3', output: 'out/patch.json', pack: 'p1', accept }], {
      files: { 'ssot/factory.yaml': CONFIG, 'src/big.ts': BIG, 'src/crlf.txt': 'one\r\ntwo\r\nthree\r\n', 'ssot/backlog/packs/p1.json': JSON.stringify(BIGPACK) },
    });
  }

  async function run(f: Awaited<ReturnType<typeof setup>>, w: Worker) {
    const { main } = await import('../../src/cli/main.js');
    return main(['--ssot', f.ssot, 'run', '--no-commit'], { out: () => {}, err: () => {} }, w);
  }

  it('changes a file shown cut and keeps the part the worker never saw', async () => {
    const f = await setup('exists:out/patch.json && cmd:grep -q "v3 = 33" src/big.ts && cmd:grep -q "line 199" src/big.ts');
    const w = scripted([[{ path: 'src/big.ts', changes: [{ search: 'export const v3 = 3;', replace: 'export const v3 = 33;' }] }]]);
    expect(await run(f, w)).toBe(0);
    expect(await readFile(path.join(f.root, 'src/big.ts'), 'utf8')).toBe(BIG.replace('v3 = 3;', 'v3 = 33;'));
    const summary = JSON.parse(await readFile(path.join(f.root, 'out/patch.json'), 'utf8'));
    expect(summary.edits).toEqual([{ path: 'src/big.ts', bytes: Buffer.byteLength(BIG) + 1, changes: 1 }]);
  });

  it('refuses a whole-file answer for a file shown cut (it would cut the file), writes nothing, and tells the rework why', async () => {
    const f = await setup();
    const head = BIG.slice(0, 1024);
    const w = scripted([[{ path: 'src/big.ts', content: head.replace('v3 = 3;', 'v3 = 33;') }]]);
    expect(await run(f, w)).toBe(4);
    expect(await readFile(path.join(f.root, 'src/big.ts'), 'utf8')).toBe(BIG);
    expect(w.asked).toHaveLength(2);
    expect(w.asked[1]!.previous_failure).toMatch(/"src\/big.ts" was shown cut at 1024 of \d+ characters .*answer with changes/);
    const report = JSON.parse(await readFile(path.join(runDir(f, 'run_0001'), 'verify_report.json'), 'utf8'));
    expect(report.cards[0]).toMatchObject({ status: 'FAIL', triage: { class: 'SCHEMA' } });
    // Both refused answers were paid for: the evidence says so (it said $0 before).
    expect(report.cards[0]).toMatchObject({ tokens: { in: 10, out: 10 }, cost_usd: 0.02 });
    expect(report.cost_usd).toBe(0.02);
  });

  it('a search text that matches twice or not at all is a SCHEMA failure with nothing written; the rework fixes it', async () => {
    const f = await setup('exists:out/patch.json && cmd:grep -q "v10 = 0" src/big.ts');
    const w = scripted([
      [{ path: 'src/new.txt', content: 'new\n' }, { path: 'src/big.ts', changes: [{ search: 'export const v1', replace: 'export const w1' }] }],
      [{ path: 'src/new.txt', content: 'new\n' }, { path: 'src/big.ts', changes: [{ search: 'export const v10 = 10;', replace: 'export const v10 = 0;' }] }],
    ]);
    expect(await run(f, w)).toBe(0);
    expect(w.asked[1]!.previous_failure).toMatch(/change 1 of "src\/big.ts": its search text \(starting "export const v1"\) matches more than 9 times; include more lines/);
    expect(await readFile(path.join(f.root, 'src/big.ts'), 'utf8')).toBe(BIG.replace('v10 = 10;', 'v10 = 0;'));

    const g = await setup();
    const missing = scripted([[{ path: 'src/new.txt', content: 'new\n' }, { path: 'src/big.ts', changes: [{ search: 'export const nope', replace: 'x' }] }]]);
    expect(await run(g, missing)).toBe(4);
    expect(missing.asked[1]!.previous_failure).toMatch(/its search text \(starting "export const nope"\) is not in the file/);
    expect(await readFile(path.join(g.root, 'src/big.ts'), 'utf8')).toBe(BIG);
    await expect(access(path.join(g.root, 'src/new.txt'))).rejects.toThrow();
  });

  it('takes changes written with LF in a CRLF file and keeps its line ends', async () => {
    const f = await setup();
    const w = scripted([[{ path: 'src/crlf.txt', changes: [{ search: 'two\nthree', replace: 'TWO\nTHREE' }] }]]);
    expect(await run(f, w)).toBe(0);
    expect(await readFile(path.join(f.root, 'src/crlf.txt'), 'utf8')).toBe('one\r\nTWO\r\nTHREE\r\n');
  });

  it('the prompt says which file was shown cut, and asks for changes', () => {
    const p = buildPacket({ card: 'c', cost_hint: 'MID', task: { kind: 'PATCH', goal: 'g', allowed: BIGPACK.files, forbidden: [], files: [{ path: 'src/crlf.txt', content: 'small\n' }, { path: 'src/big.ts', content: BIG }] } }, 256);
    expect(p.user).toContain('File src/crlf.txt:\nsmall\n');
    expect(p.user).toContain('File src/big.ts (shown cut: answer with changes only):\n');
    expect(p.user).toContain('give changes');
  });
});

describe('resolveEdit', () => {
  it('applies changes in order, each against the text the one before left', () => {
    expect(resolveEdit({ path: 'a', changes: [{ search: 'a', replace: 'b' }, { search: 'bb', replace: 'c' }] }, { text: 'ab' })).toEqual({ path: 'a', content: 'c', changes: 2 });
  });
  it.each([
    [{ path: 'a', content: 'x', changes: [] }, { text: 'y' }, /both content and changes/],
    [{ path: 'a' }, { text: 'y' }, /neither content nor changes/],
    [{ path: 'a', changes: [{ search: 'y', replace: 'z' }] }, undefined, /does not exist yet: give its whole content/],
    [{ path: 'a', changes: [{ search: '', replace: 'z' }] }, { text: 'y' }, /empty search text/],
    [{ path: 'a', content: 'short' }, { text: 'long text', cutAt: 4 }, /shown cut at 4 of 9 characters/],
  ] as [Edit, Shown | undefined, RegExp][])('refuses %j', (e, shown, why) => {
    const r = resolveEdit(e, shown);
    expect('problem' in r && r.problem).toMatch(why);
  });
  it('refuses a path edited twice in one answer', () => {
    const r = resolveEdits([{ path: 'a', content: '1' }, { path: './a', content: '2' }], () => undefined);
    expect(r[1]).toMatchObject({ problem: expect.stringMatching(/edited twice/) });
  });
});
