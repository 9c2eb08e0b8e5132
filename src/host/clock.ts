// The wall clock of a g7 process. Test-only override: G7_NOW=<ISO time> starts this process's clock at that
// time, and it runs on from there at the normal rate (durations stay real). The scripted night (npm run
// night) uses it to play a night's schedule in minutes: a job "at 07:23" must see a daily quota's retry_after
// as not yet come, the job "at 08:23" as passed. This is the only place that reads G7_NOW.
let offsetMs: number | undefined;

function offset(): number {
  if (offsetMs === undefined) {
    const at = process.env.G7_NOW ? Date.parse(process.env.G7_NOW) : NaN;
    offsetMs = Number.isFinite(at) ? at - Date.now() : 0;
  }
  return offsetMs;
}

/**
 * Milliseconds since the epoch, as Date.now(). The offset is read first: on the first call it is fixed against a
 * Date.now() taken inside offset(), and a Date.now() read before it would put the clock a millisecond or so before
 * G7_NOW (a report "at 07:00" printed 06:59).
 */
export const nowMs = (): number => {
  const o = offset();
  return Date.now() + o;
};

/** The current time as an ISO string (UTC). */
export const nowIso = (): string => new Date(nowMs()).toISOString();

/** The current time as a Date. */
export const nowDate = (): Date => new Date(nowMs());
