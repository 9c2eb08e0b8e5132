// Cancellation is a clean stop (SPEC 7). GitHub cancels a job with SIGINT, then SIGTERM about 7.5 s later,
// then SIGKILL. Once the stop signal fires, no new model call starts; calls already in flight are let
// land in the response cache (they are paid for), so the resumed truck never pays for them again; then
// the run seals, commits and pushes.
import { G7Error } from '../contracts/errors.js';
import type { CachedWorker, CallOutcome } from '../worker/cached.js';
import type { WorkerRequest } from '../worker/worker.js';

/** How long a stopping run waits for model calls in flight before it seals anyway. */
export const IN_FLIGHT_GRACE_MS = 4000;

/** A card cut short by the stop signal: not a failure; it runs again when the truck resumes. */
export class Cancelled extends G7Error {
  constructor(signal: string) {
    super('API', [{ file: '(run)', rule: 'run.cancelled', message: `stopped by ${signal}` }], { transient: true, summary: `stopped by ${signal}` });
    this.name = 'Cancelled';
  }
}

const SIGNAL_EXITS: Record<number, string> = { 130: 'SIGINT', 137: 'SIGKILL', 143: 'SIGTERM' };

/**
 * The signal an exit status says the process died of (128 + the signal's number: a shell reports a child
 * killed by SIGINT as 130, SIGKILL 137, SIGTERM 143), or undefined. A process cut short did not do its
 * work, whatever its output looks like: such a result is never a PASS.
 */
export function killedBy(exit: number): string | undefined {
  return SIGNAL_EXITS[exit];
}

/** The name of the signal that stopped the run (the AbortSignal's reason), for messages and exit codes. */
export function stopReason(stop: AbortSignal): string {
  return typeof stop.reason === 'string' ? stop.reason : 'a stop request';
}

export interface StoppableWorker extends CachedWorker {
  /** Resolves when every call in flight has landed, or after `graceMs`, whichever comes first. */
  settle(graceMs: number): Promise<{ inFlight: number }>;
}

/** The worker as a run uses it: refuses new calls once `stop` fired, and knows which calls are in flight. */
export function stoppable(worker: CachedWorker, stop: AbortSignal): StoppableWorker {
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inFlight.add(p);
    const done = () => inFlight.delete(p);
    p.then(done, done);
    return p;
  };
  return {
    get paidCalls() {
      return worker.paidCalls;
    },
    canBatch: worker.canBatch,
    uncached: (reqs) => worker.uncached(reqs),
    batchFor: (reqs) => worker.batchFor(reqs),
    checkModels: (models) => worker.checkModels(models),
    batchSubmit: (reqs, name) => {
      if (stop.aborted) return Promise.reject(new Cancelled(stopReason(stop)));
      return track(worker.batchSubmit(reqs, name));
    },
    batchCollect: (name, reqs) => track(worker.batchCollect(name, reqs)),
    call(req: WorkerRequest, meta): Promise<CallOutcome> {
      if (stop.aborted) return Promise.reject(new Cancelled(stopReason(stop)));
      return track(worker.call(req, meta));
    },
    async settle(graceMs) {
      if (inFlight.size === 0) return { inFlight: 0 };
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.allSettled([...inFlight]), grace]);
      clearTimeout(timer);
      return { inFlight: inFlight.size };
    },
  };
}
