import { describe, expect, it, beforeEach } from 'vitest';
import path from 'node:path';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { minePatterns } from '../../src/coreloop/pattern.js';
import { windowFrom } from '../../src/coreloop/records.js';
import { explain } from '../../src/contracts/validate.js';
import { planted, rec, writeDay } from './mining.js';

const NOW = new Date('2026-11-21T12:00:00Z');
const OPTS = { minRepeat: 3, minUniqueQuestions: 3, minChunkLen: 400, sanitize: false };
let auditDir: string;

function deps(known: (key: string) => 'rejected' | 'merged' | 'proposed' | undefined = () => undefined) {
  return { audit: { storeDir: path.join(auditDir, 'store'), legacyDir: path.join(auditDir, 'ai-ask') }, window: windowFrom('30d', NOW), now: NOW.toISOString(), skills: { TAG: 'ssot/skills/TAG.md' }, known, display: (p: string) => path.basename(p) };
}

beforeEach(async () => {
  auditDir = await mkdtemp(path.join(tmpdir(), 'g7-pattern-'));
});

describe('coreloop pattern: cases are records', () => {
  const five = (over: (i: number) => Parameters<typeof rec>[3]) => [1, 2, 3, 4, 5].map((i) => rec('TAG:one', 'seq:x', `tag one/file-${i}.md@0+900`, over(i)));

  it('a group with one error, or one violation, is not a Guide candidate: "passed in all" is never claimed', async () => {
    for (const bad of [{ error: 'answer failed schema check: tags must be an array' }, { violation: 'wrote outside the pack' }]) {
      await writeDay(auditDir, '2026-11-20', five((i) => (i === 3 ? bad : {})));
      const { file } = await minePatterns(deps(), OPTS);
      expect(file.candidates).toEqual([]);
      expect(file.near_misses[0]!.reason).toMatch(/^1 of 5 failed \((1 error, 0|0 error, 1) violation\)$/);
    }
  });

  it('a failure that broke off part-way along the path counts against the path; transient API errors are noise', async () => {
    const step = rec('a', 'b', 'c').tool_calls[0]!;
    const failedAsk = { error: 'answer did not match the schema', tool_calls: [{ ...step, name: 'ask', ok: false }] };
    const path = (i: number) => ({ tool_calls: [{ ...step, name: 'ask' }, { ...step, name: 'check' }, { ...step, name: 'accept:json' }], ...(i === 5 ? failedAsk : {}) });
    await writeDay(auditDir, '2026-11-20', five(path));
    let r = await minePatterns(deps(), OPTS);
    expect(r.file.candidates).toEqual([]);
    expect(r.file.near_misses.map((m) => m.reason)).toContain('1 record(s) of this kind of work failed part-way along this path');
    await writeDay(auditDir, '2026-11-20', five((i) => ({ ...path(0), ...(i === 5 ? { error: 'HTTP 503 UNAVAILABLE', tool_calls: [{ ...step, name: 'ask', ok: false }] } : {}) })));
    r = await minePatterns(deps(), OPTS);
    expect(r.file.candidates.map((c) => c.evidence.records)).toEqual([4]);
    expect(r.file.scanned.excluded).toMatchObject({ transient: 1 });
  });

  it('a cached replay (the same record id again, or marked) is never a new case', async () => {
    const rs = [1, 2, 3].map((i) => rec('TAG:rep', 'seq:x', `tag rep/file-${i}.md@0+900`));
    const again = { ...rs[0]!, ts: '2026-11-20T11:00:00.000Z' };
    await writeDay(auditDir, '2026-11-19', rs.slice(0, 2));
    await writeDay(auditDir, '2026-11-20', [again, { ...rs[1]!, request_id: 'fresh00000000001', cached: true } as never]);
    const { file } = await minePatterns(deps(), { ...OPTS, minRepeat: 3, minUniqueQuestions: 1 });
    expect(file.candidates).toEqual([]);
    expect(file.scanned).toMatchObject({ records: 2, excluded: { replay: 2 } });
  });
});

describe('coreloop pattern', () => {
  it('finds the planted candidate and none of the near-misses (a failure, few inputs, short answers, errors and violations)', async () => {
    await writeDay(auditDir, '2026-11-20', planted(), '{"torn":');
    const { file } = await minePatterns(deps(), OPTS);
    expect(file.candidates.map((c) => c.category_hash)).toEqual(['TAG:tag']);
    const c = file.candidates[0]!;
    expect(c).toMatchObject({ id: 'cand-2026-11-21-001', action: 'append', section: 'Guide', target: 'ssot/skills/TAG.md', engine: 'tag', axis: 'tag', bullet: { id: `G-${c.key.slice(0, 8)}` } });
    expect(c.evidence).toMatchObject({ records: 4, unique_questions: 4, successes: 4, success_rate: 1, chunk_len: { min: 900, max: 900, mean: 900 } });
    expect(c.evidence.wilson_lower).toBeCloseTo(0.5101, 3); // 4 of 4 at 95%
    expect(c.examples).toHaveLength(3);
    const why = Object.fromEntries(file.near_misses.map((m) => [m.category_hash, m.reason]));
    expect(why['TAG:onefail']).toBe('1 of 4 failed');
    expect(why['TAG:fewq']).toBe('2 different input(s) < 3');
    expect(why['TAG:short']).toMatch(/^0 usable record\(s\) < 3 \(4 left out as noise: 4 short, 0 transient\)/);
    expect(why['TAG:errs']).toBe('4 of 5 failed (2 error, 2 violation)');
    expect(file.scanned).toEqual({ files: 1, records: 21, invalid: 1, excluded: { short_chunk: 4, transient: 0, replay: 0 } });
    expect(explain('coreloop_candidates', file, { file: 'x' })).toEqual([]);
  });

  it('writes a bullet from the evidence that quotes no input, and leaves inputs out with --sanitize', async () => {
    const rs = [1, 2, 3].map((i) => rec('TAG:tag', 'seq:aaaa0001', `tag kim${i}@example.com AIzaSyA1234567890abcdefghijklmnopqrstu${i}`));
    await writeDay(auditDir, '2026-11-20', rs);
    const { file } = await minePatterns(deps(), { ...OPTS, sanitize: true });
    const c = file.candidates[0]!;
    expect(c.bullet.text).toMatch(/^TAG work on tag: the path TAG passed in all 3 recorded cases \(3 different inputs, 95% lower bound 44%\)/);
    expect(c.bullet.text).not.toMatch(/example\.com|AIza/);
    expect(c.examples).toEqual([]);
  });

  it('does not propose a candidate again once it was rejected, merged or proposed', async () => {
    await writeDay(auditDir, '2026-11-20', planted());
    const first = (await minePatterns(deps(), OPTS)).file.candidates[0]!;
    for (const reason of ['rejected', 'merged', 'proposed'] as const) {
      const { file } = await minePatterns(deps((k) => (k === first.key ? reason : undefined)), OPTS);
      expect(file.candidates).toEqual([]);
      expect(file.skipped).toEqual([{ key: first.key, reason }]);
    }
  });

  it('reads only the window: older day files and records before --since are left alone', async () => {
    const old = [1, 2, 3].map((i) => rec('TAG:old', 'seq:ffff0006', `old ${i} question text`, {}, '2026-10-01T00:00:00.000Z'));
    await writeDay(auditDir, '2026-10-01', old);
    const edge = [1, 2, 3].map((i) => rec('TAG:edge', 'seq:ffff0007', `edge ${i} question text`, {}, '2026-10-22T06:00:00.000Z'));
    await writeDay(auditDir, '2026-10-22', edge);
    const { file } = await minePatterns(deps(), OPTS);
    expect(file.scanned.files).toBe(1);
    expect(file.scanned.records).toBe(0); // the edge day's records are before 2026-10-22T12:00
  });
});
