// Coreloop Observe from the run loop: every worker call a card's attempt makes is noted as it happens, and
// when the attempt is over each call becomes one audit record that names the steps the card took and how
// each went: ask (the worker call) → check (the answer's shape) → apply (the executor wrote its outputs) →
// each accept predicate → failfast, with `rework` first when the attempt is the one automatic rework. Two
// calls whose cards went the same way share a tool_sequence_hash; a different outcome anywhere splits them.
import { createHash, randomBytes } from 'node:crypto';
import type { RuleResult, WorkCard } from '../contracts/types.gen.js';
import { G7Error } from '../contracts/errors.js';
import { categoryHash, type AuditCall, type AuditStep } from '../coreloop/audit.js';
import { answerProblem } from '../executors/answers.js';
import { countCall, emptyResult } from '../executors/types.js';
import type { CachedWorker, CallMeta, CallOutcome } from '../worker/cached.js';
import type { WorkerRequest, WorkerResponse } from '../worker/worker.js';

/** One worker call as the card saw it. */
export interface NotedCall {
  req: WorkerRequest;
  meta: CallMeta;
  startedAt: string;
  durationMs: number;
  outcome: { response: WorkerResponse; hash: string; cached: boolean } | { error: string; hash: string };
}

/** The skill in the prompt: its target as configured and the ids of its bullets. */
export interface PromptSkill {
  target: string | null;
  bullets: string[];
}

export interface AttemptEnd {
  attempt: number;
  /** What the executor threw, if it did. */
  error: unknown;
  accept: RuleResult[];
  failfast: { fired: boolean };
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const step = (name: string, ok: boolean, o: Partial<AuditStep> = {}): AuditStep => ({ name, args: null, ok, error: null, durationMs: 0, resultSizeBytes: 0, overridesUsed: null, extremeFlags: [], ...o });

/** `exists:out/x.txt` → `exists`, `lines>=5:out/x.txt` → `lines>=5`: the predicate without the card's own paths. */
export function predicateName(rule: string): string {
  const i = rule.indexOf(':');
  return i < 0 ? rule.trim() : rule.slice(0, i).trim();
}

function messageOf(err: unknown): string {
  if (err instanceof G7Error) return err.summary ?? err.message;
  return err instanceof Error ? err.message : String(err);
}

/** Wraps the card's worker for one attempt and turns what it saw into audit records when the attempt ends. */
export function observeAttempt(worker: CachedWorker, card: WorkCard, skill: PromptSkill, now: () => string) {
  const noted: NotedCall[] = [];
  const watched: CachedWorker = {
    get paidCalls() {
      return worker.paidCalls;
    },
    canBatch: worker.canBatch,
    uncached: (reqs) => worker.uncached(reqs),
    batchFor: (reqs) => worker.batchFor(reqs),
    batchSubmit: (reqs, name) => worker.batchSubmit(reqs, name),
    batchCollect: (name, reqs) => worker.batchCollect(name, reqs),
    checkModels: (models) => worker.checkModels(models),
    async call(req, meta): Promise<CallOutcome> {
      const startedAt = now();
      const t0 = performance.now();
      try {
        const out = await worker.call(req, meta);
        noted.push({ req, meta, startedAt, durationMs: out.cached ? 0 : performance.now() - t0, outcome: out });
        return out;
      } catch (err) {
        noted.push({ req, meta, startedAt, durationMs: performance.now() - t0, outcome: { error: messageOf(err), hash: sha(JSON.stringify(req)) } });
        throw err;
      }
    },
  };

  /** What the attempt's answered calls cost, counted as the executors count them (countCall): for an attempt
   * whose executor threw after it was answered (a refused answer), whose result is never returned. */
  const spent = () => {
    const r = emptyResult();
    for (const n of noted) if ('response' in n.outcome) countCall(r, n.outcome);
    return { tokens: r.tokens, cost: r.cost };
  };
  return { worker: watched, records: (end: AttemptEnd) => callRecords(card, skill, noted, end), spent };
}

/** The audit records of an attempt's worker calls, once the attempt is over (also used by backfill). */
export function callRecords(card: WorkCard, skill: PromptSkill, noted: NotedCall[], end: AttemptEnd): AuditCall[] {
  const applied = end.error === undefined;
  const errText = end.error === undefined ? null : messageOf(end.error);
  // Leaving the work pack's files (PATH) or tripping a failfast limit is a violation, not an error of the answer.
  const violation = end.error instanceof G7Error && end.error.triage === 'PATH' ? errText : end.failfast.fired ? 'failfast fired' : null;
  return noted.map((n) => {
    const r = 'response' in n.outcome ? n.outcome.response : undefined;
    const answerSize = r ? Buffer.byteLength(JSON.stringify(r.json ?? null)) : 0;
    const retries = r?.retries ?? [];
    const steps: AuditStep[] = [];
    if (end.attempt > 1) steps.push(step('rework', true));
    const args = JSON.stringify({ card: card.id, kind: n.req.task.kind, cost_hint: n.req.cost_hint, cached: 'cached' in n.outcome ? n.outcome.cached : false });
    steps.push(step('ask', r !== undefined, {
      args, error: 'error' in n.outcome ? n.outcome.error : null, durationMs: n.durationMs, resultSizeBytes: answerSize,
      overridesUsed: retries.length ? ['retry'] : null,
      extremeFlags: r ? [...(retries.length ? [`retries:${retries.length}`] : []), ...(r.finish_reason !== 'STOP' ? [`finish:${r.finish_reason}`] : [])] : [],
    }));
    const problem = r ? answerProblem(n.req.task, r.json) : undefined;
    if (r) steps.push(step('check', !problem, { error: problem ?? null }));
    if (r && !problem) {
      steps.push(step('apply', applied, { error: violation && !end.failfast.fired ? violation : applied ? null : errText }));
      if (applied) for (const a of end.accept) steps.push(step(`accept:${predicateName(a.rule)}`, a.ok, { error: a.ok ? null : (a.detail ?? 'does not hold') }));
      if (end.failfast.fired) steps.push(step('failfast', false, { error: 'failfast fired' }));
    }
    const ownError = 'error' in n.outcome ? n.outcome.error : problem ?? null;
    return {
      ts: n.startedAt,
      // The record's own id (issue 20): a replay of the request, served from the cache, is another record of
      // the same request (requestHash), never the same case twice.
      requestId: randomBytes(8).toString('hex'),
      requestHash: n.outcome.hash,
      question: n.meta.question,
      questionHash: sha(n.meta.question),
      category: categoryHash(card.type, { entry: card.entry ?? card.pack ?? `lane${card.lane}`, skill: skill.target, inputKind: n.meta.inputKind }),
      hint: `${card.type} work, ${card.entry ? `day-plan entry ${card.entry}` : card.pack ? `work pack ${card.pack}` : `lane ${card.lane}`}, skill ${skill.target ?? 'none'}, input ${n.meta.inputKind}`,
      provider: r?.provider ?? 'unknown',
      model: r?.model ?? '',
      steps,
      overrides: retries.map((x) => ({ tool: 'ask', override_keys: ['retry'], trigger: `HTTP ${x.status ?? 'timeout'}, waited ${x.waited_ms} ms`, succeeded: true })),
      tokens: r?.tokens ?? { in: 0, out: 0 },
      chunkLen: n.meta.chunkLen,
      // The call's own failure only: what went wrong after a good answer is in its steps (and counts there).
      error: ownError,
      violation: r && !problem ? violation : null,
      skillUsed: skill.target,
      skillBullets: skill.bullets,
      durationMs: n.durationMs,
      cached: 'cached' in n.outcome && n.outcome.cached,
    } satisfies AuditCall;
  });
}

