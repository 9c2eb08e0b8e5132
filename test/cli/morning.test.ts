// g7 morning: the night read back from the files alone, printed and written next to the evidence; and G7_NOW,
// the test-only clock, moving a process's time to a scheduled job's.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process } from '../factory/fixture.js';

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
});
