// A request rebuilt from its response cache entry: the cache keeps what was asked as digests, never the
// library's text (SPEC 3a), so the texts are read again from the files they came from: the chunk from the
// library, a PATCH card's files from the working tree, the skill from the cache's parts. A text that no
// longer matches its recorded digest (the file changed since) makes the request not rebuildable, and says so.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { cachedSkill, type CacheEntry } from '../worker/cached.js';
import type { Taxonomy, WorkerRequest, WorkerTask } from '../worker/worker.js';
import { readLibraryChunk } from './library.js';
import type { WorkCard } from '../contracts/types.gen.js';
import { forEachLine } from '../ssot/jsonl.js';
import { resolveInRepo } from '../ssot/paths.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export interface RebuildPlace {
  repoRoot: string;
  libraryRoot: string;
  cacheDir: string;
}

/** The request an entry answered, or why it cannot be rebuilt. */
export async function rebuildRequest(entry: CacheEntry, at: RebuildPlace): Promise<WorkerRequest | { why: string }> {
  const a = entry.request;
  const t = a.task;
  const where = { repoRoot: at.repoRoot, libraryRoot: at.libraryRoot, card: a.card };
  const changed = (what: string) => ({ why: `${what} changed since the answer was recorded` });
  let task: WorkerTask;
  try {
    if (t.kind === 'TAG') {
      const text = await readLibraryChunk(where, t.chunk.path, t.chunk.offset, t.chunk.length);
      if (sha(text) !== t.chunk.text_sha256) return changed(`library file ${t.chunk.path}`);
      task = { kind: 'TAG', chunk: { path: t.chunk.path, offset: t.chunk.offset, length: t.chunk.length, sha256: t.chunk.sha256, text }, taxonomy: t.taxonomy as Taxonomy };
    } else if (t.kind === 'STRIKE') {
      const item = t.item as { path: string; offset: number; length: number };
      const text = await readLibraryChunk(where, item.path, item.offset, item.length);
      if (sha(text) !== t.text_sha256) return changed(`library file ${item.path}`);
      task = { kind: 'STRIKE', item: t.item, text, sensors: t.sensors };
    } else {
      const files: { path: string; content: string }[] = [];
      for (const f of t.files) {
        const content = await readFile(path.join(at.repoRoot, f.path), 'utf8');
        if (sha(content) !== f.sha256) return changed(f.path);
        files.push({ path: f.path, content });
      }
      task = { kind: 'PATCH', goal: t.goal, allowed: t.allowed, files, forbidden: t.forbidden };
    }
  } catch (err) {
    return { why: `its input cannot be read: ${(err as Error).message}` };
  }
  const skill = await cachedSkill(at.cacheDir, entry);
  return { card: a.card, cost_hint: a.cost_hint, task, skill, previous_failure: a.previous_failure };
}

/**
 * A TAG request whose answer the worker refused (wrong shape, not JSON) and so never reached the cache:
 * rebuilt from the card as it ran (its scan index names the chunk and its digest) and the record's question
 * (`tag PATH@OFFSET+LENGTH`), with the taxonomy as the factory reads it now. Other kinds are not rebuilt.
 */
export async function rebuildFromCard(card: WorkCard, question: string, at: RebuildPlace, taxonomy: () => Promise<Taxonomy>): Promise<WorkerRequest | { why: string }> {
  const m = /^tag (.+)@(\d+)\+(\d+)$/.exec(question);
  if (!m || card.type !== 'TAG') return { why: 'the answer is not in the response cache, and only a TAG request can be rebuilt from its card' };
  const [p, offset, length] = [m[1]!, Number(m[2]), Number(m[3])];
  let sha256: string | undefined;
  try {
    await forEachLine(resolveInRepo(at.repoRoot, String(card.input)), (t) => {
      const l = t.trim() ? (JSON.parse(t) as { path?: string; offset?: number; sha256?: string }) : undefined;
      if (l?.path === p && l.offset === offset) sha256 = l.sha256;
    });
    if (!sha256) return { why: `the scan index of ${card.id} no longer names ${p}@${offset}` };
    const text = await readLibraryChunk({ repoRoot: at.repoRoot, libraryRoot: at.libraryRoot, card: card.id }, p, offset, length);
    return { card: card.id, cost_hint: card.cost_hint, task: { kind: 'TAG', chunk: { path: p, offset, length, sha256, text }, taxonomy: await taxonomy() } };
  } catch (err) {
    return { why: `its input cannot be read: ${(err as Error).message}` };
  }
}
