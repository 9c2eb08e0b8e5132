// The integer keys behind the million-card id checks: one key per id, never shared by two ids.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { idKey } from '../../src/plan/backlog.js';
import { checkFile } from '../../src/plan/check.js';
import { card, jsonl, tempRepo } from '../helpers.js';

const TYPES = ['SCAN', 'TAG', 'STRIKE', 'TEST', 'PATCH', 'VERIFY', 'TRIAGE'];

describe('card id keys', () => {
  it('differ for every lane, type and number', () => {
    const seen = new Map<number, string>();
    for (let lane = 1; lane <= 8; lane++)
      for (const type of TYPES)
        for (const n of [0, 1, 9, 10, 99_999, 100_000, 123_456, 999_999]) {
          const id = `L${lane}_${type}_${String(n).padStart(6, '0')}`;
          const key = idKey(id);
          expect(seen.get(key), `${id} and ${seen.get(key)} share key ${key}`).toBeUndefined();
          seen.set(key, id);
        }
    expect(seen.size).toBe(8 * 7 * 8);
  });

  it('same number in another lane or type is neither a duplicate nor a satisfied dep', async () => {
    const repo = await tempRepo();
    const rows = [card('L1_TEST_000001', 'A'), card('L1_TAG_000001', 'A'), card('L2_TEST_000001', 'A'), card('L1_SCAN_000001', 'A', ['L1_STRIKE_000001'])];
    const abs = await repo.write(path.join('ssot/backlog/backlog_20261121.jsonl'), jsonl(rows));
    const r = await checkFile(abs, repo.layout, (p) => p);
    expect(r.problems.map((p) => [p.line, p.rule])).toEqual([[4, 'backlog.unknown-dep']]);
  });
});
