// The offline worker: what the factory can do without a model. TAG by the taxonomy's keyword and regex
// rules; anything that truly needs a model fails with a clear API triage ("no key"). A missing key does not
// clear by itself, so it is not transient: the truck stops FAIL_STOP with a rework pack that says to set
// GEMINI_API_KEY, instead of stopping RECOVERABLE night after night.
import { WorkerError, type Worker, type WorkerRequest, type WorkerResponse, type Taxonomy } from './worker.js';

export interface TagAnswer {
  tags: string[];
  strike: boolean;
  why: string;
}

export function tagByRules(text: string, taxonomy: Taxonomy): TagAnswer {
  const lower = text.toLowerCase();
  const tags: string[] = [];
  const why: string[] = [];
  let strike = false;
  for (const t of taxonomy.tags) {
    const kw = (t.keywords ?? []).find((k) => lower.includes(k.toLowerCase()));
    const re = kw ? undefined : (t.regex ?? []).find((r) => new RegExp(r, 'i').test(text));
    if (kw === undefined && re === undefined) continue;
    tags.push(t.name);
    why.push(`${t.name}: ${kw !== undefined ? `keyword "${kw}"` : `regex /${re}/`}`);
    if (t.strike) strike = true;
  }
  return { tags, strike, why: why.join('; ') };
}

export const offlineWorker: Worker = {
  provider: 'offline',
  identity: () => ({ worker: 'offline:rules', prompt: '1' }),
  async call(req: WorkerRequest): Promise<WorkerResponse> {
    const started = performance.now();
    if (req.task.kind !== 'TAG')
      throw new WorkerError(`no key: card ${req.card} (${req.task.kind}) needs a model and GEMINI_API_KEY is not set`, {
        transient: false,
        hint: 'set GEMINI_API_KEY (on GitHub: a repository secret, passed to the action as gemini-api-key)',
      });
    const answer = tagByRules(req.task.chunk.text, req.task.taxonomy);
    return { json: answer, provider: 'offline', model: 'rules', tokens: { in: 0, out: 0 }, cost_usd: 0, finish_reason: 'STOP', duration_ms: performance.now() - started };
  },
};
