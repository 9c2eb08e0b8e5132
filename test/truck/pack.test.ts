import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { packDay as packTable, OPS_120PLUS120, type Outcome, type Placement } from '../../src/truck/pack.js';
import type { CardRef, Prio } from '../../src/plan/backlog.js';
import { cardTable } from '../../src/plan/card-graph.js';
import { packDayFiles } from '../../src/truck/packets.js';
import { packetFile, packReportFile } from '../../src/ssot/layout.js';
import { card, jsonl, tempRepo } from '../helpers.js';

const TYPE: Record<Prio, string> = { A: 'SCAN', B: 'TAG', C: 'STRIKE', D: 'TRIAGE' };
let line = 0;
function refs(prio: Prio, n: number, opts: { start?: number; deps?: (i: number) => string[] } = {}): CardRef[] {
  return Array.from({ length: n }, (_, k) => {
    const i = (opts.start ?? 0) + k + 1;
    return { id: `L1_${TYPE[prio]}_${String(i).padStart(6, '0')}`, prio, lane: 1, deps: opts.deps?.(i) ?? [], line: ++line };
  });
}
const packDay = (cards: CardRef[], ...rest: Parameters<typeof packTable> extends [unknown, ...infer R] ? R : never) => packTable(cardTable(cards), ...rest);
const ids = (slots: Placement[]) => slots.map((s) => s.card.id);
const count = (slots: Placement[], pred: (s: Placement) => boolean) => slots.filter(pred).length;

describe('OPS_120PLUS120 packer', () => {
  it('loads exactly 120 cards into truck A when the backlog is exactly 60/36/18/6', () => {
    const cards = [...refs('A', 60), ...refs('B', 36), ...refs('C', 18), ...refs('D', 6)];
    const { trucks } = packDay(cards, new Map());
    expect(trucks.A).toHaveLength(120);
    expect(trucks.B).toHaveLength(0);
    for (const [q, n] of Object.entries(OPS_120PLUS120.quotas)) expect(count(trucks.A, (s) => s.quota === q && s.card.prio === q)).toBe(n);
    expect(count(trucks.A, (s) => s.backfill)).toBe(0);
    expect(trucks.A.map((s) => s.slot)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(trucks.A.map((s) => s.bundle)).toEqual(Array.from({ length: 120 }, (_, i) => Math.floor(i / 20) + 1));
  });

  it('puts the 121st card in truck B, never a 121st slot', () => {
    const cards = [...refs('A', 61), ...refs('B', 36), ...refs('C', 18), ...refs('D', 6)];
    const { trucks } = packDay(cards, new Map());
    expect(trucks.A).toHaveLength(120);
    expect(trucks.B).toHaveLength(1);
    expect(trucks.B[0]).toMatchObject({ slot: 1, quota: 'A', backfill: false, card: { id: 'L1_SCAN_000061' } });
  });

  it('never loads more than 240 cards a day; the rest are deferred for lack of room', () => {
    const r = packDay(refs('A', 500), new Map());
    expect(r.trucks.A).toHaveLength(120);
    expect(r.trucks.B).toHaveLength(120);
    expect(r.deferred.noRoom).toBe(260);
  });

  it('with every class short of its quota, loads them all in class order with no backfill', () => {
    const cards = [...refs('D', 1), ...refs('C', 3), ...refs('B', 5), ...refs('A', 10)];
    const { trucks } = packDay(cards, new Map());
    expect(trucks.A.map((s) => s.card.prio).join('')).toBe('AAAAAAAAAABBBBBCCCD');
    expect(count(trucks.A, (s) => s.backfill)).toBe(0);
    expect(trucks.B).toHaveLength(0);
  });

  it('fills empty slots from the remaining cards in order A → B → C, never with D', () => {
    // Quotas take A60 B36 C18 and no D: 6 empty D slots, filled by the 10 spare A cards first.
    const cards = [...refs('A', 70), ...refs('B', 50), ...refs('C', 30)];
    const { trucks } = packDay(cards, new Map());
    expect(trucks.A).toHaveLength(120);
    const fill = trucks.A.filter((s) => s.backfill);
    expect(fill.map((s) => s.card.prio).join('')).toBe('AAAAAA');
    expect(fill.every((s) => s.quota === 'D')).toBe(true);
    expect(trucks.B.map((s) => s.card.prio).join('')).toBe('A'.repeat(4) + 'B'.repeat(14) + 'C'.repeat(12));

    // No A at all, D short: 60 empty A slots and 4 empty D slots take the spare B first, then C.
    const r2 = packDay([...refs('B', 80, { start: 1000 }), ...refs('C', 40, { start: 1000 }), ...refs('D', 2, { start: 1000 })], new Map());
    const f2 = r2.trucks.A.filter((s) => s.backfill);
    expect(f2.map((s) => s.card.prio).join('')).toBe('B'.repeat(44) + 'C'.repeat(20));
    expect(f2.map((s) => s.quota).join('')).toBe('A'.repeat(60) + 'D'.repeat(4));
    expect(r2.trucks.A).toHaveLength(120);
  });

  it('gives a D card its own slot once backfill loaded its deps, instead of deferring it for lack of room', () => {
    // 100 A cards: 60 fill quota A, the other 40 backfill empty B and C slots. The D card waits for A #61,
    // which only loads in backfill; the six D slots are still free then, so it must take one.
    const a = refs('A', 100, { start: 7000 });
    const d = refs('D', 1, { start: 7000, deps: () => [a[60]!.id] });
    const r = packDay([...a, ...d], new Map());
    const placed = r.trucks.A.find((s) => s.card.id === d[0]!.id);
    expect(placed).toMatchObject({ quota: 'D', backfill: false });
    expect(placed!.slot).toBeGreaterThan(r.trucks.A.find((s) => s.card.id === a[60]!.id)!.slot);
    expect(r.deferred).toEqual({ noRoom: 0, waiting: 0, examples: [] });
  });

  it('loads a card only after its deps, inside one truck (a dep may sit in a later class)', () => {
    const a = refs('A', 3);
    const b = refs('B', 2);
    a[0]!.deps = [b[1]!.id]; // an A card that waits for a B card
    b[0]!.deps = [a[2]!.id];
    const { trucks } = packDay([...a, ...b], new Map());
    const slot = new Map(trucks.A.map((s) => [s.card.id, s.slot]));
    expect(trucks.A).toHaveLength(5);
    expect(slot.get(a[0]!.id)!).toBeGreaterThan(slot.get(b[1]!.id)!);
    expect(slot.get(b[0]!.id)!).toBeGreaterThan(slot.get(a[2]!.id)!);
    expect(trucks.A.find((s) => s.card.id === a[0]!.id)!.backfill).toBe(true);
  });

  it('satisfies deps across the two trucks, and holds a card whose dep is in neither truck', () => {
    // 180 A cards: truck A takes 120 of them (quota + backfill), so the 151st rides in truck B.
    const a = refs('A', 180, { start: 100 });
    const c = refs('C', 1, { start: 100, deps: () => [a[150]!.id] });
    const { trucks } = packDay([...a, ...c], new Map());
    expect(ids(trucks.A)).not.toContain(c[0]!.id);
    expect(ids(trucks.A)).toEqual(a.slice(0, 120).map((x) => x.id));
    const slotB = new Map(trucks.B.map((s) => [s.card.id, s.slot]));
    expect(slotB.get(c[0]!.id)).toBe(61);
    expect(slotB.get(a[150]!.id)!).toBeLessThan(61);

    const tail = refs('A', 300, { start: 5000 });
    const late = refs('B', 1, { start: 5000, deps: () => [tail[299]!.id] });
    const r = packDay([...tail, ...late], new Map());
    expect([...ids(r.trucks.A), ...ids(r.trucks.B)]).not.toContain(late[0]!.id);
    expect(r.deferred.examples.find((e) => e.id === late[0]!.id)?.reason).toMatch(/waits for L1_SCAN_005300/);
  });

  it('holds back failed cards and everything downstream of them, with the reason', () => {
    const [x, y] = refs('A', 2);
    const z = refs('B', 1, { deps: () => [y!.id] })[0]!;
    y!.deps = [x!.id];
    const free = refs('C', 1)[0]!;
    const r = packDay([x!, y!, z, free], new Map<string, Outcome>([[x!.id, 'FAIL']]));
    expect(ids(r.trucks.A)).toEqual([free.id]);
    expect(r.held.map((h) => h.id)).toEqual([x!.id, y!.id, z.id]);
    expect(r.held[0]!.reason).toMatch(/failed/);
    expect(r.held[1]!.reason).toBe(`waits for ${x!.id}, which failed`);
    expect(r.held[2]!.reason).toBe(`waits for ${y!.id}, which is held back`);
  });

  it('treats done cards as satisfied deps and does not load them again', () => {
    const [x, y] = refs('A', 2);
    y!.deps = [x!.id];
    const r = packDay([x!, y!], new Map<string, Outcome>([[x!.id, 'PASS']]));
    expect(ids(r.trucks.A)).toEqual([y!.id]);
    expect(r.done).toBe(1);
  });

  it('holds a card that depends on an id nobody has', () => {
    const [x] = refs('A', 1, { deps: () => ['L8_TEST_999999'] });
    const r = packDay([x!], new Map());
    expect(r.trucks.A).toHaveLength(0);
    expect(r.held[0]!.reason).toMatch(/L8_TEST_999999.*neither in the backlog nor done/);
  });

  it('keeps a departed truck exactly as it was and packs the other around it', () => {
    const a = refs('A', 130);
    const first = packDay(a, new Map());
    const departed = ids(first.trucks.A);
    const outcomes = new Map<string, Outcome>(departed.slice(0, 50).map((id) => [id, 'PASS']));
    const again = packDay(a, outcomes, { A: departed });
    expect(ids(again.trucks.A)).toEqual(departed);
    expect(ids(again.trucks.B)).toEqual(a.slice(120).map((c) => c.id));
  });

  it('keeps its invariants on a random backlog with random deps (seeded)', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const prios: Prio[] = ['A', 'B', 'C', 'D'];
    const cards: CardRef[] = [];
    for (let i = 0; i < 1000; i++) {
      const deps = i > 0 && rnd() < 0.4 ? [cards[Math.floor(rnd() * i)]!.id] : [];
      cards.push({ id: `L2_TEST_${String(i).padStart(6, '0')}`, prio: prios[Math.floor(rnd() * 4)]!, lane: 2, deps, line: i + 1 });
    }
    const outcomes = new Map<string, Outcome>([[cards[3]!.id, 'FAIL'], [cards[7]!.id, 'PASS']]);
    const r = packDay(cards, outcomes);
    const seen = new Map<string, number>();
    let order = 0;
    for (const t of ['A', 'B'] as const) {
      expect(r.trucks[t].length).toBeLessThanOrEqual(120);
      for (const s of r.trucks[t]) {
        expect(seen.has(s.card.id)).toBe(false);
        for (const d of s.card.deps) expect(outcomes.get(d) === 'PASS' || (seen.get(d) ?? Infinity) < order).toBe(true);
        seen.set(s.card.id, order++);
      }
    }
    expect(r.trucks.A).toHaveLength(120);
    for (const h of r.held) expect(seen.has(h.id)).toBe(false);
  });
});

describe('g7 pack (files)', () => {
  async function repoWith(rows: unknown[]) {
    const repo = await tempRepo();
    await repo.write('ssot/backlog/backlog_20261121.jsonl', jsonl(rows));
    return repo;
  }

  it('is deterministic: packing twice gives byte-identical packets and report', async () => {
    const rows = [];
    for (let i = 1; i <= 150; i++) rows.push(card(`L1_SCAN_${String(i).padStart(6, '0')}`, 'A'));
    for (let i = 1; i <= 60; i++) rows.push(card(`L2_TAG_${String(i).padStart(6, '0')}`, 'B', [`L1_SCAN_${String(i).padStart(6, '0')}`]));
    for (let i = 1; i <= 9; i++) rows.push(card(`L3_TRIAGE_${String(i).padStart(6, '0')}`, 'D'));
    const repo = await repoWith(rows);
    const display = (p: string) => p;
    await packDayFiles(repo.layout, '20261121', display);
    const files = [packetFile(repo.layout, '20261121', 1, 'A'), packetFile(repo.layout, '20261121', 1, 'B'), packReportFile(repo.layout, '20261121', 1)];
    const first = await Promise.all(files.map((f) => readFile(f)));
    await packDayFiles(repo.layout, '20261121', display);
    const second = await Promise.all(files.map((f) => readFile(f)));
    second.forEach((b, i) => expect(b.equals(first[i]!)).toBe(true));
    const a = first[0]!.toString().trim().split('\n').map((l) => JSON.parse(l));
    expect(a).toHaveLength(120);
    expect(a[0]).toMatchObject({ day: '20261121', round: 1, truck: 'A', slot: 1, bundle: 1, quota: 'A', backfill: false, card: { id: 'L1_SCAN_000001' } });
    expect(new Set(a.map((s: { card: { id: string } }) => s.card.id)).size).toBe(120);
  });

  it('says which quota slots hold backfilled cards, and how many rounds the rest needs', async () => {
    const rows = [];
    for (let i = 1; i <= 400; i++) rows.push(card(`L1_SCAN_${String(i).padStart(6, '0')}`, 'A'));
    for (let i = 1; i <= 2; i++) rows.push(card(`L3_TRIAGE_${String(i).padStart(6, '0')}`, 'D'));
    const repo = await repoWith(rows);
    const r = await repo.g7('pack');
    expect(r.out).toMatch(/packed .* → .*packets\/20261121\/round_01\/ \(round 1\)/);
    expect(r.out).toMatch(/packet_A: 120\/120  quota A 60\/60  B 36\/36 \(36 backfilled\)  C 18\/18 \(18 backfilled\)  D 6\/6 \(4 backfilled\)/);
    expect(r.out).toMatch(/packet_B: 120\/120  quota A 60\/60  B 36\/36 \(36 backfilled\)  C 18\/18 \(18 backfilled\)  D 6\/6 \(6 backfilled\)/);
    expect(r.out).toMatch(/done 0, held back 0, for later rounds 162 \(162 no room, 0 waiting\) ≈ 1 more round\(s\)/);
  });

  it('refuses to pack an invalid backlog, naming file, line and field, and writes nothing', async () => {
    const repo = await repoWith([card('L1_SCAN_000001', 'A'), { ...card('L1_SCAN_000002', 'A'), prio: 'E' }]);
    const r = await repo.g7('pack');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/backlog_20261121\.jsonl:2: prio: must be one of "A", "B", "C", "D"; got string "E"/);
    expect(r.err).toMatch(/nothing was packed/);
    await expect(readFile(packetFile(repo.layout, '20261121', 1, 'A'))).rejects.toThrow();
  });

  it('rejects a factory.yaml that tries to change the truck size or quotas', async () => {
    const repo = await repoWith([card('L1_SCAN_000001', 'A')]);
    await repo.write('ssot/factory.yaml', 'trucks:\n  slots: 130\n  quotas: { A: 70, B: 26, C: 18, D: 6 }\n  per_round: 3\n');
    const r = await repo.g7('plan', 'check', `${repo.ssot}/factory.yaml`);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/factory\.yaml:2:10: trucks\.slots: OPS_120PLUS120 is fixed: this must be 120; got number 130 \[ops\.120plus120\]/);
    expect(r.err).toMatch(/factory\.yaml:3:\d+: trucks\.quotas\.A: OPS_120PLUS120 is fixed: this must be 60; got number 70 \[ops\.120plus120\]/);
    expect(r.err).toMatch(/factory\.yaml:3:\d+: trucks\.quotas\.B: OPS_120PLUS120 is fixed: this must be 36; got number 26 \[ops\.120plus120\]/);
    expect(r.err).toMatch(/factory\.yaml:4:14: trucks\.per_round: OPS_120PLUS120 is fixed: this must be 2; got number 3 \[ops\.120plus120\]/);
  });
});

describe('g7 pack: the verdict of a full check is kept by content hash', () => {
  const rows = () => Array.from({ length: 30 }, (_, i) => card(`L1_SCAN_${String(i + 1).padStart(6, '0')}`, 'A'));

  it('stamps after a full check, packs identically through the stamp, and re-checks an edited file', async () => {
    const repo = await tempRepo();
    const file = await repo.write('ssot/backlog/backlog_20261121.jsonl', jsonl(rows()));
    expect((await repo.g7('pack')).code).toBe(0);
    const stampFile = `${repo.ssot}/state/checked/backlog_20261121.json`;
    const stamp = JSON.parse(await readFile(stampFile, 'utf8'));
    expect(stamp).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), checker: expect.stringMatching(/^[0-9a-f]{16}$/) });
    const first = await readFile(packetFile(repo.layout, '20261121', 1, 'A'));
    expect((await repo.g7('pack')).code).toBe(0);
    expect((await readFile(packetFile(repo.layout, '20261121', 1, 'A'))).equals(first)).toBe(true);

    // One changed byte: the stamp no longer matches, the full check runs and finds the problem.
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"prio":"A"', '"prio":"Z"'));
    const r = await repo.g7('pack');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/backlog_20261121\.jsonl:1: prio: must be one of/);
  });

  it('ignores a stamp made by another checker', async () => {
    const repo = await tempRepo();
    const bad = [...rows(), { ...card('L1_SCAN_000099', 'A'), lane: 2 }];
    await repo.write('ssot/backlog/backlog_20261121.jsonl', jsonl(bad));
    const { createHash } = await import('node:crypto');
    const sha = createHash('sha256').update(jsonl(bad)).digest('hex');
    await repo.write('ssot/state/checked/backlog_20261121.json', JSON.stringify({ sha256: sha, checker: 'someone-else' }));
    const r = await repo.g7('pack');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/card\.id-lane/);
  });
});
