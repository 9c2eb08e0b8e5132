// The rework pack's shape: `ssot/rework/<day>_<card>_<run>.json`, what a person needs the morning after a card
// failed twice. A file under ssot/, so its type lives here, below the factory that writes it
// (src/factory/rework.ts) and the TRIAGE executor that reads it.
import type { TriageClass } from '../contracts/errors.js';
import type { WorkCard } from '../contracts/types.gen.js';

/** Why a card failed, as the triage classified it. */
export interface Triage {
  class: TriageClass;
  transient: boolean;
  reason: string;
  /** ISO time before which a transient cause will not have cleared (from G7Error.retryAfter). */
  retry_after?: string;
  /** What a person should set or fix, when the cause says so (the error's hint). */
  hint?: string;
}

export interface ReworkPack {
  status: 'open' | 'triaged' | 'requeued' | 'skipped';
  created_at: string;
  run: string;
  day: string;
  truck: string;
  slot: number;
  card: WorkCard;
  triage: Triage;
  /** Each failed attempt: why, an excerpt of its output, and for a PATCH the change it proposed (a unified
   * diff, undone in the working tree; `git apply` takes it). */
  attempts: { attempt: number; reason: string; excerpt: string; patch?: string }[];
  evidence: string[];
  look_at: string;
}
