// The job summary's chart is Mermaid that parses (Mermaid's own parser, as GitHub renders it) and says what
// the truck did; the table survives what a triage reason may contain.
import { describe, expect, it } from 'vitest';
import { parse } from '@mermaid-js/parser';
import type { VerifyReport } from '../../src/contracts/types.gen.js';
import { outcomeChart, truckSummary } from '../../src/action/summary.js';

function report(): VerifyReport {
  const card = (slot: number, status: 'PASS' | 'FAIL' | 'SKIP', triage?: { class: 'TEST' | 'API'; reason: string }) => ({
    id: `L1_TEST_${String(slot).padStart(6, '0')}`, slot, lane: 1, type: 'TEST' as const, status, attempts: status === 'FAIL' ? 2 : 1, accept: [], failfast: [],
    triage: triage ? { class: triage.class, transient: false, reason: triage.reason } : null, duration_ms: 5, tokens: { in: 0, out: 0 }, cost_usd: 0, outputs: [], detail: `cards/${String(slot).padStart(3, '0')}_x`,
  });
  return {
    schema_version: 1, run_id: 'run_0007', day: '20261121', truck: 'B', started_at: '2026-11-21T15:23:00Z', finished_at: '2026-11-21T15:24:00Z', state: 'FAIL_STOP',
    counts: { passed: 3, failed: 2, skipped: 1, pending: 14 }, cost_usd: 0.0123, tokens: { in: 10, out: 5 },
    cards: [card(1, 'PASS'), card(2, 'PASS'), card(3, 'PASS'), card(4, 'FAIL', { class: 'TEST', reason: 'exit 1 | "quoted"' }), card(5, 'SKIP'), card(6, 'FAIL', { class: 'API', reason: 'quota' })],
  } as unknown as VerifyReport;
}

describe('the job summary', () => {
  it("charts the truck's outcomes as a Mermaid pie that Mermaid's parser accepts", async () => {
    const block = outcomeChart(report());
    const source = /^```mermaid\n([\s\S]*)\n```$/.exec(block)![1]!;
    const pie = await parse('pie', source + '\n');
    expect(pie.title).toBe('run_0007: 20 cards of truck B');
    expect(pie.sections.map((s) => [s.label, s.value])).toEqual([['PASS', 3], ['FAIL API', 1], ['FAIL TEST', 1], ['SKIP', 1], ['not run yet', 14]]);
  });

  it('the parser is not a rubber stamp: an unquoted label is refused', async () => {
    await expect(parse('pie', 'pie title x\n    PASS : 1\n')).rejects.toThrow(/Parsing failed/);
  });

  it('holds the table of cards, with pipes in a reason escaped, and says where the evidence is', () => {
    const md = truckSummary(report(), 'L1_TEST_000006 failed twice', { evidenceUrl: 'https://github.com/o/r/tree/abc/ssot/runs/run_0007', commitUrl: 'https://github.com/o/r/commit/abc' });
    expect(md).toContain('| 4 | L1_TEST_000004 | TEST | FAIL | 2 | TEST: exit 1 \\| "quoted" | 5 |');
    expect(md).toContain('Evidence: [run_0007](https://github.com/o/r/tree/abc/ssot/runs/run_0007) in [this commit](https://github.com/o/r/commit/abc)');
    expect(truckSummary(report(), 'x', { notOnRemote: 'input push is false' })).toContain("Evidence: in the runner's checkout only (input push is false).");
  });
});
