// The answer check of each kind of worker call: does the answer have the shape its executor needs? The
// executors refuse an answer that fails it (SCHEMA), the audit records it as the `check` step of the call,
// and the reproduction check judges replayed answers by it.
import type { WorkerTask } from '../worker/worker.js';

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
      const edits = a?.edits as { path?: unknown; content?: unknown }[] | undefined;
      if (!Array.isArray(edits) || edits.some((e) => typeof e?.path !== 'string' || typeof e?.content !== 'string')) return 'the PATCH answer is not { edits: [{ path, content }] }';
      return undefined;
    }
  }
}
