// The night window: local times in a zone, turned into GitHub's UTC cron (off the hour) and asked, by the
// chaining truck, whether an instant is inside and when the night ends.
import { describe, expect, it } from 'vitest';
import { DEFAULT_NIGHT, nightCron, nightEndsAt, utcOffsetMinutes } from '../../src/ssot/night.js';

const at = (iso: string) => new Date(iso);

describe('night window', () => {
  it('derives an off-the-hour UTC cron, every second local hour from the start', () => {
    expect(nightCron(DEFAULT_NIGHT)).toBe('23 15,17,19,21 * * *'); // 00:23 … 06:23 Seoul
    expect(nightCron({ start: '22:00', end: '07:00', tz: 'Asia/Seoul' })).toBe('23 13,15,17,19,21 * * *');
    expect(nightCron({ start: '01:30', end: '04:00', tz: 'UTC' })).toBe('23 2 * * *');
    // A half-hour zone moves the minute, never onto the hour.
    expect(nightCron({ start: '00:00', end: '05:00', tz: 'Asia/Kolkata' })).toBe('53 18,20,22 * * *');
    expect(() => nightCron({ start: '00:30', end: '01:00', tz: 'UTC' })).toThrow(/at least an hour/);
  });

  it('takes the offset of the day asked about where summer time moves it', () => {
    expect(utcOffsetMinutes('Asia/Seoul', at('2026-07-01T00:00Z'))).toBe(540);
    expect(utcOffsetMinutes('Europe/Berlin', at('2026-01-15T12:00Z'))).toBe(60);
    expect(utcOffsetMinutes('Europe/Berlin', at('2026-07-15T12:00Z'))).toBe(120);
    const berlin = { start: '00:00', end: '03:00', tz: 'Europe/Berlin' };
    expect(nightCron(berlin, at('2026-01-15T12:00Z'))).toBe('23 1,23 * * *');
    expect(nightCron(berlin, at('2026-07-15T12:00Z'))).toBe('23 0,22 * * *');
  });

  it('knows when the night an instant is in ends, across midnight, and nothing outside it', () => {
    const n = { start: '22:00', end: '07:00', tz: 'Asia/Seoul' };
    expect(nightEndsAt(n, at('2026-12-07T13:30Z'))?.toISOString()).toBe('2026-12-07T22:00:00.000Z'); // 22:30 Seoul
    expect(nightEndsAt(n, at('2026-12-07T20:59:30Z'))?.toISOString()).toBe('2026-12-07T22:00:00.000Z'); // 05:59 Seoul
    expect(nightEndsAt(n, at('2026-12-07T22:00Z'))).toBeUndefined(); // 07:00 Seoul: over
    expect(nightEndsAt(n, at('2026-12-07T05:00Z'))).toBeUndefined(); // 14:00 Seoul
    expect(nightEndsAt(DEFAULT_NIGHT, at('2026-12-07T14:59Z'))).toBeUndefined(); // 23:59 Seoul, before midnight
    expect(nightEndsAt(DEFAULT_NIGHT, at('2026-12-07T15:00Z'))?.toISOString()).toBe('2026-12-07T22:00:00.000Z');
  });
});
