// What an evidence commit holds, seen from the outside (g7 as its own process on a real git repository):
// exactly the files the run wrote, never a person's own edits under ssot/, which stay as they were (changed,
// new, or staged) and are named in one line of the run's output.
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process, runDir } from './fixture.js';

describe('evidence commits', () => {
  it("leave a person's edits under ssot/ uncommitted, say so in one line, and still verify", async () => {
    const f = await factory([
      { id: 'L1_SCAN_000001', prio: 'A', input: ['doc001.md'], output: 'ssot/library_index/scan/1.jsonl', accept: 'lines>=1:ssot/library_index/scan/1.jsonl' },
      { id: 'L5_TEST_000001', prio: 'C', input: 'printf ok', output: 'out/test.txt', accept: 'exit==0' },
    ]);
    // The person, meanwhile: tomorrow's plan (new files), an edited rule, and a staged edit of another.
    for (let i = 1; i <= 5; i++) await f.write(`ssot/plans/dayplan_2026112${i + 1}.yaml`, `date: 2026-11-2${i + 1}\ngoal: later\nentries: []\n`);
    await f.write('ssot/rules/sensors.yaml', 'sensors:\n  - { id: S01, name: risk }\n  - { id: S02, name: edited by hand }\n');
    await f.write('ssot/rules/tags.yaml', (await readFile(path.join(f.ssot, 'rules/tags.yaml'), 'utf8')) + '# staged by hand\n');
    f.git('add', 'ssot/rules/tags.yaml');
    const before = f.git('status', '--porcelain', '--untracked-files=all').split('\n').filter(Boolean).sort();

    const r = await g7Process(f.root, ['run']);
    expect(r.code).toBe(0);
    // One line, not a list: how many, a few names, "and N more".
    const said = r.out.split('\n').filter((l) => /left uncommitted/.test(l));
    expect(said).toEqual(['left uncommitted under ssot/ (not written by g7; commit them yourself): 3 paths: ssot/rules/sensors.yaml, ssot/rules/tags.yaml, ssot/plans/']);
    // The work tree and the index are as the person left them: nothing of theirs committed, nothing of the run's left over.
    expect(f.git('status', '--porcelain', '--untracked-files=all').split('\n').filter(Boolean).sort()).toEqual(before);
    const committed = f.git('log', '--name-only', '--format=', 'HEAD~2..HEAD').split('\n').filter(Boolean);
    expect(committed).toContain('ssot/runs/run_0001/hash_manifest.json');
    expect(committed).toContain('out/test.txt');
    expect(committed.filter((p) => p.startsWith('ssot/plans/') || p.startsWith('ssot/rules/'))).toEqual([]);
    expect(f.git('diff', '--cached', '--name-only').trim()).toBe('ssot/rules/tags.yaml');
    // The evidence still verifies, and git log alone still tells the run's story.
    expect((await g7Process(f.root, ['verify', 'run_0001'])).code).toBe(0);
    const log = JSON.parse((await g7Process(f.root, ['--json', 'log'])).out);
    expect(log).toEqual([expect.objectContaining({ run: 'run_0001', state: 'READY', passed: 2, failed: 0, commits: 2 })]);
    expect(await readFile(path.join(runDir(f, 'run_0001'), 'stdout.txt'), 'utf8')).toMatch(/left uncommitted under ssot\/ .*3 paths/);
  });

  it('names a few paths and counts the rest', async () => {
    const f = await factory([{ id: 'L5_TEST_000001', prio: 'C', input: 'printf ok', output: 'out/test.txt', accept: 'exit==0' }]);
    for (let i = 1; i <= 6; i++) await f.write(`ssot/rules/hand${i}.yaml`, `n: ${i}\n`);
    f.git('add', 'ssot/rules');
    f.git('commit', '-q', '-m', 'rules');
    for (let i = 1; i <= 6; i++) await f.write(`ssot/rules/hand${i}.yaml`, `n: ${i * 10}\n`);
    const r = await g7Process(f.root, ['run']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^left uncommitted under ssot\/ \(not written by g7; commit them yourself\): 6 paths: ssot\/rules\/hand1\.yaml, ssot\/rules\/hand2\.yaml, ssot\/rules\/hand3\.yaml, and 3 more$/m);
    expect(f.git('status', '--porcelain').split('\n').filter(Boolean)).toHaveLength(6);
  });

  it('keep a card compact: three files, a long output as its digest and both ends, a short one whole', async () => {
    // 100,000 bytes of output, Korean text included (multi-byte characters at the cuts).
    const f = await factory([
      { id: 'L5_TEST_000001', prio: 'C', input: 'for i in $(seq 1 4000); do printf "line %05d 공시 ok\\n" $i; done', output: 'out/long.txt', accept: 'exit==0' },
      { id: 'L5_TEST_000002', prio: 'C', input: 'printf short', output: 'out/short.txt', accept: 'exit==0' },
    ]);
    expect((await g7Process(f.root, ['run'])).code).toBe(0);
    const cards = path.join(runDir(f, 'run_0001'), 'cards');
    const [long, short] = (await readdir(cards)).sort();
    expect((await readdir(path.join(cards, long!))).sort()).toEqual(['attempt-1.json', 'card.json', 'summary.json']);
    const full = await readFile(path.join(f.root, 'out/long.txt'));
    const rec = JSON.parse(await readFile(path.join(cards, long!, 'attempt-1.json'), 'utf8'));
    expect(rec).toMatchObject({ attempt: 1, pass: true, exit: 0, triage: null, accept: [{ rule: 'exit==0', ok: true }] });
    const out = rec.files['stdout.txt'];
    expect(out).toMatchObject({ sha256: createHash('sha256').update(full).digest('hex'), bytes: full.length });
    expect(out.text).toBeUndefined();
    expect(out.head.startsWith('line 00001 공시 ok\n')).toBe(true);
    expect(out.tail.endsWith('line 04000 공시 ok\n')).toBe(true);
    expect(Buffer.byteLength(out.head) + Buffer.byteLength(out.tail)).toBeLessThanOrEqual(4096);
    expect((await stat(path.join(cards, long!, 'attempt-1.json'))).size).toBeLessThan(8 * 1024);
    expect(JSON.parse(await readFile(path.join(cards, short!, 'attempt-1.json'), 'utf8')).files['stdout.txt']).toMatchObject({ text: 'short', bytes: 5 });
    expect((await g7Process(f.root, ['verify', 'run_0001'])).code).toBe(0);
  });

  it('commit with the next run what a --no-commit run wrote, and never call it a person\'s', async () => {
    const f = await factory([{ id: 'L5_TEST_000001', prio: 'C', input: 'printf one', output: 'out/one.txt', accept: 'exit==0' }]);
    expect((await g7Process(f.root, ['run', '--no-commit'])).code).toBe(0);
    expect(f.git('status', '--porcelain', '--', 'ssot').trim()).not.toBe('');
    await f.write('ssot/backlog/backlog_20261122.jsonl', JSON.stringify({ id: 'L5_TEST_000002', lane: 5, prio: 'C', type: 'TEST', input: 'printf two', output: 'out/two.txt', accept: 'exit==0', failfast: 'never', cost_hint: 'LOW', deps: [] }) + '\n');
    f.git('add', 'ssot/backlog');
    f.git('commit', '-q', '-m', 'a person compiles tomorrow');
    const r = await g7Process(f.root, ['run']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).not.toMatch(/left uncommitted/);
    // Under ssot/ all of it; an output outside it is committed by the run it belongs to (here: none did).
    expect(f.git('status', '--porcelain', '--untracked-files=all', '--', 'ssot').trim()).toBe('');
    expect((await g7Process(f.root, ['verify', 'run_0001'])).code).toBe(0);
  });
});
