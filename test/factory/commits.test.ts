// What an evidence commit holds, seen from the outside (g7 as its own process on a real git repository):
// exactly the files the run wrote, never a person's own edits under ssot/, which stay as they were (changed,
// new, or staged) and are named in one line of the run's output.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
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
});
