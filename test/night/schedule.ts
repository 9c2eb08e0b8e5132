// The night's schedule as GitHub would make it: the `on.schedule` crons of a shipped workflow file, expanded into
// the UTC times GitHub starts a scheduled run at. Read from the file the product ships (never a copy of its cron
// here), so a change to the schedule changes the night that is played.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

/** The values a cron field allows: `*`, `N`, `A-B`, `*\/S`, `A-B/S`, and lists of those. */
function field(text: string, min: number, max: number, where: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|\d+(?:-\d+)?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`${where}: "${part}" is not a cron value this harness reads (N, A-B, *, with /STEP)`);
    const [lo, hi] = m[1] === '*' ? [min, max] : m[1]!.includes('-') ? m[1]!.split('-').map(Number) as [number, number] : [Number(m[1]), m[2] ? max : Number(m[1])];
    const step = m[2] ? Number(m[2]) : 1;
    if (lo < min || hi > max || lo > hi || step < 1) throw new Error(`${where}: "${part}" is outside ${min}-${max}`);
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * The times (ISO, UTC) at which `cron` fires in [from, to). Only minute and hour may be set: the factory's cron is
 * daily (`g7 init` writes `M H1,H2,… * * *`), and a day, month or weekday field is refused rather than ignored.
 */
export function cronTimes(cron: string, from: string, to: string): string[] {
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron "${cron}": five fields expected`);
  if (parts.slice(2).some((p) => p !== '*')) throw new Error(`cron "${cron}": the night plays daily schedules only (day, month and weekday must be *)`);
  const minutes = field(parts[0]!, 0, 59, `cron "${cron}" minute`);
  const hours = field(parts[1]!, 0, 23, `cron "${cron}" hour`);
  const out: string[] = [];
  const end = Date.parse(to);
  for (let day = Date.parse(from.slice(0, 10) + 'T00:00:00.000Z'); day < end; day += 86_400_000)
    for (const h of hours)
      for (const m of minutes) {
        const t = day + (h * 60 + m) * 60_000;
        if (t >= Date.parse(from) && t < end) out.push(new Date(t).toISOString());
      }
  return out;
}

/** Every `on.schedule[].cron` of a workflow file. */
export async function workflowCrons(file: string): Promise<string[]> {
  const w = parse(await readFile(file, 'utf8')) as { on?: { schedule?: { cron: string }[] } };
  const crons = (w.on?.schedule ?? []).map((s) => s.cron);
  if (!crons.length) throw new Error(`${file}: no on.schedule cron to play`);
  return crons;
}

/** The scheduled runs of a workflow file in [from, to), in order. */
export async function scheduledRuns(file: string, from: string, to: string): Promise<string[]> {
  return [...new Set((await workflowCrons(file)).flatMap((c) => cronTimes(c, from, to)))].sort();
}
