// What the real Gemini API sends and refuses, as data: error bodies (google.rpc.Status with its details),
// the models it knows with their thinking rules, request validation, and usageMetadata. The fake server
// (gemini-server.ts) routes requests; this file is the service's behaviour. Shapes follow the REST reference
// (ai.google.dev/api) and bodies seen from the live service in public bug reports.

export type Json = Record<string, unknown>;

export function rpcError(code: number, status: string, message: string, details: Json[] = []): Json {
  return { error: { code, message, status, ...(details.length ? { details } : {}) } };
}

const QUOTA_MESSAGE = 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.';
const HELP = { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] };

interface Violation {
  quotaId: string;
  metric: string;
  value: string;
}

const PER_MINUTE_REQUESTS: Violation = { quotaId: 'GenerateRequestsPerMinutePerProjectPerModel', metric: 'generativelanguage.googleapis.com/generate_content_requests', value: '60' };
const PER_MINUTE_TOKENS: Violation = { quotaId: 'GenerateContentInputTokensPerModelPerMinute', metric: 'generativelanguage.googleapis.com/generate_content_input_token_count', value: '1000000' };
const PER_DAY_REQUESTS: Violation = { quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', metric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', value: '250' };

/** A 429 RESOURCE_EXHAUSTED body: QuotaFailure with its violations, Help, RetryInfo. */
export function quotaError(violations: Violation[], retryDelay: string | undefined, model = 'gemini-2.5-flash'): Json {
  const failure = { '@type': 'type.googleapis.com/google.rpc.QuotaFailure', violations: violations.map((v) => ({ quotaMetric: v.metric, quotaId: v.quotaId, quotaDimensions: { location: 'global', model }, quotaValue: v.value })) };
  return rpcError(429, 'RESOURCE_EXHAUSTED', QUOTA_MESSAGE, [failure, HELP, ...(retryDelay ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }] : [])]);
}

export const INVALID_KEY = rpcError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
  { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
]);

/** Google's front end answers some 5xx with an HTML page, not JSON. */
const HTML_502 = '<!DOCTYPE html>\n<html lang=en>\n<meta charset=utf-8>\n<title>Error 502 (Server Error)!!1</title>\n<style>body{margin:7% auto 0;max-width:390px}</style>\n<p><b>502.</b> <ins>That\u2019s an error.</ins>\n<p>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds. <ins>That\u2019s all we know.</ins>\n';

export type ScriptedError =
  | 'unavailable' // 503 UNAVAILABLE, the model is overloaded
  | 'internal' // 500 INTERNAL
  | 'deadline' // 504 DEADLINE_EXCEEDED
  | 'html-502' // 502 with Google's HTML error page
  | 'garbled' // 200 whose JSON body was cut short
  | 'quota-minute' // 429, one per-minute violation, RetryInfo
  | 'quota-several' // 429, per-minute requests and input tokens, RetryInfo
  | 'quota-day' // 429, per-minute AND per-day violations (the daily one is not first), RetryInfo
  | 'quota-zero' // 429, the model has no quota on this key (quotaValue "0")
  | 'quota-help-only' // 429 with only a Help detail: no QuotaFailure, no RetryInfo
  | 'quota-bare' // 429 with no details at all
  | 'invalid-key' // 400 API_KEY_INVALID
  | 'permission-denied'; // 403

export function scriptedError(e: ScriptedError, retryDelay: string | undefined, model: string | undefined): { status: number; body: Json | string; type?: string } {
  switch (e) {
    case 'garbled':
      return { status: 200, body: '{"candidates": [{"content": {"parts": [{"text": "{\\"tags', type: 'application/json; charset=UTF-8' };
    case 'unavailable':
      return { status: 503, body: rpcError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.') };
    case 'internal':
      return { status: 500, body: rpcError(500, 'INTERNAL', 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting') };
    case 'deadline':
      return { status: 504, body: rpcError(504, 'DEADLINE_EXCEEDED', 'Deadline expired before operation could complete.') };
    case 'html-502':
      return { status: 502, body: HTML_502 };
    case 'quota-minute':
      return { status: 429, body: quotaError([PER_MINUTE_REQUESTS], retryDelay ?? '2s', model) };
    case 'quota-several':
      return { status: 429, body: quotaError([PER_MINUTE_TOKENS, PER_MINUTE_REQUESTS], retryDelay ?? '2s', model) };
    case 'quota-day':
      return { status: 429, body: quotaError([PER_MINUTE_REQUESTS, PER_DAY_REQUESTS], retryDelay ?? '43000s', model) };
    case 'quota-zero':
      return { status: 429, body: quotaError([{ ...PER_DAY_REQUESTS, value: '0' }, { ...PER_MINUTE_REQUESTS, quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', value: '0' }], retryDelay ?? '25.465784708s', model) };
    case 'quota-help-only':
      return { status: 429, body: rpcError(429, 'RESOURCE_EXHAUSTED', QUOTA_MESSAGE, [HELP]) };
    case 'quota-bare':
      return { status: 429, body: rpcError(429, 'RESOURCE_EXHAUSTED', 'Resource has been exhausted (e.g. check quota).') };
    case 'invalid-key':
      return { status: 400, body: INVALID_KEY };
    case 'permission-denied':
      return { status: 403, body: rpcError(403, 'PERMISSION_DENIED', 'Permission denied: Consumer has been suspended.') };
  }
}

export interface ModelSpec {
  displayName: string;
  outputTokenLimit: number;
  /** Thinks without being asked (dynamic budget) when no thinkingConfig is sent. */
  thinksByDefault: boolean;
  /** The budgets it accepts besides -1 (dynamic), and whether 0 turns thinking off. */
  budget: [number, number];
  canDisable: boolean;
}

/** The models the fake serves (the Gemini thinking guide's ranges); anything else is 404 NOT_FOUND. */
export const MODELS: Record<string, ModelSpec> = {
  'gemini-2.5-flash-lite': { displayName: 'Gemini 2.5 Flash-Lite', outputTokenLimit: 65_536, thinksByDefault: false, budget: [512, 24_576], canDisable: true },
  'gemini-2.5-flash': { displayName: 'Gemini 2.5 Flash', outputTokenLimit: 65_536, thinksByDefault: true, budget: [1, 24_576], canDisable: true },
  'gemini-2.5-pro': { displayName: 'Gemini 2.5 Pro', outputTokenLimit: 65_536, thinksByDefault: true, budget: [128, 32_768], canDisable: false },
};

export function modelResource(id: string): Json {
  const m = MODELS[id]!;
  return {
    name: `models/${id}`, baseModelId: id, version: '001', displayName: m.displayName, description: `${m.displayName} (fake)`,
    inputTokenLimit: 1_048_576, outputTokenLimit: m.outputTokenLimit, supportedGenerationMethods: ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'],
    temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2, thinking: true,
  };
}

export function modelNotFound(model: string, verb: string): Json {
  return rpcError(404, 'NOT_FOUND', `models/${model} is not found for API version v1beta, or is not supported for ${verb}. Call ListModels to see the list of available models and their supported methods.`);
}

const TOP_KEYS = new Set(['contents', 'systemInstruction', 'generationConfig', 'safetySettings', 'tools', 'toolConfig', 'cachedContent', 'model']);
const GEN_KEYS = new Set(['temperature', 'topP', 'topK', 'candidateCount', 'maxOutputTokens', 'stopSequences', 'responseMimeType', 'responseSchema', 'responseJsonSchema', 'seed', 'thinkingConfig', 'presencePenalty', 'frequencyPenalty', 'responseLogprobs', 'logprobs']);
const THINKING_KEYS = new Set(['thinkingBudget', 'includeThoughts', 'thinkingLevel']);

const invalid = (message: string) => rpcError(400, 'INVALID_ARGUMENT', message);

/** A generateContent body as the service validates it: a 400 body when it refuses, undefined when it accepts. */
export function checkGenerateBody(body: Json, model: string, where = 'GenerateContentRequest'): Json | undefined {
  for (const k of Object.keys(body)) if (!TOP_KEYS.has(k)) return invalid(`Invalid JSON payload received. Unknown name "${k}": Cannot find field.`);
  if (!Array.isArray(body.contents) || body.contents.length === 0) return invalid(`* ${where}.contents: contents is not specified\n`);
  for (const c of body.contents as Json[]) if (!Array.isArray(c.parts) || c.parts.length === 0) return invalid(`* ${where}.contents[0].parts: contents.parts must not be empty.\n`);
  const gen = (body.generationConfig ?? {}) as Json;
  for (const k of Object.keys(gen)) if (!GEN_KEYS.has(k)) return invalid(`Invalid JSON payload received. Unknown name "${k}" at 'generation_config': Cannot find field.`);
  if ((gen.responseJsonSchema || gen.responseSchema) && gen.responseMimeType !== 'application/json')
    return invalid(`* ${where}.generation_config.response_mime_type: response_mime_type must be application/json when response_schema is set.\n`);
  const spec = MODELS[model];
  if (spec && gen.maxOutputTokens !== undefined && (!Number.isInteger(gen.maxOutputTokens) || (gen.maxOutputTokens as number) < 1 || (gen.maxOutputTokens as number) > spec.outputTokenLimit))
    return invalid(`* ${where}.generation_config.max_output_tokens: The maximum number of output tokens is ${spec.outputTokenLimit}.`);
  const thinking = gen.thinkingConfig as Json | undefined;
  if (thinking !== undefined) {
    for (const k of Object.keys(thinking)) if (!THINKING_KEYS.has(k)) return invalid(`Invalid JSON payload received. Unknown name "${k}" at 'generation_config.thinking_config': Cannot find field.`);
    const b = thinking.thinkingBudget;
    if (b !== undefined && spec) {
      if (!Number.isInteger(b)) return invalid(`Invalid value at 'generation_config.thinking_config.thinking_budget' (TYPE_INT32), ${JSON.stringify(b)}`);
      const n = b as number;
      if (n === 0 && !spec.canDisable) return invalid('Budget 0 is invalid. This model only works in thinking mode.');
      if (n !== 0 && n !== -1 && (n < spec.budget[0] || n > spec.budget[1])) return invalid(`The thinking budget (${n}) is invalid. Please set it to a value between ${spec.budget[0]} and ${spec.budget[1]}.`);
    }
  }
  return undefined;
}

/**
 * Token counts as the fake reports them: a formula of its own, so a client that guesses instead of reading
 * usageMetadata gets different numbers. Other scripts than ASCII cost more per character, as in a real
 * subword vocabulary: a Hangul syllable about 0.7 tokens (Korean prose runs about 1.4 syllables a token),
 * anything else one token a character.
 */
export const promptTokens = (text: string) => {
  let ascii = 0;
  let hangul = 0;
  let other = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) ascii++;
    else if (c >= 0xac00 && c <= 0xd7a3) hangul++;
    else other++;
  }
  return Math.ceil(ascii / 3 + hangul * 0.7 + other) + 7;
};
export const outputTokens = (text: string) => Math.ceil(text.length / 3) + 2;

export interface Usage {
  prompt: number;
  cached: number;
  candidates: number;
  thoughts: number;
}

/** usageMetadata the way the service writes it: zero-valued counts are left out. */
export function usageMetadata(u: Usage): Json {
  return {
    promptTokenCount: u.prompt,
    ...(u.candidates ? { candidatesTokenCount: u.candidates } : {}),
    ...(u.cached ? { cachedContentTokenCount: u.cached } : {}),
    totalTokenCount: u.prompt + u.candidates + u.thoughts,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.prompt }],
    ...(u.cached ? { cacheTokensDetails: [{ modality: 'TEXT', tokenCount: u.cached }] } : {}),
    ...(u.thoughts ? { thoughtsTokenCount: u.thoughts } : {}),
  };
}

export const SAFETY_RATINGS = [
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
];
