// The night window (factory.yaml `night: { start, end, tz }`): local wall-clock times in an IANA time zone.
// GitHub's cron is UTC, so `g7 init` turns the window into a UTC schedule here; the chaining truck asks
// whether an instant is still inside the window and when it ends. Time zones come from Intl (the ICU data
// Node ships), offsets at the instant asked about, so a zone with summer time is right on the day.

export interface Night {
  /** HH:MM local. */
  start: string;
  /** HH:MM local; at or before `start` means the next morning. */
  end: string;
  /** IANA zone, e.g. Asia/Seoul. */
  tz: string;
}

/** The user is in Korea: midnight to seven in the morning, Seoul time. */
export const DEFAULT_NIGHT: Night = { start: '00:00', end: '07:00', tz: 'Asia/Seoul' };

/** Scheduled jobs start at this minute past a local hour: the full hour is GitHub's busiest minute. */
const CRON_MINUTE = 23;
/** A scheduled job every this many hours of the window; chaining runs the trucks in between. */
const CRON_EVERY_MIN = 120;
const DAY_MIN = 24 * 60;

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Minutes the zone's wall clock is ahead of UTC at `at` (Asia/Seoul: 540). */
export function utcOffsetMinutes(tz: string, at: Date): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' }).formatToParts(at);
  const n = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)!.value);
  const wall = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
  return Math.round((wall - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const mod = (a: number, m: number) => ((a % m) + m) % m;

/** The window's length in minutes; an end at or before the start is the next morning's. */
export function nightMinutes(n: Night): number {
  return mod(minutesOf(n.end) - minutesOf(n.start), DAY_MIN) || DAY_MIN;
}

/** Local start times (minutes after local midnight, may pass 24:00) of the scheduled jobs of a night. */
function jobStarts(n: Night): number[] {
  const start = minutesOf(n.start);
  let first = Math.floor(start / 60) * 60 + CRON_MINUTE;
  if (first < start) first += 60;
  const out: number[] = [];
  for (let t = first; t - start < nightMinutes(n); t += CRON_EVERY_MIN) out.push(t);
  return out;
}

/**
 * The UTC cron of the night's scheduled jobs: minute 23 of every second local hour from the window's start
 * (00:00–07:00 Asia/Seoul → "23 15,17,19,21 * * *"). The offset is the zone's at `at`: where summer time
 * moves it, GitHub's jobs move with the UTC clock (the window check of chaining does not).
 */
export function nightCron(n: Night, at: Date = new Date()): string {
  const starts = jobStarts(n);
  if (starts.length === 0) throw new Error(`the night ${n.start}–${n.end} has no minute ${CRON_MINUTE} in it: make it at least an hour long`);
  const utc = starts.map((t) => mod(t - utcOffsetMinutes(n.tz, at), DAY_MIN));
  const minute = utc[0]! % 60;
  const hours = [...new Set(utc.map((t) => Math.floor(t / 60)))].sort((a, b) => a - b);
  return `${minute} ${hours.join(',')} * * *`;
}

/** When the night that `now` is inside ends, or undefined when `now` is outside the window. */
export function nightEndsAt(n: Night, now: Date): Date | undefined {
  const local = mod(Math.floor(now.getTime() / 60_000) + utcOffsetMinutes(n.tz, now), DAY_MIN);
  const into = mod(local - minutesOf(n.start), DAY_MIN);
  const len = nightMinutes(n);
  if (into >= len) return undefined;
  const minuteStart = Math.floor(now.getTime() / 60_000) * 60_000;
  return new Date(minuteStart + (len - into) * 60_000);
}
