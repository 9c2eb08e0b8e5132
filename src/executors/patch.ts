// PATCH: the worker proposes edits (changes to the files it was shown, whole content for new ones: edits.ts);
// only paths the work pack allows are written. Rejected as
// PATH, with nothing written: ../ and absolute paths, anything in .git/, .github/workflows/ unless the
// pack names the file, and any path whose existing parent or file is a symlink that leaves the repository.
// Every edit is checked before any is written; the originals are kept in the state folder first
// (ssot/worktree-backup.ts), so a card that ends FAIL leaves the files exactly as they were; the proposed
// change is returned as a unified diff, for the evidence and the rework pack.
import { chmod, lstat, realpath, readFile } from 'node:fs/promises';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { PathError, SchemaError, type Problem } from '../contracts/errors.js';
import { writeFileAtomic } from '../ssot/atomic.js';
import { normalizeRepoPath, repoPathProblem } from '../ssot/paths.js';
import { originalText, saveBackup, type Original } from '../ssot/worktree-backup.js';
import { answerProblem, callMeta } from './answers.js';
import { resolveEdits, type Edit, type Shown } from './edits.js';
import { patchViews } from '../worker/gemini/prompt.js';
import { emptyResult, countCall, type ExecContext, type ExecResult } from './types.js';
import type { WorkPack } from '../contracts/types.gen.js';


/** Why the pack may not write `rel`, or undefined. */
export async function patchPathProblem(repoRoot: string, rel: string, pack: WorkPack): Promise<string | undefined> {
  const why = repoPathProblem(rel);
  if (why) return why;
  const norm = normalizeRepoPath(rel);
  const allowed = [...pack.files.create, ...pack.files.modify].map(normalizeRepoPath);
  if (!allowed.includes(norm)) return `is not in the work pack's files (create/modify)`;
  if (norm.startsWith('.github/workflows/') && !allowed.includes(norm)) return 'is a workflow file the pack does not name';
  // Walk the existing part of the path: no component may be a symlink that resolves outside the repository.
  const rootReal = await realpath(repoRoot);
  let cur = repoRoot;
  for (const part of norm.split('/')) {
    cur = path.join(cur, part);
    let st;
    try {
      st = await lstat(cur);
    } catch {
      break; // the rest does not exist yet: it will be created inside the last real folder
    }
    if (st.isSymbolicLink()) {
      const target = await realpath(cur).catch(() => '');
      if (!target || (target !== rootReal && !target.startsWith(rootReal + path.sep))) return `goes through the symlink ${path.relative(repoRoot, cur)}, which leaves the repository`;
    }
  }
  if (pack.files.create.map(normalizeRepoPath).includes(norm) === false) {
    try {
      await lstat(path.join(repoRoot, norm));
    } catch {
      return 'is listed under modify but does not exist (list it under create)';
    }
  }
  return undefined;
}

export async function patch(ctx: ExecContext): Promise<ExecResult> {
  const pack = ctx.pack;
  if (!pack) throw new SchemaError([{ file: ctx.card.id, field: 'pack', rule: 'patch.no-pack', message: 'a PATCH card needs a work pack' }]);
  const files: { path: string; content: string }[] = [];
  for (const p of pack.files.modify) {
    if (repoPathProblem(p)) continue;
    files.push({ path: p, content: await readFile(path.join(ctx.layout.repoRoot, normalizeRepoPath(p)), 'utf8').catch(() => '') });
  }
  const task = { kind: 'PATCH' as const, goal: pack.goal, allowed: pack.files, files, forbidden: pack.forbidden };
  const call = await ctx.worker.call({ card: ctx.card.id, cost_hint: ctx.card.cost_hint, task, skill: ctx.skill, previous_failure: ctx.previousFailure }, callMeta(task));
  const problem = answerProblem(task, call.response.json);
  if (problem) throw new SchemaError([{ file: ctx.card.id, rule: 'worker.response', message: problem }]);
  const answered = (call.response.json as { edits: Edit[] }).edits;
  // Check every path before writing any: a patch is applied whole or not at all.
  const problems: Problem[] = [];
  for (const e of answered) {
    const why = await patchPathProblem(ctx.layout.repoRoot, e.path, pack);
    if (why) problems.push({ file: ctx.card.id, field: 'edits', rule: 'patch.path', message: `"${e.path}" ${why}`, hint: `work pack ${pack.id} allows: ${[...pack.files.create, ...pack.files.modify].join(', ')}` });
  }
  if (problems.length) throw new PathError(problems);
  // Then resolve every edit to the file it produces, against the files as the worker was shown them.
  const shown = new Map<string, Shown>();
  patchViews(files, ctx.config.limits.max_input_tokens).forEach((v, i) => shown.set(normalizeRepoPath(v.path), { text: files[i]!.content, cutAt: v.cutAt }));
  const onDisk = async (rel: string): Promise<Shown | undefined> => shown.get(rel) ?? readFile(path.join(ctx.layout.repoRoot, rel), 'utf8').then((text) => ({ text }), () => undefined);
  const current = new Map<string, Shown | undefined>();
  for (const e of answered) current.set(normalizeRepoPath(e.path), await onDisk(normalizeRepoPath(e.path)));
  const resolved = resolveEdits(answered, (rel) => current.get(rel));
  const unfit = resolved.flatMap((r) => ('problem' in r ? [{ file: ctx.card.id, field: 'edits', rule: 'patch.edit', message: r.problem }] : []));
  if (unfit.length) throw new SchemaError(unfit);
  const edits = resolved.flatMap((r) => ('problem' in r ? [] : [r]));
  // The originals first, durably: from here on, whatever happens, the card's end or the next run puts them back.
  const output = normalizeRepoPath(ctx.card.output);
  const backup = await saveBackup(ctx.layout, ctx.card.id, [...edits.map((e) => e.path), output], ctx.now());
  const before = new Map(backup.files.map((o) => [o.path, o]));
  for (const e of edits) {
    const rel = normalizeRepoPath(e.path);
    const abs = path.join(ctx.layout.repoRoot, rel);
    await writeFileAtomic(abs, e.content);
    const was = before.get(rel);
    if (was?.kind === 'file') await chmod(abs, was.mode); // an executable script stays executable
  }
  const summary = { pack: pack.id, edits: edits.map((e) => ({ path: e.path, bytes: Buffer.byteLength(e.content), ...(e.changes ? { changes: e.changes } : {}) })) };
  await writeFileAtomic(path.join(ctx.layout.repoRoot, output), JSON.stringify(summary, null, 2) + '\n');
  const r = emptyResult();
  countCall(r, call);
  r.patch = unifiedDiff(edits, before);
  r.outputs = [normalizeRepoPath(ctx.card.output), ...edits.map((e) => normalizeRepoPath(e.path))];
  r.stdout = `applied ${edits.length} edit(s) allowed by ${pack.id}\n`;
  return r;
}

/** The proposed change as one unified diff (what `git apply` takes), file by file in the answer's order. */
export function unifiedDiff(edits: { path: string; content: string }[], before: Map<string, Original>): string {
  const parts: string[] = [];
  for (const e of edits) {
    const rel = normalizeRepoPath(e.path);
    const was = before.get(rel);
    if (was?.kind === 'file' && originalText(was) === e.content) continue; // unchanged: nothing to show
    const created = !was || was.kind === 'absent';
    const text = createTwoFilesPatch(created ? '/dev/null' : `a/${rel}`, `b/${rel}`, was ? originalText(was) : '', e.content, '', '');
    // jsdiff opens each file with a line of '=' (not part of the unified format); git needs the header lines only.
    parts.push(text.replace(/^=+\n/, ''));
  }
  return parts.join('');
}
