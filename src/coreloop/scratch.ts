// An answer judged as the factory judges it, without touching the factory: the answer check, then the card's
// own accept predicates run against a scratch copy of the outputs, where the answer has replaced the line
// the card wrote for the same chunk (or item). The working tree is never written. Predicates about the run
// rather than its files (exit, stdout, tokens, duration, cmd:) say nothing about one answer and are named
// as not judged; a PATCH answer is judged by the answer check alone (its edits are the outputs).
import path from 'node:path';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import type { WorkCard } from '../contracts/types.gen.js';
import { answerProblem } from '../executors/answers.js';
import { strikeLine } from '../executors/strike.js';
import { tagLine, type TagAnswer } from '../executors/tag.js';
import { listRuns } from '../factory/evidence.js';
import type { Layout } from '../ssot/layout.js';
import { resolveInRepo } from '../ssot/paths.js';
import { allHold, evaluateRule } from '../rules/eval.js';
import { parseRule, type Predicate } from '../rules/parse.js';
import type { Shell } from '../host/shell.js';
import type { WorkerTask } from '../worker/worker.js';

export interface Judgement {
  ok: boolean;
  /** What failed (the answer check, or the accept predicates that did not hold). */
  why: string;
  /** Accept predicates not judged on one answer (about the run, not the files), or why none were. */
  unjudged: string[];
}

type FilePredicate = Extract<Predicate, { path: string }>;
const onFiles = (p: Predicate): p is FilePredicate => 'path' in p;

const noShell: Shell = {
  run: async () => {
    throw new Error('a cmd: predicate is not run on a scratch copy');
  },
} as unknown as Shell;

/** The line the card would have written for this answer, and how to recognise the line it replaces. */
function lineOf(task: WorkerTask, json: unknown): { line: string; same: (old: Record<string, unknown>) => boolean } | undefined {
  if (task.kind === 'TAG') {
    const c = task.chunk;
    return { line: tagLine(c, json as TagAnswer), same: (o) => o.path === c.path && o.offset === c.offset };
  }
  if (task.kind === 'STRIKE') {
    const key = String((task.item as { key?: unknown }).key ?? '');
    return { line: strikeLine(key, json as { findings: unknown[] }), same: (o) => o.key === key };
  }
  return undefined;
}

async function isFile(p: string): Promise<boolean> {
  return stat(p).then((s) => s.isFile(), () => false);
}

/** The output as the card left it, with this answer's line in place of the one for the same chunk. */
async function splice(original: string, task: WorkerTask, json: unknown): Promise<string | undefined> {
  const own = lineOf(task, json);
  if (!own) return undefined;
  const out: string[] = [];
  let placed = false;
  for (const l of original.split('\n')) {
    if (!l.trim()) continue;
    let v: Record<string, unknown> | undefined;
    try {
      v = JSON.parse(l) as Record<string, unknown>;
    } catch {
      v = undefined;
    }
    if (!placed && v && typeof v === 'object' && own.same(v)) {
      out.push(own.line);
      placed = true;
    } else out.push(l);
  }
  if (!placed) out.push(own.line);
  return out.join('\n') + '\n';
}

export async function judgeAnswer(repoRoot: string, card: WorkCard | undefined, task: WorkerTask, json: unknown): Promise<Judgement> {
  const problem = answerProblem(task, json);
  if (problem) return { ok: false, why: `answer check: ${problem}`, unjudged: [] };
  if (!card) return { ok: true, why: '', unjudged: ['the card is not in the run evidence: judged by the answer check alone'] };
  if (task.kind === 'PATCH') return { ok: true, why: '', unjudged: ['a PATCH answer is judged by the answer check alone'] };
  const rule = parseRule(card.accept, 'accept').rule;
  if (!rule) return { ok: true, why: '', unjudged: [`the accept rule of ${card.id} does not parse`] };
  const files = rule.predicates.filter(onFiles);
  const unjudged = rule.predicates.filter((p) => !onFiles(p)).map((p) => `${p.text}: about the run, not one answer`);
  if (files.length === 0) return { ok: true, why: '', unjudged };
  const dir = await mkdtemp(path.join(tmpdir(), 'g7-judge-'));
  try {
    for (const p of files) {
      const from = resolveInRepo(repoRoot, p.path);
      const to = resolveInRepo(dir, p.path);
      await mkdir(path.dirname(to), { recursive: true });
      if (await isFile(from)) await copyFile(from, to);
      else if (await stat(from).then((s) => s.isDirectory(), () => false)) await mkdir(to, { recursive: true });
    }
    const out = resolveInRepo(dir, card.output);
    const before = await readFile(resolveInRepo(repoRoot, card.output), 'utf8').catch(() => '');
    const text = await splice(before, task, json);
    if (text !== undefined) {
      await mkdir(path.dirname(out), { recursive: true });
      await writeFile(out, text);
    }
    const results = await evaluateRule({ source: files.map((p) => p.text).join(' && '), predicates: files }, { repoRoot: dir, figures: { exit: 0, stdout: '', stderr: '', tokens: 0, cost: 0, durationMs: 0, attempts: 1 }, shell: noShell, timeoutMs: 0 });
    const ok = allHold(results);
    return { ok, why: ok ? '' : results.filter((r) => !r.ok).map((r) => `${r.rule}: ${r.detail ?? 'does not hold'}`).join('; '), unjudged };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The card a recorded call belongs to, as it ran: its card.json in the newest run that has it. */
export function cardsFromRuns(layout: Layout): (id: string) => Promise<WorkCard | undefined> {
  let index: Promise<Map<string, string>> | undefined;
  const build = async () => {
    const m = new Map<string, string>();
    for (const run of await listRuns(layout)) {
      const cards = path.join(layout.runsDir, run, 'cards');
      for (const name of await readdir(cards).catch(() => [] as string[])) {
        const id = name.replace(/^\d+_/, '');
        m.set(id, path.join(cards, name, 'card.json')); // later runs win
      }
    }
    return m;
  };
  const found = new Map<string, Promise<WorkCard | undefined>>();
  return (id) => {
    if (!found.has(id))
      found.set(id, (index ??= build()).then(async (m) => {
        const file = m.get(id);
        if (!file) return undefined;
        return JSON.parse(await readFile(file, 'utf8')) as WorkCard;
      }).catch(() => undefined));
    return found.get(id)!;
  };
}
