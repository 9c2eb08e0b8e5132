// The bytes of a card, the same wherever they are written (backlog, packets) or hashed (the journal).
import { createHash } from 'node:crypto';
import type { WorkCard } from '../contracts/types.gen.js';

/** The identity of a card's content: what the journal records when it passes. */
export function cardSha256(card: WorkCard): string {
  return createHash('sha256').update(serializeCards([card])).digest('hex');
}

/** One card per line, keys in contract order, so that output bytes depend on content alone. */
export function serializeCards(cards: WorkCard[]): string {
  return cards
    .map((c) => {
      const o: Record<string, unknown> = { id: c.id, lane: c.lane, prio: c.prio, type: c.type, input: c.input, output: c.output, accept: c.accept, failfast: c.failfast, cost_hint: c.cost_hint, deps: c.deps };
      if (c.pack !== undefined) o.pack = c.pack;
      if (c.entry !== undefined) o.entry = c.entry;
      return JSON.stringify(o) + '\n';
    })
    .join('');
}
