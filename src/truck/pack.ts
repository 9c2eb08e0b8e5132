// OPS_120PLUS120 (SPEC 5), as a pure function. A truck is exactly 120 slots: A 60, B 36, C 18, D 6.
// Quotas are filled first, each from its own class in backlog order; empty slots are then filled from the
// remaining cards in order A → B → C. A card loads only when each dep is done or sits in an earlier slot
// (same or earlier truck). Slot order is load order, so "earlier slot" is literal. A round is two trucks; a
// day runs as many rounds as its backlog needs, each packed from what the rounds before it left.
import type { CardRef } from '../plan/backlog.js';
import { IdIndex, idKey, idFromKey, isCardId, PRIOS, type CardTable, type Prio } from '../plan/card-graph.js';

export const OPS_120PLUS120 = Object.freeze({
  slots: 120,
  quotas: Object.freeze({ A: 60, B: 36, C: 18, D: 6 } as const),
  trucksPerRound: 2,
  bundles: 6,
  bundleSize: 20,
});
export const TRUCKS = ['A', 'B'] as const;
export type TruckName = (typeof TRUCKS)[number];
const CLASSES: Prio[] = ['A', 'B', 'C', 'D'];
const BACKFILL_ORDER: Prio[] = ['A', 'B', 'C'];

export interface Placement {
  card: CardRef;
  slot: number;
  bundle: number;
  /** The quota section whose slot this card fills. */
  quota: Prio;
  backfill: boolean;
}

export interface Unloaded {
  id: string;
  line: number;
  reason: string;
}

export interface DayPack {
  trucks: Record<TruckName, Placement[]>;
  /** Cards that cannot go until a person acts: failed, skipped, or waiting on a failed, skipped or unknown card. */
  held: Unloaded[];
  /** Cards that could go in a later round: no room in this one, or waiting on cards not loaded yet. */
  deferred: { noRoom: number; waiting: number; examples: Unloaded[] };
  done: number;
}

/** A card's final outcome so far; SKIP is a person's `g7 resume --skip`. */
export type Outcome = 'PASS' | 'FAIL' | 'SKIP';

/** The card at position `i` of a table, as a placement shows it. */
export function cardAt(cards: CardTable, i: number): CardRef {
  const deps: string[] = [];
  for (let k = cards.depStart[i]!; k < cards.depStart[i + 1]!; k++) deps.push(idFromKey(cards.depKeys[k]!));
  return { id: idFromKey(cards.keys[i]!), prio: PRIOS[cards.meta[i]! & 3]!, lane: cards.meta[i]! >> 2, deps, line: cards.cardLines[i]! };
}

/**
 * Packs one round's two trucks from the cards not done yet. `fixed` holds the card ids, in slot order, of
 * this round's trucks that already departed: they are kept as they are and count as earlier slots. Cards
 * are told apart by their integer id keys; only the cards placed and named in the report become objects.
 */
export function packDay(
  cards: CardTable,
  outcomes: Map<string, Outcome>,
  fixed: Partial<Record<TruckName, string[]>> = {},
  /** True when every dep is known to exist (checked earlier): the unknown-dep scan is skipped. */
  depsChecked = false,
): DayPack {
  const n = cards.count;
  const { keys, depStart, depKeys } = cards;
  const prioOf = (i: number): Prio => PRIOS[cards.meta[i]! & 3]!;
  // Outcomes by key; an id not of the card form can be no card's nor any dep's.
  const status = new Map<number, Outcome>();
  for (const [id, o] of outcomes) if (isCardId(id)) status.set(idKey(id), o);
  let built: IdIndex | undefined;
  const byKey = () => {
    if (built) return built;
    built = new IdIndex(n);
    for (let i = 0; i < n; i++) built.set(keys[i]!, i); // the last of an id, as a Map built from the list
    return built;
  };
  const loaded = new Set<number>();
  const isDone = (key: number) => status.get(key) === 'PASS';
  const satisfied = (i: number) => {
    for (let k = depStart[i]!; k < depStart[i + 1]!; k++) if (!isDone(depKeys[k]!) && !loaded.has(depKeys[k]!)) return false;
    return true;
  };

  // Held: failed cards, and everything downstream of a failed or unknown card.
  const held = new Map<number, string>();
  let done = 0;
  const roots: [number, string][] = [];
  for (let i = 0; i < n; i++) {
    const o = status.get(keys[i]!);
    if (o === 'PASS') done++;
    else if (o === 'FAIL') roots.push([i, `failed (${idFromKey(keys[i]!)}); \`g7 resume\` requeues it after the rework pack is dealt with`]);
    else if (o === 'SKIP') roots.push([i, `skipped by a person (g7 resume --skip; the reason is in the journal)`]);
    else if (!depsChecked && depStart[i + 1]! > depStart[i]!) {
      for (let k = depStart[i]!; k < depStart[i + 1]!; k++) {
        const d = depKeys[k]!;
        if (byKey().get(d) === undefined && !isDone(d)) {
          roots.push([i, `depends on ${idFromKey(d)}, which is neither in the backlog nor done`]);
          break;
        }
      }
    }
  }
  if (roots.length > 0) {
    const dependents = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      if (status.has(keys[i]!)) continue;
      for (let k = depStart[i]!; k < depStart[i + 1]!; k++) {
        const list = dependents.get(depKeys[k]!);
        if (list) list.push(i);
        else dependents.set(depKeys[k]!, [i]);
      }
    }
    const queue = [...roots];
    for (let q = 0; q < queue.length; q++) {
      const [i, reason] = queue[q]!;
      if (held.has(i)) continue;
      held.set(i, reason);
      const key = keys[i]!;
      const why = status.get(key) === 'FAIL' ? 'failed' : status.get(key) === 'SKIP' ? 'was skipped' : 'is held back';
      for (const j of dependents.get(key) ?? []) if (!held.has(j)) queue.push([j, `waits for ${idFromKey(key)}, which ${why}`]);
    }
  }

  // Candidates per class, in backlog order.
  const pending: Record<Prio, number[]> = { A: [], B: [], C: [], D: [] };
  const placed = new Uint8Array(n);
  for (let i = 0; i < n; i++) if (!status.has(keys[i]!) && !held.has(i)) pending[prioOf(i)].push(i);
  const cursor: Record<Prio, number> = { A: 0, B: 0, C: 0, D: 0 };

  const trucks: Record<TruckName, Placement[]> = { A: [], B: [] };
  for (const t of TRUCKS) {
    const slots = trucks[t];
    const place = (i: number, quota: Prio, backfill: boolean) => {
      const slot = slots.length + 1;
      slots.push({ card: cardAt(cards, i), slot, bundle: Math.ceil(slot / OPS_120PLUS120.bundleSize), quota, backfill });
      loaded.add(keys[i]!);
      placed[i] = 1;
    };
    const fixedIds = fixed[t];
    if (fixedIds) {
      for (const id of fixedIds) {
        const i = isCardId(id) ? byKey().get(idKey(id)) : undefined;
        if (i === undefined) continue; // a departed card since dropped from the backlog: it ran already
        place(i, prioOf(i), false);
      }
      continue;
    }
    /** Takes up to `limit` loadable cards of `cls`, repeating passes while a pass loads something. */
    const take = (cls: Prio, limit: number, quotaOf: () => Prio, backfill: boolean): number => {
      let taken = 0;
      const list = pending[cls];
      for (let progress = true; progress && taken < limit; ) {
        progress = false;
        while (cursor[cls] < list.length && placed[list[cursor[cls]]!]) cursor[cls]++;
        for (let k = cursor[cls]; k < list.length && taken < limit; k++) {
          const i = list[k]!;
          if (placed[i] || !satisfied(i)) continue;
          place(i, quotaOf(), backfill);
          taken++;
          progress = true;
        }
      }
      return taken;
    };
    const empty: Record<Prio, number> = { ...OPS_120PLUS120.quotas };
    /** Each class into the empty slots of its own quota. */
    const fillQuotas = (): boolean => {
      let any = false;
      for (const cls of CLASSES) {
        if (empty[cls] === 0) continue;
        const n = take(cls, empty[cls], () => cls, false);
        empty[cls] -= n;
        if (n > 0) any = true;
      }
      return any;
    };
    const emptyQuota = (): Prio => {
      const cls = CLASSES.find((c) => empty[c] > 0)!;
      empty[cls]--;
      return cls;
    };
    /**
     * Empty slots from the remaining cards, A → B → C. After every pass the classes get first go at their own
     * quota again (a card whose deps just loaded takes a slot of its class), and D's empty slots go to
     * backfill only in the second phase, once no D card could take them.
     */
    const backfill = (withD: boolean) => {
      for (let progress = true; progress; ) {
        progress = false;
        for (const cls of BACKFILL_ORDER) {
          const room = empty.A + empty.B + empty.C + (withD ? empty.D : 0);
          if (room > 0 && take(cls, room, emptyQuota, true) > 0) progress = true;
        }
        if (fillQuotas()) progress = true;
      }
    };
    fillQuotas();
    backfill(false);
    backfill(true);
  }

  // What stays behind and why.
  const deferred: DayPack['deferred'] = { noRoom: 0, waiting: 0, examples: [] };
  for (const cls of CLASSES) {
    for (const i of pending[cls]) {
      if (placed[i]) continue;
      let missing = -1;
      for (let k = depStart[i]!; k < depStart[i + 1]! && missing < 0; k++) if (!isDone(depKeys[k]!) && !loaded.has(depKeys[k]!)) missing = depKeys[k]!;
      // Up to 10 examples of each kind, so a few waiting cards are not drowned by many with no room.
      const seen = missing >= 0 ? deferred.waiting++ : deferred.noRoom++;
      if (seen < 10) {
        const reason = missing >= 0 ? `waits for ${idFromKey(missing)}, not loaded yet` : 'no room in this round\'s two trucks; a later round takes it';
        deferred.examples.push({ id: idFromKey(keys[i]!), line: cards.cardLines[i]!, reason });
      }
    }
  }
  const heldList = [...held.entries()].sort((a, b) => a[0] - b[0]).map(([i, reason]) => ({ id: idFromKey(keys[i]!), line: cards.cardLines[i]!, reason }));
  return { trucks, held: heldList, deferred, done };
}
