// `g7 morning [--since WHEN]`: the morning report, printed and written as Markdown next to the evidence
// (ssot/runs/morning_YYYYMMDD.md, the UTC day of now), from the files and git alone.
import path from 'node:path';
import { UsageError } from '../contracts/errors.js';
import { writeFileAtomic } from '../ssot/atomic.js';
import { readState } from '../factory/state.js';
import { collectMorning, morningMarkdown } from '../factory/morning.js';
import { Git } from '../git/git.js';
import { nowIso, nowMs } from '../host/clock.js';
import { EXIT } from './exit.js';
import type { Common } from './factory.js';
import { nextStep } from '../factory/next.js';

/** `--since`: an ISO time, or an age (`12h`, `2d`); default the last 24 hours. */
export function sinceOf(text: string | undefined, now: number): string {
  if (!text) return new Date(now - 24 * 3600e3).toISOString();
  const rel = /^(\d+)([hd])$/.exec(text.trim());
  if (rel) return new Date(now - Number(rel[1]) * (rel[2] === 'h' ? 3600e3 : 86400e3)).toISOString();
  const at = Date.parse(text);
  if (!Number.isFinite(at)) throw new UsageError(`--since takes an ISO time (2026-11-21T18:00Z) or an age (12h, 2d); got "${text}"`);
  return new Date(at).toISOString();
}

export async function morningCommand(c: Common, opts: { since?: string }): Promise<number> {
  const now = nowIso();
  const since = sinceOf(opts.since, nowMs());
  const state = await readState(c.layout, c.display, now);
  const git = new Git(c.layout.repoRoot);
  const m = await collectMorning({ layout: c.layout, git: (await git.isRepo()) ? git : undefined, state, next: await nextStep({ layout: c.layout, display: c.display, log: () => {}, warn: () => {}, now: nowIso }, state), since, now, display: c.display });
  const markdown = morningMarkdown(m);
  const file = path.join(c.layout.runsDir, `morning_${now.slice(0, 10).replace(/-/g, '')}.md`);
  await writeFileAtomic(file, markdown);
  if (c.json) c.io.out(JSON.stringify({ ...m, file: c.display(file) }));
  else {
    c.io.out(markdown);
    c.io.out(`(written to ${c.display(file)})`);
  }
  return EXIT.OK;
}
