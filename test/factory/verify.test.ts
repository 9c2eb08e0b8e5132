// g7 verify re-checks a pack from the files alone: any changed byte, missing file or added file is caught.
import { describe, expect, it, beforeAll } from 'vitest';
import { appendFile, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { factory, cardLine, g7Process, type Factory } from './fixture.js';
import { jsonl } from '../helpers.js';
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
  ['a card log edited', async (c) => {
    const f = path.join(c.pack, 'cards/002_L2_TEST_000001/attempt-1.json');
    await writeFile(f, (await readFile(f, 'utf8')).replace(/"text": "[^"]*"/, '"text": "HELLO"'));
  }, 'evidence.changed'],
  ['a file deleted', async (c) => rm(path.join(c.pack, 'cards/001_L1_SCAN_000001/attempt-1.json')), 'evidence.missing'],
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
    expect(r.out).toBe('ok   run_0001: verifies (evidence and outputs against its manifest, in the working tree)');
    expect(r.code).toBe(0);
  });

  it.each(cases)('detects: %s', async (_name, tamper, rule) => {
    const c = await copy();
    await tamper(c);
    const v = await verifyRun(layoutFor(c.ssot), 'run_0001', (p) => p);
    expect(v.ok).toBe(false);
    expect(v.problems.map((p) => p.rule)).toContain(rule);
    // Every problem says what to do (the `→` line under it).
    for (const p of v.problems) expect(p.hint, `${p.rule}: ${p.message}`).toBeTruthy();
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

  it('takes the run folder as well as the run id, and says "no such run" for a run that does not exist', async () => {
    expect((await base.g7('verify', path.join(base.ssot, 'runs', 'run_0001'))).code).toBe(0);
    expect((await g7Process(base.root, ['verify', 'ssot/runs/run_0001/'])).out).toMatch(/^ok {3}run_0001: verifies/); // the path g7 status prints
    const none = await base.g7('verify', 'run_9999');
    expect(none.code).toBe(2);
    expect(none.err).toBe('g7: no such run: run_9999 (the runs are run_0001 … run_0001)');
  });

  it('bounds the problem list like every other list', async () => {
    const c = await copy();
    for (let i = 0; i < 60; i++) await writeFile(path.join(c.pack, `cards/extra-${i}.txt`), 'x');
    const v = await verifyRun(layoutFor(c.ssot), 'run_0001', (p) => p);
    expect(v.problems).toHaveLength(51);
    expect(v.problems.at(-1)).toMatchObject({ rule: 'problems.truncated', message: '… and 10 more problems not shown' });
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

describe('runs verify forever', () => {
  it('verifies a run after a later day rewrote its outputs, against the run\'s seal commit; fails when the output changed inside that commit', async () => {
    const scan = { id: 'L1_SCAN_000001', prio: 'A' as const, input: ['doc001.md'], output: 'ssot/library_index/scan/1.jsonl' };
    const f = await factory([scan]);
    expect((await f.g7('run')).code).toBe(0);
    // The next day scans the same file again, changed: the output at the same path is rewritten and committed.
    await appendFile(path.join(f.root, 'library/doc001.md'), 'A line added the next day.\n');
    await f.write('ssot/backlog/backlog_20261122.jsonl', jsonl([cardLine(scan)]));
    expect((await f.g7('run')).code).toBe(0);
    expect(f.git('log', '-1', '--format=%s')).toMatch(/^g7: run_0002 round 1 truck A stop: READY/);
    const r = await f.g7('verify', 'run_0001');
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/^ok {3}run_0001: verifies \(evidence against its manifest; 1 output\(s\) rewritten since, checked against the run's seal commit [0-9a-f]{10}\)$/);
    // The gate before the next truck uses the same check: the day after still departs.
    await f.write('ssot/backlog/backlog_20261123.jsonl', jsonl([cardLine({ id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'out/t.txt' })]));
    expect((await f.g7('run')).code).toBe(0);

    // The output changed inside the commit that sealed run_0002: git's own record no longer matches the manifest.
    const sealed = f.git('log', '--format=%H', '-1', '--', 'ssot/runs/run_0002/hash_manifest.json').trim();
    f.git('checkout', '-q', sealed);
    await appendFile(path.join(f.ssot, 'library_index/scan/1.jsonl'), '{"forged":true}\n');
    f.git('commit', '-q', '--amend', '-a', '--no-edit');
    const bad = await f.g7('verify', 'run_0002');
    expect(bad.code).toBe(3);
    expect(bad.err).toMatch(/^ssot\/library_index\/scan\/1\.jsonl: the run's seal commit [0-9a-f]{10} holds sha256 [0-9a-f]{16}…, the manifest says [0-9a-f]{16}… \[evidence\.output-changed\]\n {4}→ the output was changed inside the commit that sealed it/);
  });
});
