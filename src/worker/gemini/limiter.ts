// Client-side rate limiting: requests per minute and tokens per minute over a sliding window, and one
// shared pause that every call respects when the server said how long to wait (RetryInfo.retryDelay).
// Waiting happens before a request is sent, so the client never causes a 429 by itself. The server counts
// a request when it arrives, somewhere between our send and its response; so a request holds its place in
// our window until one window after its response came back (or forever, while it is in flight).

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export class RateLimiter {
  private readonly sent: { until: number; tokens: number }[] = [];
  private pausedUntil = 0;
  private queue: Promise<void> = Promise.resolve();
  /** Resolved (and replaced) whenever a response comes back, so a waiter need not poll. */
  private changed = signal();

  constructor(
    private readonly rpm: number,
    private readonly tpm: number,
    private readonly clock: Clock = realClock,
    /** The window the limits apply to; 60 s for the real service (tests and benchmarks scale it down). */
    readonly windowMs = 60_000,
  ) {}

  /** No request may start before `at` (a clock time), e.g. now + RetryInfo.retryDelay. */
  pauseUntil(at: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, at);
  }

  /**
   * Waits until a request of `tokens` fits in the window and no pause is in force, then takes a place.
   * Call the returned `done` when the response (or the error) has come back.
   */
  acquire(tokens: number): Promise<() => void> {
    // Callers are served in order: one waiter at a time computes and takes its place.
    const turn = this.queue.then(() => this.take(Math.min(tokens, this.tpm)));
    this.queue = turn.then(
      () => {},
      () => {},
    );
    return turn;
  }

  private async take(tokens: number): Promise<() => void> {
    for (;;) {
      const now = this.clock.now();
      for (let i = this.sent.length - 1; i >= 0; i--) if (this.sent[i]!.until <= now) this.sent.splice(i, 1);
      const used = this.sent.reduce((a, s) => a + s.tokens, 0);
      let wait = Math.max(0, this.pausedUntil - now);
      const ends = this.sent.map((s) => s.until).sort((a, b) => a - b);
      if (this.sent.length >= this.rpm) wait = Math.max(wait, ends[this.sent.length - this.rpm]! - now);
      if (used + tokens > this.tpm) {
        // Wait until enough places free up to fit this one.
        let freed = used + tokens - this.tpm;
        for (const s of [...this.sent].sort((a, b) => a.until - b.until)) {
          freed -= s.tokens;
          if (freed <= 0) {
            wait = Math.max(wait, s.until - now);
            break;
          }
        }
      }
      if (wait <= 0) {
        const entry = { until: Infinity, tokens };
        this.sent.push(entry);
        return () => {
          entry.until = this.clock.now() + this.windowMs;
          const c = this.changed;
          this.changed = signal();
          c.resolve();
        };
      }
      // Waiting on a request still in flight: its response sets the time; wake when it comes back.
      if (Number.isFinite(wait)) await this.clock.sleep(wait + 1);
      else await this.changed.promise;
    }
  }
}
