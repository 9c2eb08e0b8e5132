// g7 morning: the night read back from the files alone, printed and written next to the evidence; and G7_NOW,
// the test-only clock, moving a process's time to a scheduled job's.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process, geminiAt } from '../factory/fixture.js';
import { fakeGemini } from '../fakes/gemini-server.js';

describe('g7 morning', () => {
  it('a night that passed one card and stopped on another: the stop, the cards by triage class, the rework pack and what to do now', async () => {
    const f = await factory([
      { id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'out/1.txt', accept: 'exit==0' },
      { id: 'L1_TEST_000002', prio: 'A', input: 'test -f fixed.txt', output: 'out/2.txt', accept: 'exit==0' },
    ]);
    const ran = await g7Process(f.root, ['run'], { G7_NOW: '2026-11-21T02:17:00Z' });
    expect(ran.code, ran.err).toBe(4);

    const m = await g7Process(f.root, ['morning', '--since', '2026-11-21T00:00:00Z'], { G7_NOW: '2026-11-21T07:00:00Z' });
    expect(m.code, m.err).toBe(0);
    // The run's clock was the job's: its stop is at 02:17 in the journal, and the report's window ends at 07:00.
    expect(m.out).toMatch(/^# Morning report: 2026-11-21 00:00 → 2026-11-21 07:00 UTC/);
    expect(m.out).toMatch(/\*\*Now: FAIL_STOP\*\* \(run_0001, round 1 truck A of 20261121\)\. 1 truck\(s\) \(round 1 truck A of 20261121\) in 1 run\(s\), 1 stop\(s\)\./);
    expect(m.out).toMatch(/\| 2026-11-21 02:17 \| run_0001 \| round 1 A \| FAIL_STOP \| L1_TEST_000002 failed twice: TEST: /);
    expect(m.out).toContain('- passed 1 (0 after their one rework), failed 1 (TEST 1), skipped 0');
    expect(m.out).toMatch(/## What to do now\n\n1\. Read why it stopped: L1_TEST_000002 failed twice[\s\S]*`ssot\/rework\/20261121_L1_TEST_000002_run_0001\.json`[\s\S]*3\. Then `g7 resume`/);
    expect(m.out).toMatch(/## Rework packs\n\n- `ssot\/rework\/20261121_L1_TEST_000002_run_0001\.json`: L1_TEST_000002, TEST, open/);
    // Written next to the evidence, named after the morning's UTC day, the same text as printed.
    const written = await readFile(path.join(f.ssot, 'runs/morning_20261121.md'), 'utf8');
    expect(m.out).toContain(written.trim());

    // A window after the night holds none of it; the state and what to do still show.
    const later = await g7Process(f.root, ['morning', '--since', '3h'], { G7_NOW: '2026-11-21T07:00:00Z' });
    expect(later.out).toMatch(/^# Morning report: 2026-11-21 04:00 → 2026-11-21 07:00 UTC\n\n\*\*Now: FAIL_STOP\*\*[^\n]*0 truck\(s\) \(none\) in 0 run\(s\), 0 stop\(s\)\./);
    expect(later.out).toMatch(/1\. Read why it stopped: L1_TEST_000002 failed twice/);
  });

  it('--since that is neither a time nor an age is a usage error that writes nothing', async () => {
    const f = await factory([{ id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'out/1.txt', accept: 'exit==0' }]);
    const r = await g7Process(f.root, ['morning', '--since', 'yesterday']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--since takes an ISO time \(2026-11-21T18:00Z\) or an age \(12h, 2d\); got "yesterday"/);
    await expect(readFile(path.join(f.ssot, 'runs/morning_20261121.md'))).rejects.toThrow();
  });

  it('per run: "not reached" leaves out cards earlier runs finished; a run resumed after SIGKILL shows the calls its killed process paid for', { timeout: 60_000 }, async () => {
    const fake = await fakeGemini({ keys: ['k-morning'] });
    try {
      const f = await factory([
        { id: 'L1_SCAN_000001', prio: 'A', input: ['doc001.md'], output: 'ssot/library_index/scan/1.jsonl' },
        { id: 'L2_TAG_000001', prio: 'A', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', deps: ['L1_SCAN_000001'] },
        { id: 'L3_TEST_000001', prio: 'B', input: 'test -f fixed.txt', output: 'out/2.txt', accept: 'exit==0' },
      ], { libraryFiles: 1 });
      await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 100000 }\n${geminiAt(fake.url)}`);
      f.git('commit', '-qam', 'point at the fake');
      const env = { GEMINI_API_KEY: 'k-morning' };
      // Killed right after the TAG answer was paid for and recorded; the resume answers it from the cache.
      const killed = await g7Process(f.root, ['run'], { ...env, G7_FAULT: 'worker.cached@1' });
      expect(killed.signal).toBe('SIGKILL');
      const resumed = await g7Process(f.root, ['run'], env);
      expect(resumed.code, resumed.err).toBe(4); // L3_TEST fails twice
      const paid = fake.requests.filter((q) => q.verb === 'generateContent' && q.status === 200);
      expect(paid).toHaveLength(1);
      await f.write('fixed.txt', 'ok\n');
      expect((await g7Process(f.root, ['resume'])).code).toBe(0);
      const last = await g7Process(f.root, ['run'], env);
      expect(last.code, last.err).toBe(0);

      const m = await g7Process(f.root, ['morning']);
      expect(m.code, m.err).toBe(0);
      const row = (id: string) => m.out.split('\n').find((l) => l.startsWith(`| ${id} `))!.split('|').map((c) => c.trim());
      // run_0001 got 2 of its 3 cards done; run_0002 finished the third: nothing of the truck was left unreached.
      expect(row('run_0001').slice(4, 8)).toEqual(['2', '1', '0', '0']);
      expect(row('run_0002').slice(4, 8)).toEqual(['1', '0', '0', '0']);
      // The killed process's paid call belongs to run_0001 (whose resume answered it from the cache).
      const usage = (paid[0]!.response as { usageMetadata: { promptTokenCount: number } }).usageMetadata;
      expect(row('run_0001')[8]).toMatch(new RegExp(`^${usage.promptTokenCount}/\\d+$`));
      expect(row('run_0001')[9]).not.toBe('$0.0000');
      // Through the night, in the order it happened: the kill (shown when the next process took the run over),
      // the FAIL_STOP, the person's resume, the run that finished.
      const night = m.out.split('## Through the night')[1]!.split('## Runs')[0]!.split('\n').filter((l) => /^\| \d{4}-/.test(l)).map((l) => l.split('|').map((c) => c.trim()).slice(2, 5).join(' '));
      expect(night).toEqual(['run_0001 round 1 A INTERRUPTED', 'run_0001 round 1 A FAIL_STOP', 'run_0001  resumed by a person', 'run_0002 round 1 A READY']);
      expect(m.out).toMatch(/\| INTERRUPTED \| pid \d+ on [^|]+ stopped without a clean stop \(killed, or its runner was lost\); last heartbeat 20\d\d-/);
      expect(m.out).toMatch(/, 2 stop\(s\), 1 interruption\(s\) without a clean stop/);
    } finally {
      await fake.close();
    }
  });
});
