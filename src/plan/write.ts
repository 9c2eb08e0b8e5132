// Writing a compiled day plan to its backlog file, the one way (`g7 plan compile`, and `g7 run` when the
// strike list grew): an existing backlog with other content is replaced only when asked, and kept as .bak;
// what the backlog was compiled from is recorded (the compile stamp: the plan, and the lines of each
// `lines:` source), so that a run can tell when the strike list has grown and compile again before its
// next round; done cards that now compile differently are requeued so they run again.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { G7Error } from '../contracts/errors.js';
import { writeFileAtomic } from '../ssot/atomic.js';
import { sourceLines } from '../ssot/strike-list.js';
import { backlogFile, compileStampFile, type Layout } from '../ssot/layout.js';
import { toRepoPath, resolveInRepo } from '../ssot/paths.js';
import { appendJournal, doneCards, readCardOutcomes } from '../ssot/journal.js';
import type { Config } from '../ssot/config.js';
import type { CompiledPlan } from './compile.js';
import { serializeCards } from './serialize.js';
import { fileExists } from './backlog.js';

export interface CompileStamp {
  /** The day plan, repository-relative (absolute when it lives outside the repository). */
  plan: string;
  /** Lines of each `lines:` source when the backlog was compiled. */
  sources: Record<string, number>;
}

export interface WrittenBacklog {
  compiled: CompiledPlan;
  target: string;
  written: 'new' | 'unchanged' | 'replaced' | 'dry-run';
  /** Where the replaced backlog was kept. */
  backup: string | undefined;
  /** Cards added, removed and changed against the backlog that was there. */
  diff: string;
}

export interface WriteEnv {
  layout: Layout;
  config: Config;
  display: (abs: string) => string;
  now: () => string;
}

function sha8(s: string | Buffer): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

/** Cards that left the backlog because they are done are said to be done, not removed. */
function diffSummary(oldText: string, newText: string, done: ReadonlyMap<string, unknown> = new Map()): string {
  const ids = (t: string) => new Map(t.split('\n').filter(Boolean).map((l) => [/"id":"([^"]+)"/.exec(l)?.[1] ?? l, l]));
  const a = ids(oldText);
  const b = ids(newText);
  let added = 0, removed = 0, changed = 0, finished = 0;
  for (const [id, l] of b) if (!a.has(id)) added++; else if (a.get(id) !== l) changed++;
  for (const id of a.keys()) if (!b.has(id)) done.has(id) ? finished++ : removed++;
  return `${added} added, ${finished > 0 ? `${finished} done, ` : ''}${removed} removed, ${changed} changed`;
}

export async function compileToBacklog(planFile: string, env: WriteEnv, opts: { replace?: boolean; dryRun?: boolean } = {}): Promise<WrittenBacklog> {
  const { layout } = env;
  // The compiler (the YAML parser, the library glob) is loaded by the commands that compile, not by status.
  const { compileDayPlan } = await import('./compile.js');
  let done: ReadonlyMap<string, unknown> = new Map();
  const compiled = await compileDayPlan(planFile, { layout, config: env.config, display: env.display, doneOn: async (day) => { const m = doneCards(await readCardOutcomes(layout, day)); done = m; return m; } });
  const target = backlogFile(layout, compiled.day);
  const text = serializeCards(compiled.cards);
  let written: WrittenBacklog['written'] = 'new';
  let backup: string | undefined;
  let diff = `${compiled.cards.length} added, 0 removed, 0 changed`;
  if (await fileExists(target)) {
    const old = await readFile(target, 'utf8');
    diff = diffSummary(old, text, done);
    if (old === text) written = 'unchanged';
    else if (!opts.replace && !opts.dryRun)
      throw new G7Error('SCHEMA', [
        {
          file: env.display(target),
          rule: 'backlog.would-change',
          message: `the backlog already exists with different content (${diff})`,
          hint: 'pass --replace to write the new one; the old one is kept beside it as a .bak file',
        },
      ]);
    else if (!opts.dryRun) {
      written = 'replaced';
      backup = `${target}.${sha8(old)}.bak`;
      await writeFileAtomic(backup, old);
    }
  }
  if (opts.dryRun) return { compiled, target, written: 'dry-run', backup, diff };
  if (written !== 'unchanged') await writeFileAtomic(target, text);
  const rel = toRepoPath(layout.repoRoot, planFile);
  const stamp: CompileStamp = { plan: rel.startsWith('..') ? planFile : rel, sources: compiled.sources };
  await writeFileAtomic(compileStampFile(layout, compiled.day), JSON.stringify(stamp, null, 2) + '\n');
  if (compiled.reissued.length > 0)
    await appendJournal(layout, compiled.reissued.map((card) => ({ ts: env.now(), event: 'requeue' as const, day: compiled.day, card, detail: 'recompiled: its input changed since it passed' })));
  return { compiled, target, written, backup, diff };
}

export interface GrownSources {
  /** The day plan to compile again (absolute). */
  plan: string;
  grown: { path: string; before: number; now: number }[];
}

/** The `lines:` sources of a day's backlog that have more lines now than when it was compiled, if any. */
export async function grownSources(layout: Layout, day: string): Promise<GrownSources | undefined> {
  let stamp: CompileStamp;
  try {
    stamp = JSON.parse(await readFile(compileStampFile(layout, day), 'utf8')) as CompileStamp;
  } catch {
    return undefined; // compiled elsewhere, or written by hand: nothing to compare with
  }
  const grown: GrownSources['grown'] = [];
  for (const [src, before] of Object.entries(stamp.sources ?? {})) {
    const now = await sourceLines(resolveInRepo(layout.repoRoot, src));
    if (now > before) grown.push({ path: src, before, now });
  }
  return grown.length ? { plan: path.resolve(layout.repoRoot, stamp.plan), grown } : undefined;
}
