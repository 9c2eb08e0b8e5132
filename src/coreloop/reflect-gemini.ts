// The reflector's model call on Gemini: the worker's own client, retry policy and spend budget (a reflection
// is paid for like any call), with its own prompt, structured output {bullet, why} and a small output limit.
import type { GeminiWorker } from '../worker/gemini/worker.js';
import { costUsd } from '../worker/gemini/budget.js';
import type { ReflectModel } from './reflect.js';

const SCHEMA = { type: 'object', properties: { bullet: { type: 'string' }, why: { type: 'string' } }, required: ['bullet', 'why'] };
const MAX_OUT = 512;

export function geminiReflector(worker: GeminiWorker, model: string): ReflectModel {
  return {
    model: `gemini/${model}`,
    async write(system, user) {
      const estIn = Math.ceil((system.length + user.length) / 3);
      // Thinking spends output tokens first: the answer gets its own room on top of the thinking budget.
      const thinking = Math.max(0, worker.o.thinkingBudget?.MID ?? 512);
      await worker.o.budget.check(costUsd(worker.o.prices, model, { in: estIn, cached: 0, out: MAX_OUT + thinking }));
      const config = { systemInstruction: system, responseMimeType: 'application/json', responseJsonSchema: SCHEMA, maxOutputTokens: MAX_OUT + thinking, thinkingConfig: { thinkingBudget: thinking }, temperature: 0 };
      const contents = [{ role: 'user', parts: [{ text: user }] }];
      const { value: res } = await worker.retrying(`generateContent ${model} (reflector)`, () => worker.ai.models.generateContent({ model, contents, config }), estIn);
      const billed = worker.billed(res, estIn);
      await worker.o.budget.record(costUsd(worker.o.prices, model, billed), billed.in, billed.out);
      const cand = res.candidates?.[0];
      const text = cand?.content?.parts?.map((p) => p.text ?? '').join('') ?? '';
      if (String(cand?.finishReason ?? 'NONE') !== 'STOP') throw new Error(`the reflector's answer did not finish (finishReason ${String(cand?.finishReason ?? 'NONE')})`);
      let v: { bullet?: unknown; why?: unknown };
      try {
        v = JSON.parse(text) as typeof v;
      } catch {
        throw new Error(`the reflector's answer is not JSON: ${text.slice(0, 80)}`);
      }
      if (typeof v.bullet !== 'string') throw new Error('the reflector\'s answer has no bullet');
      return { bullet: v.bullet, why: typeof v.why === 'string' ? v.why : '', tokens: billed.in + billed.out };
    },
  };
}
