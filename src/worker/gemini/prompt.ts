// The worker packet: built from files only, single shot. Factory rules as the system instruction with the
// skill docstring (its Guide and Caveats included); the task, the input within a token budget, and for a
// rework the previous failure as the user turn. No history, no memory between cards.
import type { WorkerRequest } from '../worker.js';

/**
 * The version of the packet below per kind of work: raise it when what the model is sent changes (the cache
 * asks again). TAG 2: the chunk is sent without its card or location, so one answer serves every occurrence.
 */
export const PROMPT_VERSION: Record<WorkerRequest['task']['kind'], string> = { TAG: '2', STRIKE: '1', PATCH: '1' };

export const FACTORY_RULES = `You are the worker of G7 Factory, a file-driven work factory.
Rules:
- Answer with one JSON value that matches the response schema exactly. No prose outside it.
- You are stateless: use only what this request contains. Do not assume files you were not shown.
- Never invent quotes: a quote must appear verbatim in the input.
- When unsure, say so in the answer's own fields (e.g. verdict "unclear"), never by leaving the schema.`;

/** A measured estimate (about 4 characters a token for mixed prose); used for budgets and the limiter. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

function cut(text: string, maxTokens: number): { body: string; cutAt?: number } {
  const max = maxTokens * 4;
  return text.length <= max ? { body: text } : { body: `${text.slice(0, max)}\n[… ${text.length - max} characters cut to fit the input budget]`, cutAt: max };
}

const clip = (text: string, maxTokens: number): string => cut(text, maxTokens).body;

/** How a PATCH answer is asked for: changes to existing files (output tokens are the dearest), content for new ones. */
export const PATCH_ANSWER = `Answer with one edit per path you change. For a file you were shown, give changes: each a search text copied verbatim from the file (enough whole lines to match exactly once) and the text that replaces it, in file order. Give content (the whole file) only for a file you create, or a file shown whole that you rewrite entirely.`;

export interface PatchView {
  path: string;
  /** What the worker is shown: the file, or its head and a line saying how much was cut. */
  body: string;
  /** Set when the file was cut to fit the input budget: the characters shown. */
  cutAt?: number | undefined;
}

/**
 * What a PATCH request shows of each file, within the input budget, files in order: the one place that decides
 * (the prompt shows it, and the executor refuses a whole-file answer for a file the worker saw cut).
 */
export function patchViews(files: { path: string; content: string }[], maxInputTokens: number): PatchView[] {
  let budget = maxInputTokens;
  return files.map((f) => {
    const v = cut(f.content, Math.max(64, budget));
    budget -= estimateTokens(v.body);
    return { path: f.path, ...v };
  });
}

export interface Packet {
  system: string;
  user: string;
}

export function buildPacket(req: WorkerRequest, maxInputTokens: number): Packet {
  const system = req.skill ? `${FACTORY_RULES}\n\nSkill for this kind of work:\n${req.skill}` : FACTORY_RULES;
  const t = req.task;
  // A TAG prompt names neither the card nor where the chunk lies: its answer depends on the text alone, so
  // the answer of one occurrence is the answer of every other (the cache keys it by the text's digest).
  const parts: string[] = t.kind === 'TAG' ? [] : [`Card: ${req.card} (${t.kind})`];
  if (t.kind === 'TAG') {
    parts.push(`Taxonomy (tags you may use; mark strike when a tag with strike: true applies):\n${JSON.stringify(t.taxonomy.tags)}`);
    parts.push(`Chunk (${t.chunk.length} bytes):\n${clip(t.chunk.text, maxInputTokens)}`);
  } else if (t.kind === 'STRIKE') {
    parts.push(`Sensor checklist:\n${JSON.stringify(t.sensors)}`);
    parts.push(`Strike item: ${JSON.stringify(t.item)}`);
    parts.push(`Text:\n${clip(t.text, maxInputTokens)}`);
  } else {
    parts.push(`Goal: ${t.goal}`);
    parts.push(`You may only write these paths: create ${JSON.stringify(t.allowed.create)}, modify ${JSON.stringify(t.allowed.modify)}`);
    parts.push(`Forbidden: ${JSON.stringify(t.forbidden)}`);
    for (const v of patchViews(t.files, maxInputTokens)) parts.push(`File ${v.path}${v.cutAt === undefined ? '' : ' (shown cut: answer with changes only)'}:\n${v.body}`);
    parts.push(PATCH_ANSWER);
  }
  if (req.previous_failure) parts.push(`This is the one rework attempt. The first attempt failed:\n${clip(req.previous_failure, 2000)}\nFix exactly that.`);
  return { system, user: parts.join('\n\n') };
}
