// What each kind of worker call is about and how its answer is checked. The executors describe their calls
// with callMeta and refuse an answer that fails answerProblem (SCHEMA); the audit records both (the question
// and the `check` step), backfill rebuilds them from recorded requests, and the reproduction check judges
// replayed answers the same way.
import type { CallMeta } from '../worker/cached.js';
import type { WorkerTask } from '../worker/worker.js';
import { inputKindOf } from './types.js';

export function callMeta(task: WorkerTask): CallMeta {
  switch (task.kind) {
    case 'TAG':
      return { question: `tag ${task.chunk.path}@${task.chunk.offset}+${task.chunk.length}`, inputKind: inputKindOf(task.chunk.path), chunkLen: task.chunk.text.length };
    case 'STRIKE': {
      const item = task.item as { key?: string; path?: string };
      return { question: `strike ${item.key ?? '?'}`, inputKind: inputKindOf(item.path ?? ''), chunkLen: task.text.length };
    }
    case 'PATCH':
      return { question: `patch: ${task.goal}`, inputKind: 'files', chunkLen: task.goal.length + task.files.reduce((n, f) => n + f.content.length, 0) };
  }
}

export function answerProblem(task: WorkerTask, json: unknown): string | undefined {
  const a = json as Record<string, unknown> | null;
  switch (task.kind) {
    case 'TAG':
      if (!a || !Array.isArray(a.tags) || a.tags.some((t) => typeof t !== 'string') || typeof a.strike !== 'boolean') return 'the TAG answer is not { tags: string[], strike: boolean }';
      return undefined;
    case 'STRIKE':
      if (!a || !Array.isArray(a.findings)) return 'the STRIKE answer has no findings list';
      return undefined;
    case 'PATCH': {
      const edits = a?.edits as { path?: unknown; content?: unknown; changes?: unknown }[] | undefined;
      const shape = 'the PATCH answer is not { edits: [{ path, changes: [{ search, replace }] } or { path, content }] }';
      if (!Array.isArray(edits)) return shape;
      for (const e of edits) {
        if (typeof e?.path !== 'string') return shape;
        const content = e.content !== undefined;
        const changes = e.changes !== undefined;
        if (content === changes) return `${shape}: the edit of "${e.path}" gives ${content ? 'both content and changes' : 'neither content nor changes'}`;
        if (content && typeof e.content !== 'string') return shape;
        if (changes && (!Array.isArray(e.changes) || (e.changes as { search?: unknown; replace?: unknown }[]).some((c) => typeof c?.search !== 'string' || typeof c?.replace !== 'string'))) return shape;
      }
      return undefined;
    }
  }
}
