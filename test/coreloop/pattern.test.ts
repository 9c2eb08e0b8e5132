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
  return { auditDir, window: windowFrom('30d', NOW), now: NOW.toISOString(), skills: { TAG: 'ssot/skills/TAG.md' }, known, display: (p: string) => path.basename(p) };
}

beforeEach(async () => {
  auditDir = await mkdtemp(path.join(tmpdir(), 'g7-pattern-'));
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
    expect(why['TAG:short']).toMatch(/^0 usable record\(s\) < 3 \(4 left out: 0 error, 0 violation, 4 short\)/);
    expect(why['TAG:errs']).toMatch(/^1 usable record\(s\) < 3 \(4 left out: 2 error, 2 violation, 0 short\)/);
    expect(file.scanned).toEqual({ files: 1, records: 21, invalid: 1, excluded: { error: 2, violation: 2, short_chunk: 4 } });
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
