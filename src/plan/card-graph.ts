// Card ids and the dependency graph, for checks over a million cards: an id as one integer, an index from
// those integers to positions in typed arrays, and the cycle search over positions.

export type Prio = 'A' | 'B' | 'C' | 'D';
export const PRIOS: readonly Prio[] = ['A', 'B', 'C', 'D'];

/** Cards as packing sees them, in file order, in typed arrays: card i is keys[i] (its id's `idKey`). */
export interface CardTable {
  count: number;
  keys: Int32Array;
  /** The class (index into PRIOS) in the low 2 bits, the lane above them. */
  meta: Uint8Array;
  cardLines: Int32Array;
  /** Card i's deps are depKeys[depStart[i] … depStart[i + 1] - 1]. */
  depStart: Int32Array;
  depKeys: Int32Array;
}

/** A table of the given cards (ids and deps of the contract's form). */
export function cardTable(cards: { id: string; prio: Prio; lane: number; deps: string[]; line: number }[]): CardTable {
  const depStart = new Int32Array(cards.length + 1);
  const depKeys: number[] = [];
  cards.forEach((c, i) => {
    depStart[i] = depKeys.length;
    for (const d of c.deps) depKeys.push(idKey(d));
  });
  depStart[cards.length] = depKeys.length;
  return {
    count: cards.length,
    keys: Int32Array.from(cards, (c) => idKey(c.id)),
    meta: Uint8Array.from(cards, (c) => PRIOS.indexOf(c.prio) | (c.lane << 2)),
    cardLines: Int32Array.from(cards, (c) => c.line),
    depStart,
    depKeys: Int32Array.from(depKeys),
  };
}

/** Card id key → position of the card's first occurrence: open addressing over two typed arrays, sized once
 * for the backlog; a fraction of a Map's memory for a million ids. */
export class IdIndex {
  private readonly keys: Int32Array;
  private readonly positions: Int32Array;
  private readonly shift: number;

  constructor(count: number) {
    const bits = Math.max(10, Math.ceil(Math.log2(count * 2 + 1)));
    this.keys = new Int32Array(2 ** bits).fill(-1);
    this.positions = new Int32Array(2 ** bits);
    this.shift = 32 - bits;
  }

  private slot(key: number): number {
    const mask = this.keys.length - 1;
    let h = Math.imul(key, 0x9e3779b1) >>> this.shift;
    while (this.keys[h] !== -1 && this.keys[h] !== key) h = (h + 1) & mask;
    return h;
  }

  get(key: number): number | undefined {
    const h = this.slot(key);
    return this.keys[h] === key ? this.positions[h] : undefined;
  }

  set(key: number, position: number): void {
    const h = this.slot(key);
    this.keys[h] = key;
    this.positions[h] = position;
  }
}

/** Dependencies by position: card i depends on edges[start[i]] … edges[start[i + 1] - 1]. */
export interface DepGraph {
  start: Int32Array;
  edges: Int32Array;
}

/** Up to `max` dependency cycles, each as a closed path of positions. Iterative, so deep chains cannot overflow the stack. */
export function findCycles(g: DepGraph, max: number): number[][] {
  const n = g.start.length - 1;
  const color = new Uint8Array(n); // 0 new, 1 on stack, 2 done
  const next = new Int32Array(n); // per node on the stack: the next of its edges to follow
  const cycles: number[][] = [];
  const path: number[] = [];
  for (let root = 0; root < n && cycles.length < max; root++) {
    if (color[root]) continue;
    path.length = 0;
    path.push(root);
    color[root] = 1;
    next[root] = g.start[root]!;
    while (path.length && cycles.length < max) {
      const node = path[path.length - 1]!;
      if (next[node]! >= g.start[node + 1]!) {
        color[node] = 2;
        path.pop();
        continue;
      }
      const to = g.edges[next[node]!++]!;
      if (color[to] === 1) cycles.push([...path.slice(path.indexOf(to)), to]);
      else if (color[to] === 0) {
        color[to] = 1;
        next[to] = g.start[to]!;
        path.push(to);
      }
    }
    // Nodes left on the stack when we stop early stay gray; no more cycles are collected anyway.
  }
  return cycles;
}

/** The card type of an id, as a small number, told apart by its length and one letter. */
function typeCode(id: string): number {
  switch (id.lastIndexOf('_') - 3) {
    case 3:
      return 0; // TAG
    case 4:
      return id.charCodeAt(3) === 83 ? 1 : 2; // SCAN, TEST
    case 5:
      return 3; // PATCH
    default:
      return id.charCodeAt(4) === 84 ? 4 : id.charCodeAt(4) === 69 ? 5 : 6; // STRIKE, VERIFY, TRIAGE
  }
}

const CARD_ID = /^L[1-8]_(SCAN|TAG|STRIKE|TEST|PATCH|VERIFY|TRIAGE)_([0-9]{6}|[0-9]{8})$/;

/** Whether a string is a card id of the contract's form (the only strings `idKey` takes). */
export function isCardId(id: string): boolean {
  return CARD_ID.test(id);
}

/**
 * Cards one entry may generate. An id's number is the entry's slot (one digit) and the card's number: five
 * digits up to 99,999 (the ids of every g7 before), seven past it, so that no id changes when an entry
 * grows past 99,999 cards. The bound keeps a key in 31 bits: 56 lane-types × 10 slots × 3,000,000.
 */
export const CARDS_PER_ENTRY = 2_999_999;
const PER_SLOT = 3_000_000;

/** The number part of a card id: the entry's slot, then the card's number (five digits, or seven past 99,999). */
export function idNumber(slot: number, n: number): string {
  return `${slot}${String(n).padStart(n <= 99_999 ? 5 : 7, '0')}`;
}

/**
 * A card id of the contract's form, L{lane}_{TYPE}_{NNNNNN} (or eight digits), as one integer: lane, type,
 * slot and number. Cheaper to hash and compare than the string, for the million-card checks. Only for ids
 * the schema has accepted.
 */
export function idKey(id: string): number {
  const u = id.lastIndexOf('_');
  const slot = id.charCodeAt(u + 1) - 48;
  let num = 0;
  for (let k = u + 2; k < id.length; k++) num = num * 10 + id.charCodeAt(k) - 48;
  return (((id.charCodeAt(1) - 49) * 8 + typeCode(id)) * 10 + slot) * PER_SLOT + num;
}

const TYPE_NAMES = ['TAG', 'SCAN', 'TEST', 'PATCH', 'STRIKE', 'VERIFY', 'TRIAGE'];

/** The card id of a key made by `idKey`. */
export function idFromKey(key: number): string {
  const num = key % PER_SLOT;
  const rest = (key - num) / PER_SLOT;
  const slot = rest % 10;
  const laneType = (rest - slot) / 10;
  const type = laneType % 8;
  return `L${(laneType - type) / 8 + 1}_${TYPE_NAMES[type]}_${idNumber(slot, num)}`;
}
