// Token estimates that hold for Korean: the worker learns tokens per script from what the service reports,
// keeps it in the state, and estimates the next prompts within 10% where "4 characters a token" is far off.
import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fakeGemini } from '../fakes/gemini-server.js';
import { TokenCalibration, profileOf, tokensFile, PRIOR_RATES, tokensFor } from '../../src/worker/tokens.js';
import { tagFor } from './support.js';
import { geminiOn } from './support.js';
import type { WorkerRequest } from '../../src/worker/worker.js';

const KO = ['이사회는 특수관계인에 대한 자금 대여를 승인하였다', '당기 순이익은 전년 대비 감소하였으며', '감사인은 계속기업 존속 능력에 중대한 의문을 제기하였다', '최대주주 변경에 관한 공시'];
const EN = ['The board approved a related-party loan of KRW 12,000 million.', 'Going concern doubt was raised by the auditor.', 'Revenue 3,211 (prior year 2,980).'];

/** A disclosure chunk: mostly Korean, some English and figures, of a length that varies with `n`. */
function chunk(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < 6 + (n % 9) * 4; i++) lines.push((i + n) % 3 === 0 ? EN[(i + n) % EN.length]! : `${KO[(i * 7 + n) % KO.length]} (${n}.${i})`);
  return lines.join('\n');
}

const reqFor = (n: number): WorkerRequest => {
  const r = tagFor(n);
  return { ...r, task: { ...r.task, chunk: { path: `k/${n}.md`, offset: 0, length: 0, sha256: String(n).padStart(64, '0'), text: chunk(n) } } as WorkerRequest['task'] };
};

const reported = (rec: { response: unknown }) => (rec.response as { usageMetadata: { promptTokenCount: number } }).usageMetadata.promptTokenCount;

describe('token estimates per script', () => {
  it('counts characters per script', () => {
    expect(profileOf('ab 가나\u00e9')).toEqual([3, 2, 1, 1]);
  });

  it('after one truck of Korean-heavy prompts, estimates the next within 10% of what the service counts; the 4-characters rule is off by its own factor', async () => {
    const fake = await fakeGemini({ keys: ['k'] });
    try {
      const state = await mkdtemp(path.join(tmpdir(), 'g7-tokens-'));
      const worker = await geminiOn(fake, { tokens: await TokenCalibration.load(tokensFile(state)) });
      // Before anything is paid: the documented prior.
      const before = worker.request(reqFor(1000)).estIn;
      for (let n = 1; n <= 40; n++) await worker.call(reqFor(n));

      // A new process (the next truck) loads what the first learned from the state.
      const next = await geminiOn(fake, { tokens: await TokenCalibration.load(tokensFile(state)) });
      const kept = JSON.parse(await readFile(tokensFile(state), 'utf8')) as { models: Record<string, { n: number }> };
      expect(kept.models['gemini-2.5-flash-lite']!.n).toBe(40);
      const seen = fake.requests.length;
      const est: number[] = [];
      for (let n = 1000; n < 1020; n++) {
        est.push(next.request(reqFor(n)).estIn);
        await next.call(reqFor(n));
      }
      const truth = fake.requests.slice(seen).map(reported);
      expect(truth).toHaveLength(20);
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      for (const [i, e] of est.entries()) expect(Math.abs(e - truth[i]!) / truth[i]!).toBeLessThan(0.1);

      // The rule this replaces: about 4 characters a token, for every script.
      const fourChars = fake.requests.slice(seen).map((r) => {
        const b = r.body as { contents: { parts: { text: string }[] }[]; systemInstruction: { parts: { text: string }[] } };
        return Math.ceil((b.contents[0]!.parts[0]!.text.length + b.systemInstruction.parts[0]!.text.length) / 4);
      });
      const factor = sum(truth) / sum(fourChars);
      expect(factor).toBeGreaterThan(1.5);
      console.log(`4-characters rule: ${sum(fourChars)} tokens for ${sum(truth)} counted (${factor.toFixed(2)}x under); calibrated: ${sum(est)} (${((sum(est) / sum(truth) - 1) * 100).toFixed(1)}%); prior before any paid prompt: ${before}`);
    } finally {
      await fake.close();
    }
  });

  it('keeps the prior for a script it has not seen, and for a model it has not paid', async () => {
    const state = await mkdtemp(path.join(tmpdir(), 'g7-tokens-'));
    const t = await TokenCalibration.load(tokensFile(state));
    for (let i = 1; i <= 10; i++) t.observe('m', [1000 * i, 0, 0, 1], 300 * i + 5);
    await t.save();
    const back = await TokenCalibration.load(tokensFile(state));
    expect(back.rates('m')[0]).toBeCloseTo(0.3, 2);
    expect(back.rates('m')[1]).toBe(PRIOR_RATES[1]);
    expect(back.rates('other-model')).toEqual(PRIOR_RATES);
    expect(back.estimate('other-model', profileOf('가'.repeat(100)))).toBe(tokensFor(PRIOR_RATES, profileOf('가'.repeat(100))));
  });
});
