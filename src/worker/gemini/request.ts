// The generateContent request for a worker request, as a pure function: the same online, in a batch, and in
// `g7 plan estimate`'s forecast, which builds the night's prompts without a key and without loading the SDK.
import { WORKER_ANSWERS } from '../../contracts/validate.js';
import type { CostHint, WorkerRequest } from '../worker.js';
import { buildPacket } from './prompt.js';
import { profileOf, addProfile, PRIOR_RATES, tokensFor, type Profile, type TokenCalibration } from '../tokens.js';

export interface Built {
  model: string;
  /** The card type's kind of work (TAG, STRIKE, PATCH): answers are averaged per model and kind. */
  kind: WorkerRequest['task']['kind'];
  contents: { role: string; parts: { text: string }[] }[];
  config: { systemInstruction: string; responseMimeType: string; responseJsonSchema: unknown; temperature: number; maxOutputTokens: number; thinkingConfig?: { thinkingBudget: number } };
  estIn: number;
  /** The prompt's characters per script, to learn from the tokens the service reports for it. */
  profile: Profile;
  maxOut: number;
}

/** The marker the MAX_TOKENS failure leaves in a rework's previous_failure; the rework then gets a higher cap. */
export const MAX_TOKENS_MARK = 'finishReason MAX_TOKENS';
/** Room for thinking when the budget is dynamic (or the model's default): the answer must still fit after it. */
const DYNAMIC_THINKING_ROOM = 8192;

/** What a request is built from (the worker's options of the same names). */
export interface RequestOptions {
  models: Record<CostHint, string>;
  maxInputTokens: number;
  maxOutputTokens?: number | undefined;
  thinkingBudget?: Partial<Record<CostHint, number>> | undefined;
  tokens?: TokenCalibration | undefined;
}

/** The generateContent request for a worker request: the same online, in a batch, and in a forecast. */
export function geminiRequest(o: RequestOptions, req: WorkerRequest): Built {
  const packet = buildPacket(req, o.maxInputTokens);
  const answer = (o.maxOutputTokens ?? 2048) * (req.previous_failure?.includes(MAX_TOKENS_MARK) ? 4 : 1);
  const thinking = o.thinkingBudget?.[req.cost_hint];
  // Thinking tokens count against maxOutputTokens: the cap is the answer's room plus the thinking budget.
  const maxOut = answer + (thinking === undefined || thinking < 0 ? DYNAMIC_THINKING_ROOM : thinking);
  const model = o.models[req.cost_hint];
  const profile = addProfile(profileOf(packet.system), profileOf(packet.user));
  profile[3] = 1;
  return {
    model,
    kind: req.task.kind,
    contents: [{ role: 'user', parts: [{ text: packet.user }] }],
    config: {
      systemInstruction: packet.system, responseMimeType: 'application/json', responseJsonSchema: WORKER_ANSWERS[req.task.kind], temperature: 0, maxOutputTokens: maxOut,
      ...(thinking === undefined ? {} : { thinkingConfig: { thinkingBudget: thinking } }),
    },
    estIn: o.tokens ? o.tokens.estimate(model, profile) : tokensFor(PRIOR_RATES, profile),
    profile,
    maxOut,
  };
}
