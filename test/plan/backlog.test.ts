// The million-card backlog check: integer keys for ids (one per id, never shared), and the per-card checks
// of a large backlog read in two halves by worker threads, with the same verdict as one reading inline.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { idKey, idFromKey } from '../../src/plan/card-graph.js';
import { checkFile } from '../../src/plan/check.js';
import { cliBuildOptions } from '../../scripts/build.mjs';
import { card, jsonl, tempRepo, REPO } from '../helpers.js';

const TYPES = ['SCAN', 'TAG', 'STRIKE', 'TEST', 'PATCH', 'VERIFY', 'TRIAGE'];

describe('card id keys', () => {
  it('differ for every lane, type and number, and give the id back', () => {
    const seen = new Map<number, string>();
    for (let lane = 1; lane <= 8; lane++)
      for (const type of TYPES)
        for (const n of [0, 1, 9, 10, 99_999, 100_000, 123_456, 999_999]) {
          const id = `L${lane}_${type}_${String(n).padStart(6, '0')}`;
          const key = idKey(id);
          expect(seen.get(key), `${id} and ${seen.get(key)} share key ${key}`).toBeUndefined();
          expect(idFromKey(key)).toBe(id);
          seen.set(key, id);
        }
    expect(seen.size).toBe(8 * 7 * 8);
    // Past an entry's 99,999th card the number has eight digits (slot, then seven): keys stay distinct.
    for (let lane = 1; lane <= 8; lane++)
      for (const type of TYPES)
        for (const slot of [0, 8, 9])
          for (const n of [100_000, 123_456, 2_999_999]) {
            const id = `L${lane}_${type}_${slot}${String(n).padStart(7, '0')}`;
            const key = idKey(id);
            expect(seen.get(key), `${id} and ${seen.get(key)} share key ${key}`).toBeUndefined();
            expect(key).toBeLessThan(2 ** 31);
            expect(idFromKey(key)).toBe(id);
            seen.set(key, id);
          }
  });

  it('same number in another lane or type is neither a duplicate nor a satisfied dep', async () => {
    const repo = await tempRepo();
    const rows = [card('L1_TEST_000001', 'A'), card('L1_TAG_000001', 'A'), card('L2_TEST_000001', 'A'), card('L1_SCAN_000001', 'A', ['L1_STRIKE_000001'])];
    const abs = await repo.write(path.join('ssot/backlog/backlog_20261121.jsonl'), jsonl(rows));
    const r = await checkFile(abs, repo.layout, (p) => p);
    expect(r.problems.map((p) => [p.line, p.rule])).toEqual([[4, 'backlog.unknown-dep']]);
  });
});

describe('the checks of a large backlog, read in two halves by two worker threads', () => {
  it('find the same problems, in the same order, as one reading on the main thread', async () => {
    // The CLI as built (its worker next to it); under node_modules so that its dependencies resolve.
    const dist = path.join(REPO, 'node_modules/.cache/g7-test-backlog-check');
    await build({ ...cliBuildOptions, outdir: dist, sourcemap: false, logLevel: 'silent' });
    const repo = await tempRepo();
    const id = (n: number) => `L1_TEST_${String(n).padStart(6, '0')}`;
    const rows: string[] = [];
    for (let n = 1; n <= 45_000; n++) rows.push(JSON.stringify(card(id(n), 'A', n % 7 === 0 ? [id(n - 1)] : [], { input: `echo card ${n} of a large backlog` })));
    const bad: [number, string][] = [
      [100, JSON.stringify(card(id(900_001), 'A', [], { prio: 'E' }))], // refused by the schema: not a card
      [200, JSON.stringify(card(id(900_002), 'A', [id(900_001)]))], // so this dep is unknown
      [300, JSON.stringify(card(id(900_003), 'A', [], { accept: 'vibes:good' }))],
      [400, JSON.stringify(card(id(5), 'A'))], // duplicate of line 5
      [500, '{"id": oops}'],
      [600, JSON.stringify(card(id(900_004), 'A', [], { output: '../../x', pack: 'nope' }))],
      [700, JSON.stringify(card(id(900_005), 'A', [id(900_006)]))],
      [701, JSON.stringify(card(id(900_006), 'A', [id(900_005)]))], // a cycle
      [40_000, JSON.stringify(card(id(900_007), 'A', [], { lane: 9 }))],
      // In the second half of the file, which the built CLI reads in another worker thread than the first.
      [44_000, JSON.stringify(card(id(30_000), 'A'))], // duplicate of a card of the first half
      [44_500, JSON.stringify(card(id(900_008), 'A', [id(900_009)]))],
      [44_800, JSON.stringify(card(id(900_010), 'A', [id(900_011)], { pack: 'nope2' }))],
      [44_900, JSON.stringify(card(id(900_011), 'A', [id(900_010)]))], // a cycle
    ];
    for (const [at, line] of bad) rows.splice(at - 1, 0, line); // in order, so each lands on line `at`
    const abs = await repo.write('ssot/backlog/backlog_20261121.jsonl', rows.join('\n') + '\n');
    const shown = (p: string) => path.relative(repo.root, p);
    const inline = await checkFile(abs, repo.layout, shown);
    const r = spawnSync(process.execPath, [path.join(dist, 'g7.mjs'), '--ssot', repo.ssot, '--json', 'plan', 'check', abs], { cwd: repo.root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(3);
    const viaWorker = (JSON.parse(r.stdout) as { files: { problems: unknown[] }[] }).files[0]!.problems;
    expect(inline.problems.map((p) => [p.line, p.rule])).toEqual([
      [100, 'schema.enum'],
      [300, 'rule.unknown-predicate'],
      [400, 'backlog.duplicate-id'],
      [500, 'json.syntax'],
      [600, 'card.path-escape'],
      [40_000, 'schema.maximum'],
      [44_000, 'backlog.duplicate-id'],
      [200, 'backlog.unknown-dep'],
      [44_500, 'backlog.unknown-dep'],
      [700, 'backlog.cycle'],
      [44_800, 'backlog.cycle'],
      [600, 'backlog.pack-missing'],
      [44_800, 'backlog.pack-missing'],
    ]);
    expect(viaWorker).toEqual(JSON.parse(JSON.stringify(inline.problems)));
  });

  it('name a byte that is not UTF-8 in the second half by its line in the file', async () => {
    const dist = path.join(REPO, 'node_modules/.cache/g7-test-backlog-check'); // built by the test above
    const repo = await tempRepo();
    const id = (n: number) => `L1_TEST_${String(n).padStart(6, '0')}`;
    const rows: string[] = [];
    for (let n = 1; n <= 45_000; n++) rows.push(JSON.stringify(card(id(n), 'A', [], { input: `echo card ${n} of a large backlog` })));
    const text = Buffer.from(rows.join('\n') + '\n');
    const at = text.indexOf(`"${id(44_000)}"`);
    text[at + 5] = 0xff; // inside line 44,000's id
    const abs = await repo.write('ssot/backlog/backlog_20261121.jsonl', text);
    const inline = await checkFile(abs, repo.layout, (p) => path.relative(repo.root, p));
    const r = spawnSync(process.execPath, [path.join(dist, 'g7.mjs'), '--ssot', repo.ssot, '--json', 'plan', 'check', abs], { cwd: repo.root, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(3);
    const viaWorker = (JSON.parse(r.stdout) as { files: { problems: unknown[] }[] }).files[0]!.problems;
    expect(inline.problems.map((p) => [p.line, p.rule])).toEqual([[44_000, 'text.encoding']]);
    expect(viaWorker).toEqual(JSON.parse(JSON.stringify(inline.problems)));
  });
});
