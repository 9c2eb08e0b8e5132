// Fault injection for the crash tests (and for anyone who wants to see recovery happen):
// G7_FAULT=point@n[,point@n…] makes the process SIGKILL itself the n-th time it passes `point`.
// `journal.torn@n` instead writes half of the n-th journal line, then dies, as a power cut would leave it.
// Off unless configured; then each point costs one Map lookup.
import { appendFileSync } from 'node:fs';

let plan: Map<string, number> | undefined;
const hits = new Map<string, number>();

export function configureFaults(spec: string | undefined): void {
  if (!spec) return;
  plan = new Map();
  for (const part of spec.split(',')) {
    const m = /^([a-z.]+)@(\d+)$/.exec(part.trim());
    if (m) plan.set(m[1]!, Number(m[2]));
  }
}

function due(point: string): boolean {
  if (!plan?.has(point)) return false;
  const n = (hits.get(point) ?? 0) + 1;
  hits.set(point, n);
  return plan.get(point) === n;
}

export function faultPoint(point: string): void {
  if (plan && due(point)) process.kill(process.pid, 'SIGKILL');
}

/** Before an append of `text` to `file`: maybe write a torn half of it and die. */
export function faultTornAppend(file: string, text: string): void {
  if (plan && due('journal.torn')) {
    appendFileSync(file, text.slice(0, Math.max(1, Math.floor(text.length / 2))));
    process.kill(process.pid, 'SIGKILL');
  }
}
