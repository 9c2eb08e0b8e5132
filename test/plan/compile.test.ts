import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { tempRepo, type TempRepo } from '../helpers.js';
import { cardSha256 } from '../../src/plan/serialize.js';
import type { WorkCard } from '../../src/contracts/types.gen.js';

const backlog = async (repo: TempRepo, day = '20261121') => readFile(path.join(repo.ssot, `backlog/backlog_${day}.jsonl`), 'utf8');
const cards = async (repo: TempRepo, day = '20261121') => (await backlog(repo, day)).trim().split('\n').map((l) => JSON.parse(l));

describe('g7 plan compile', () => {
  it('compiles the example plan: ids, each-to-each and all-to-one deps, templates', async () => {
    const repo = await tempRepo({ example: true });
    const r = await repo.g7('plan', 'compile', path.join(repo.ssot, 'plans/dayplan_20261121.yaml'));
    expect(r.code).toBe(0);
    const cs = await cards(repo);
    const scan = cs.filter((c) => c.type === 'SCAN');
    const tag = cs.filter((c) => c.type === 'TAG');
    expect(scan).toHaveLength(11); // 33 library files, 3 per card
    expect(scan[0]).toMatchObject({ id: 'L1_SCAN_000001', lane: 1, prio: 'A', output: 'ssot/library_index/scan/1.jsonl', accept: 'lines>=1:ssot/library_index/scan/1.jsonl', failfast: 'never', cost_hint: 'LOW', deps: [] });
    expect(scan[0].input).toHaveLength(3);
    expect(tag[4]).toMatchObject({ id: 'L2_TAG_000005', input: 'ssot/library_index/scan/5.jsonl', deps: ['L1_SCAN_000005'], failfast: 'cost>0.20' });
    const verify = cs.find((c) => c.type === 'VERIFY');
    expect(verify.deps).toEqual(tag.map((t) => t.id));
    expect(cs.find((c) => c.type === 'TEST')).toMatchObject({ pack: '개집001', prio: 'C' });
  });

  it('is deterministic and idempotent: same plan and state → byte-identical backlog, reported unchanged', async () => {
    const a = await tempRepo({ example: true });
    const b = await tempRepo({ example: true });
    await a.g7('plan', 'compile', path.join(a.ssot, 'plans/dayplan_20261121.yaml'));
    await b.g7('plan', 'compile', path.join(b.ssot, 'plans/dayplan_20261121.yaml'));
    expect(await backlog(a)).toBe(await backlog(b));
    const again = await a.g7('--json', 'plan', 'compile', path.join(a.ssot, 'plans/dayplan_20261121.yaml'));
    expect(JSON.parse(again.out)).toMatchObject({ written: 'unchanged', cards: 24 });
  });

  it('does not issue done cards again, and never overwrites a different backlog silently', async () => {
    const repo = await tempRepo({ example: true });
    const plan = path.join(repo.ssot, 'plans/dayplan_20261121.yaml');
    await repo.g7('plan', 'compile', plan);
    const before = await backlog(repo);
    await repo.write('ssot/state/journal.jsonl', JSON.stringify({ ts: 't', event: 'card_result', day: '20261121', card: 'L1_SCAN_000001', status: 'PASS', run: 'run_0001' }) + '\n');

    const refused = await repo.g7('plan', 'compile', plan);
    expect(refused.code).toBe(3);
    expect(refused.err).toMatch(/already exists with different content \(0 added, 1 done, 0 removed, 0 changed\).*\n.*--replace/);
    expect(await backlog(repo)).toBe(before);

    const replaced = await repo.g7('plan', 'compile', plan, '--replace');
    expect(replaced.code).toBe(0);
    const after = await cards(repo);
    expect(after.map((c) => c.id)).not.toContain('L1_SCAN_000001');
    expect(after.find((c) => c.id === 'L2_TAG_000001').deps).toEqual(['L1_SCAN_000001']);
    const baks = (await readdir(path.join(repo.ssot, 'backlog'))).filter((n) => n.endsWith('.bak'));
    expect(baks).toHaveLength(1);
    expect(await readFile(path.join(repo.ssot, 'backlog', baks[0]!), 'utf8')).toBe(before);
    // The new backlog still checks: its dep on the done card is known.
    expect((await repo.g7('plan', 'check', path.join(repo.ssot, 'backlog/backlog_20261121.jsonl'))).code).toBe(0);
  });

  it('generates cards from the lines of an earlier output, in batches, with stable ids', async () => {
    const repo = await tempRepo();
    await repo.write('ssot/library_index/strike_list.jsonl', Array.from({ length: 25 }, (_, i) => `{"n":${i}}\n`).join(''));
    await repo.write(
      'ssot/plans/dayplan_20261122.yaml',
      'date: 2026-11-22\ngoal: strike\nentries:\n  - { name: strike, lane: 3, prio: C, type: STRIKE, each: { lines: ssot/library_index/strike_list.jsonl, per_card: 10 }, output: "ssot/strikes/{n}.jsonl" }\n  - { name: more, lane: 3, prio: C, type: STRIKE, each: { count: 2 }, input: "ssot/library_index/strike_list.jsonl#L{n}-L{n}", output: "ssot/more/{n}.jsonl" }\n',
    );
    expect((await repo.g7('plan', 'compile', path.join(repo.ssot, 'plans/dayplan_20261122.yaml'))).code).toBe(0);
    const cs = await cards(repo, '20261122');
    expect(cs.map((c) => [c.id, c.input])).toEqual([
      ['L3_STRIKE_000001', 'ssot/library_index/strike_list.jsonl#L1-L10'],
      ['L3_STRIKE_000002', 'ssot/library_index/strike_list.jsonl#L11-L20'],
      ['L3_STRIKE_000003', 'ssot/library_index/strike_list.jsonl#L21-L25'],
      ['L3_STRIKE_100001', 'ssot/library_index/strike_list.jsonl#L1-L1'],
      ['L3_STRIKE_100002', 'ssot/library_index/strike_list.jsonl#L2-L2'],
    ]);
  });

  it('reads a strike list that rolled over with its continuations, line numbers running on', async () => {
    const repo = await tempRepo();
    await repo.write('ssot/library_index/strike_list.jsonl', '{"n":1}\n{"n":2}\n{"n":3}\n');
    await repo.write('ssot/library_index/strike_list.2.jsonl', '{"n":4}\n{"n":5}\n');
    await repo.write('ssot/plans/dayplan_20261122.yaml', 'date: 2026-11-22\ngoal: strike\nentries:\n  - { name: strike, lane: 3, prio: C, type: STRIKE, each: { lines: ssot/library_index/strike_list.jsonl, per_card: 2 }, output: "ssot/strikes/{n}.jsonl" }\n');
    expect((await repo.g7('plan', 'compile', path.join(repo.ssot, 'plans/dayplan_20261122.yaml'))).code).toBe(0);
    expect((await cards(repo, '20261122')).map((c) => c.input)).toEqual(['#L1-L2', '#L3-L4', '#L5-L5'].map((r) => `ssot/library_index/strike_list.jsonl${r}`));
  });

  it('an entry of more than 99,999 cards compiles; ids past the 99,999th have eight digits, the ones before keep theirs', { timeout: 60_000 }, async () => {
    const repo = await tempRepo();
    const plan = await repo.write('ssot/plans/dayplan_20261122.yaml', 'date: 2026-11-22\ngoal: many\nentries:\n  - { name: many, lane: 1, prio: C, type: TEST, each: { count: 100001 }, input: "true", output: "ssot/out/{n}.txt" }\n');
    const r = await repo.g7('plan', 'compile', plan);
    expect(r.code, r.err).toBe(0);
    const ids = (await backlog(repo, '20261122')).trim().split('\n').map((l) => (JSON.parse(l) as WorkCard).id);
    expect(ids).toHaveLength(100_001);
    expect([ids[0], ids[99_998], ids[99_999], ids[100_000]]).toEqual(['L1_TEST_000001', 'L1_TEST_099999', 'L1_TEST_00100000', 'L1_TEST_00100001']);
    expect((await repo.g7('plan', 'check', path.join(repo.ssot, 'backlog/backlog_20261122.jsonl'))).code).toBe(0);
  });

  it('issues a done card again when the lines it covers grew, and requeues it; other done cards stay done', async () => {
    const repo = await tempRepo();
    const list = (n: number) => repo.write('ssot/library_index/strike_list.jsonl', Array.from({ length: n }, (_, i) => `{"n":${i}}\n`).join(''));
    await list(25);
    const plan = await repo.write('ssot/plans/dayplan_20261122.yaml', 'date: 2026-11-22\ngoal: strike\nentries:\n  - { name: strike, lane: 3, prio: C, type: STRIKE, each: { lines: ssot/library_index/strike_list.jsonl, per_card: 10 }, output: "ssot/strikes/{n}.jsonl" }\n');
    expect((await repo.g7('plan', 'compile', plan)).code).toBe(0);
    const first = await cards(repo, '20261122');
    // Cards 1 and 3 passed as compiled (3 covers the partial last batch, L21-L25); card 2 passed before card hashes were journaled.
    const pass = (c: WorkCard, sha?: string) => JSON.stringify({ ts: 't', event: 'card_result', day: '20261122', card: c.id, status: 'PASS', run: 'run_0001', ...(sha ? { card_sha256: sha } : {}) }) + '\n';
    await repo.write('ssot/state/journal.jsonl', pass(first[0]!, cardSha256(first[0]!)) + pass(first[1]!) + pass(first[2]!, cardSha256(first[2]!)));
    await list(30);
    const r = await repo.g7('--json', 'plan', 'compile', plan, '--replace');
    expect(JSON.parse(r.out)).toMatchObject({ written: 'replaced', omitted_done: 2, reissued: ['L3_STRIKE_000003'] });
    expect((await cards(repo, '20261122')).map((c) => [c.id, c.input])).toEqual([['L3_STRIKE_000003', 'ssot/library_index/strike_list.jsonl#L21-L30']]);
    // The journal was written by an older g7 (one file): the requeue split it into day files and removed it.
    await expect(readFile(path.join(repo.ssot, 'state/journal.jsonl'))).rejects.toThrow(/ENOENT/);
    const journal = (await readFile(path.join(repo.ssot, 'state/journal/20261122.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(journal).toHaveLength(4);
    expect(journal.at(-1)).toMatchObject({ event: 'requeue', day: '20261122', card: 'L3_STRIKE_000003', detail: 'recompiled: its input changed since it passed' });
    // Compiling again changes nothing and requeues nothing more: the card is not done any more.
    expect(JSON.parse((await repo.g7('--json', 'plan', 'compile', plan)).out)).toMatchObject({ written: 'unchanged', reissued: [] });
  });

  it('keeps ids of later entries stable when an earlier entry grows', async () => {
    const repo = await tempRepo({ example: true });
    const plan = path.join(repo.ssot, 'plans/dayplan_20261121.yaml');
    await repo.g7('plan', 'compile', plan);
    const testId = (await cards(repo)).find((c) => c.type === 'TEST').id;
    for (let i = 0; i < 9; i++) await repo.write(`examples/library/disclosures/extra-${i}.md`, '# more\n');
    await repo.g7('plan', 'compile', plan, '--replace');
    const cs = await cards(repo);
    expect(cs.filter((c) => c.type === 'SCAN')).toHaveLength(14);
    expect(cs.find((c) => c.type === 'TEST').id).toBe(testId);
  });

  it('orders cards so that an entry comes after the entries it waits for', async () => {
    const repo = await tempRepo();
    await repo.write('ssot/plans/p.yaml', 'date: 2026-11-21\ngoal: g\nentries:\n  - { name: second, lane: 2, prio: A, type: TEST, after: first, input: b, output: o/b }\n  - { name: first, lane: 1, prio: A, type: TEST, input: a, output: o/a }\n');
    await repo.g7('plan', 'compile', path.join(repo.ssot, 'plans/p.yaml'));
    expect((await cards(repo)).map((c) => c.id)).toEqual(['L1_TEST_000001', 'L2_TEST_000001']);
  });

  it('--dry-run writes nothing', async () => {
    const repo = await tempRepo({ example: true });
    const r = await repo.g7('plan', 'compile', path.join(repo.ssot, 'plans/dayplan_20261121.yaml'), '--dry-run');
    expect(r.out).toMatch(/\(dry-run\)/);
    await expect(backlog(repo)).rejects.toThrow();
  });
});
