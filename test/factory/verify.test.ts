// g7 verify re-checks a pack from the files alone: any changed byte, missing file or added file is caught.
import { describe, expect, it, beforeAll } from 'vitest';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { factory, type Factory } from './fixture.js';
import { verifyRun } from '../../src/factory/evidence.js';
import { layoutFor } from '../../src/ssot/layout.js';

let base: Factory;
beforeAll(async () => {
  base = await factory([
    { id: 'L1_SCAN_000001', prio: 'A', input: ['doc001.md'], output: 'ssot/library_index/scan/1.jsonl' },
    { id: 'L2_TEST_000001', prio: 'A', input: 'printf hello', output: 'out/t.txt', accept: 'exit==0' },
  ]);
  expect((await base.g7('run', '--no-commit')).code).toBe(0);
});

/** A fresh copy of the finished repository for one tamper case. */
async function copy(): Promise<{ root: string; ssot: string; pack: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'g7-tamper-'));
  await cp(base.root, root, { recursive: true });
  return { root, ssot: path.join(root, 'ssot'), pack: path.join(root, 'ssot', 'runs', 'run_0001') };
}

const cases: [string, (c: { root: string; pack: string }) => Promise<void>, string][] = [
  ['one byte of the report changed', async (c) => {
    const f = path.join(c.pack, 'verify_report.json');
    const b = await readFile(f);
    b[10] = b[10]! ^ 1;
    await writeFile(f, b);
  }, 'evidence.changed'],
  ['a card log edited', async (c) => writeFile(path.join(c.pack, 'cards/002_L2_TEST_000001/attempt-1/stdout.txt'), 'HELLO'), 'evidence.changed'],
  ['a file deleted', async (c) => rm(path.join(c.pack, 'cards/001_L1_SCAN_000001/attempt-1/accept.json')), 'evidence.missing'],
  ['a file added', async (c) => writeFile(path.join(c.pack, 'cards/extra.txt'), 'x'), 'evidence.added'],
  ['an output changed after the run', async (c) => appendFile(path.join(c.root, 'out/t.txt'), '!'), 'evidence.output-changed'],
  ['the manifest itself edited', async (c) => {
    const f = path.join(c.pack, 'hash_manifest.json');
    await writeFile(f, (await readFile(f, 'utf8')).replace(/"sha256": "[0-9a-f]/, '"sha256": "z'));
  }, 'schema.pattern'],
  ['the manifest deleted', async (c) => rm(path.join(c.pack, 'hash_manifest.json')), 'evidence.no-manifest'],
  ['exitcode.txt deleted', async (c) => rm(path.join(c.pack, 'exitcode.txt')), 'evidence.missing'],
];

describe('g7 verify', () => {
  it('accepts an untouched pack', async () => {
    const r = await base.g7('verify');
    expect(r.out).toBe('ok   run_0001: verifies');
    expect(r.code).toBe(0);
  });

  it.each(cases)('detects: %s', async (_name, tamper, rule) => {
    const c = await copy();
    await tamper(c);
    const v = await verifyRun(layoutFor(c.ssot), 'run_0001', (p) => p);
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.rule)).toContain(rule);
  });

  it('exits 3 and names the file from the command line', async () => {
    const c = await copy();
    await writeFile(path.join(c.pack, 'stdout.txt'), 'forged\n');
    const { main } = await import('../../src/cli/main.js');
    const err: string[] = [];
    const code = await main(['--ssot', c.ssot, 'verify', 'run_0001'], { out: () => {}, err: (s) => err.push(s) });
    expect(code).toBe(3);
    expect(err.join('\n')).toMatch(/^ssot\/runs\/run_0001\/stdout\.txt: sha256 is [0-9a-f]{16}…, the manifest says [0-9a-f]{16}… \[evidence\.changed\]/);
  });

  it('checks the pack from files alone, in a copy with no git and no state', async () => {
    const c = await copy();
    await rm(path.join(c.root, '.git'), { recursive: true });
    await rm(path.join(c.ssot, 'state'), { recursive: true });
    expect((await verifyRun(layoutFor(c.ssot), 'run_0001', (p) => p)).ok).toBe(true);
    // Without git or state it still checks: a changed byte is found from the manifest alone.
    await writeFile(path.join(c.pack, 'stdout.txt'), 'forged\n');
    expect((await verifyRun(layoutFor(c.ssot), 'run_0001', (p) => p)).problems.map((p) => p.rule)).toEqual(['evidence.changed']);
  });
});
