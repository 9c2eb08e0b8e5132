// The Gemini worker against the loopback fake, through the real SDK:
// (a) achieved request rate under a limit of R per window, and 429s the client caused;
// (b) requests sent while a server-given retryDelay was in force;
// (c) a truck killed halfway and resumed: paid calls / unique requests;
// (d) the same TAG work online and in batch mode: cost from the usage the fake reported and the price table,
//     beside what g7 recorded;
// (e) batch jobs whose poll fails in the run between submit and collect: paid calls / unique requests;
// (f) a library whose files all open with the same disclosure paragraph: requests and cost from the fake's
//     usage, against the chunks in the scan indexes (what asking every occurrence would have sent).
import { mkdtemp, mkdir, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawnSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { fakeGemini, type FakeGemini, type Recorded } from '../test/fakes/gemini-server.js';
import { GeminiWorker } from '../src/worker/gemini/worker.js';
import { RateLimiter } from '../src/worker/gemini/limiter.js';
import { Budget } from '../src/worker/gemini/budget.js';
import type { WorkerRequest } from '../src/worker/worker.js';
import { table } from './harness.js';

const MODELS = { LOW: 'gemini-2.5-flash-lite', MID: 'gemini-2.5-flash', HIGH: 'gemini-2.5-pro' } as const;
// The published Gemini Developer API prices of gemini-2.5-flash-lite (USD per million tokens); Batch is half.
const PRICE = { in: 0.1, out: 0.4, batch_discount: 0.5 };
const PRICES = { 'gemini-2.5-flash-lite': PRICE };
const root = path.resolve('.');

async function worker(fake: FakeGemini, limiter: RateLimiter) {
  return new GeminiWorker({ apiKey: 'k', baseUrl: fake.url, models: MODELS, prices: PRICES, timeoutMs: 10_000, maxInputTokens: 4000, limiter, budget: new Budget(await mkdtemp(path.join(tmpdir(), 'g7-bb-')), { per_truck_usd: 100, per_night_usd: 100 }, () => '20261121') });
}
const tagReq = (i: number): WorkerRequest => ({ card: `L2_TAG_${String(i).padStart(6, '0')}`, cost_hint: 'LOW', task: { kind: 'TAG', chunk: { path: `d${i}.md`, offset: 0, length: 30, sha256: '0'.repeat(64), text: `line ${i}: a related-party loan` }, taxonomy: { tags: [{ name: 'risk', keywords: ['related-party'], strike: true }] } } });

async function pool<T>(n: number, items: T[], fn: (t: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

// (a) rate
const R = 20;
const W = 2000;
const L = 50;
const fa = await fakeGemini({ keys: ['k'], rpm: R, windowMs: W });
fa.latencyMs = L;
const wa = await worker(fa, new RateLimiter(R, 1e9, undefined, W));
const N = 5 * R;
await pool(16, Array.from({ length: N }, (_, i) => i), (i) => wa.call(tagReq(i)));
const ok = fa.requests.filter((r) => r.verb === 'generateContent');
const t = ok.map((r) => r.at).sort((a, b) => a - b);
const achieved = ((N - R) / (t.at(-1)! - t[0]!)) * W;
const rejected = ok.filter((r) => r.status === 429).length;
await fa.close();

// (b) retryDelay honoured across concurrent callers
const D = 1500;
const fb = await fakeGemini({ keys: ['k'] });
fb.latencyMs = 20;
const wb = await worker(fb, new RateLimiter(1000, 1e9));
fb.script({ latencyMs: 0 }, { latencyMs: 0 }, { latencyMs: 0 }, { error: 'quota-minute', retryDelay: `${D / 1000}s` });
await pool(4, Array.from({ length: 16 }, (_, i) => i), (i) => wb.call(tagReq(100 + i)));
const gen = fb.requests.filter((r) => r.verb === 'generateContent').sort((a, b) => a.at - b.at);
const hit = gen.find((r) => r.status === 429)!;
const during = gen.filter((r) => r.at > hit.at && r.at < hit.at + D).length;
const gap = Math.min(...gen.filter((r) => r.at > hit.at).map((r) => r.at)) - hit.at;
await fb.close();

// (c) and (d): real g7 runs (child processes) against a fake in this process.
/** A disclosure paragraph of over 1 KiB: the first chunk of every file that opens with it is the same text. */
const BOILERPLATE = Array.from({ length: 16 }, (_, k) => `Note ${k}: transactions with a related-party are disclosed as the rules require.`).join('\n') + '\n';

async function tagTruck(fake: FakeGemini, cards: number, batchMin: number, opening = ''): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'g7-gtruck-'));
  const w = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  };
  await w('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 1024 }\nmodels: { LOW: gemini-2.5-flash-lite }\nprices_per_mtok: ${JSON.stringify(PRICES)}\ngemini: { base_url: "${fake.url}", batch_min_requests: ${batchMin} }\nlimits: { rpm: 100000 }\n`);
  await w('ssot/rules/tags.yaml', 'tags:\n  - { name: risk, keywords: [related-party], strike: true }\n');
  const lines: string[] = [];
  for (let i = 1; i <= cards; i++) {
    // ~3 KiB: three chunks of ~1 KiB each.
    await w(`library/d${i}.md`, opening + Array.from({ length: 60 }, (_, k) => `d${i} line ${k}: ${k % 3 ? 'ordinary' : 'a related-party loan'} text`).join('\n') + '\n');
    const scan = `ssot/library_index/scan/${i}.jsonl`;
    lines.push(JSON.stringify({ id: `L1_SCAN_${String(i).padStart(6, '0')}`, lane: 1, prio: 'A', type: 'SCAN', input: [`d${i}.md`], output: scan, accept: `exists:${scan}`, failfast: 'never', cost_hint: 'LOW', deps: [] }));
    lines.push(JSON.stringify({ id: `L2_TAG_${String(i).padStart(6, '0')}`, lane: 2, prio: 'B', type: 'TAG', input: scan, output: `ssot/library_index/tags/${i}.jsonl`, accept: `exists:ssot/library_index/tags/${i}.jsonl`, failfast: 'never', cost_hint: 'LOW', deps: [`L1_SCAN_${String(i).padStart(6, '0')}`] }));
  }
  await w('ssot/backlog/backlog_20261121.jsonl', lines.join('\n') + '\n');
  return dir;
}
const g7 = (dir: string, env: Record<string, string> = {}) =>
  new Promise<number | null>((resolve) => {
    const p = spawn(process.execPath, [path.join(root, 'bin/g7.mjs'), '--ssot', path.join(dir, 'ssot'), 'run', '--no-commit'], { env: { PATH: process.env.PATH, HOME: process.env.HOME, GEMINI_API_KEY: 'k', ...env }, stdio: 'ignore' });
    p.on('close', (code, signal) => resolve(signal ? -1 : code));
  });
const bodyHash = (b: unknown) => createHash('sha256').update(JSON.stringify(b)).digest('hex');

async function killAndResume(point: string): Promise<{ paid: number; unique: number; kills: number }> {
  const fake = await fakeGemini({ keys: ['k'] });
  const dir = await tagTruck(fake, 20, 1_000_000);
  let kills = 0;
  if ((await g7(dir, { G7_FAULT: point })) === -1) kills++;
  let code = await g7(dir);
  while (code === 5) code = await g7(dir);
  if (code !== 0) throw new Error(`truck ended ${code}`);
  const paid = fake.requests.filter((r) => r.verb === 'generateContent' && r.status === 200);
  const unique = new Set(paid.map((r) => bodyHash(r.body))).size;
  await fake.close();
  return { paid: paid.length, unique, kills };
}
const c1 = await killAndResume('card.start@21'); // halfway: between cards
const c2 = await killAndResume('worker.cached@21'); // right after an answer was recorded
const c3 = await killAndResume('worker.called@21'); // the one unavoidable window: answered, not yet recorded

/** What the fake's answers cost at the price table: online answers at the full price, batch ones at the batch price. */
type Usage = Record<string, number | undefined>;
const priced = (u: Usage, batch: boolean) => (((u.promptTokenCount ?? 0) * PRICE.in + ((u.candidatesTokenCount ?? 0) + (u.thoughtsTokenCount ?? 0)) * PRICE.out) / 1e6) * (batch ? 1 - PRICE.batch_discount : 1);
function fakeCost(fake: FakeGemini): { usd: number; answers: number } {
  let usd = 0;
  let answers = 0;
  for (const r of fake.requests) {
    if (r.route === 'generateContent' && r.status === 200) {
      usd += priced((r.response as { usageMetadata: Usage }).usageMetadata, false);
      answers++;
    }
  }
  // A job's answers, counted once: from the first poll that returned them.
  const seen = new Set<string>();
  for (const r of fake.requests.filter((x: Recorded) => x.route === 'batches.get' && x.status === 200)) {
    const op = r.response as { name: string; metadata: { output?: { inlinedResponses?: { inlinedResponses: { response?: { usageMetadata: Usage } }[] } } } };
    const items = op.metadata.output?.inlinedResponses?.inlinedResponses;
    if (!items || seen.has(op.name)) continue;
    seen.add(op.name);
    for (const i of items) {
      if (!i.response) continue;
      usd += priced(i.response.usageMetadata, true);
      answers++;
    }
  }
  return { usd, answers };
}
async function recordedCost(dir: string): Promise<number> {
  let usd = 0;
  for (const run of spawnSync('ls', [path.join(dir, 'ssot/runs')], { encoding: 'utf8' }).stdout.trim().split('\n')) {
    usd += JSON.parse(await readFile(path.join(dir, 'ssot/runs', run, 'verify_report.json'), 'utf8')).cost_usd;
  }
  return usd;
}

async function truckCost(batchMin: number): Promise<{ fakeUsd: number; g7Usd: number; answers: number; requests: number }> {
  const fake = await fakeGemini({ keys: ['k'] });
  const dir = await tagTruck(fake, 10, batchMin);
  let code = await g7(dir);
  for (let i = 0; i < 3 && code === 5; i++) {
    fake.finishBatches();
    code = await g7(dir);
  }
  if (code !== 0) throw new Error(`truck ended ${code}`);
  const { usd, answers } = fakeCost(fake);
  const requests = fake.requests.filter((r) => r.route === 'generateContent' || r.route === 'batchGenerateContent').length;
  await fake.close();
  return { fakeUsd: usd, g7Usd: await recordedCost(dir), answers, requests };
}
const online = await truckCost(1_000_000);
const batch = await truckCost(1);

// (e) every TAG card batches; between submitting and collecting, one run's polls of the first job all fail.
async function pollFailure(): Promise<{ paid: number; unique: number; creates: number; runs: number }> {
  const fake = await fakeGemini({ keys: ['k'] });
  const dir = await tagTruck(fake, 10, 1);
  const runs = [await g7(dir)];
  fake.finishBatches();
  fake.scriptRoute('batches.get', ...Array.from({ length: 5 }, () => ({ error: 'unavailable' as const })));
  runs.push(await g7(dir));
  while (runs.at(-1) === 5 && runs.length < 6) runs.push(await g7(dir));
  if (runs.at(-1) !== 0) throw new Error(`truck ended ${runs.join(' → ')}`);
  // A request is its prompt: the same card and chunk asked online or in a batch is the same request.
  const prompts: string[] = [];
  for (const r of fake.requests) {
    if (r.route === 'generateContent' && r.status === 200) prompts.push(JSON.stringify((r.body as { contents: unknown }).contents));
    if (r.route === 'batchGenerateContent' && r.status === 200)
      for (const q of (r.body as { batch: { inputConfig: { requests: { requests: { request: { contents: unknown } }[] } } } }).batch.inputConfig.requests.requests) prompts.push(JSON.stringify(q.request.contents));
  }
  const creates = fake.requests.filter((r) => r.route === 'batchGenerateContent').length;
  await fake.close();
  return { paid: prompts.length, unique: new Set(prompts).size, creates, runs: runs.length };
}
const e = await pollFailure();

async function boilerplate(): Promise<{ chunks: number; distinct: number; requests: number; usd: number; g7Usd: number }> {
  const fake = await fakeGemini({ keys: ['k'] });
  const dir = await tagTruck(fake, 10, 1_000_000, BOILERPLATE);
  if ((await g7(dir)) !== 0) throw new Error('boilerplate truck failed');
  const lines = spawnSync('sh', ['-c', `cat ${path.join(dir, 'ssot/library_index/scan')}/*.jsonl`], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => JSON.parse(l) as { sha256: string });
  const { usd } = fakeCost(fake);
  const requests = fake.requests.filter((r) => r.route === 'generateContent' && r.status === 200).length;
  await fake.close();
  return { chunks: lines.length, distinct: new Set(lines.map((l) => l.sha256)).size, requests, usd, g7Usd: await recordedCost(dir) };
}
const f = await boilerplate();

console.log(`\nGemini worker, real @google/genai SDK against the loopback fake; Node ${process.versions.node}\n`);
console.log(`(a) limit R = ${R} requests per ${W / 1000} s window (the real service: per 60 s), fake latency ${L} ms, ${N} requests, 16 concurrent callers`);
console.log(table(['figure', 'value'], [['achieved rate, steady state, per window', `${achieved.toFixed(1)} (${(achieved / R).toFixed(3)} R)`], ['429s caused by the client', rejected]]));
console.log(`\n(b) one 429 with RetryInfo.retryDelay = ${D} ms while 4 callers are busy`);
console.log(table(['figure', 'value'], [['requests sent before the delay elapsed', during], ['first request after the 429, ms later', gap.toFixed(0)]]));
console.log(`\n(c) a 40-card truck (20 SCAN, 20 TAG cards with ${c1.unique / 20} chunks each, up to 4 calls in flight) killed once with SIGKILL, then resumed`);
console.log(table(['killed at', 'kills', 'paid calls', 'unique requests', 'paid / unique'], [
  ['between cards, halfway (card.start@21)', c1.kills, c1.paid, c1.unique, (c1.paid / c1.unique).toFixed(2)],
  ['just after an answer was cached (worker.cached@21)', c2.kills, c2.paid, c2.unique, (c2.paid / c2.unique).toFixed(2)],
  ['answered, not yet cached (worker.called@21)', c3.kills, c3.paid, c3.unique, (c3.paid / c3.unique).toFixed(2)],
]));
console.log('\n(d) the same TAG work (10 cards), online and in batch mode: cost of the answers the fake returned at the price table, and what g7 recorded');
console.log(table(['mode', 'API requests', 'answers', 'cost USD (fake usage × table)', 'cost USD (g7 recorded)', 'x online'], [
  ['online', online.requests, online.answers, online.fakeUsd.toFixed(6), online.g7Usd.toFixed(6), '1.00'],
  ['batch', batch.requests, batch.answers, batch.fakeUsd.toFixed(6), batch.g7Usd.toFixed(6), (batch.fakeUsd / online.fakeUsd).toFixed(2)],
]));
console.log(`\n(e) 10 TAG cards in batch mode; the run after submitting finds the first job's poll failing 5 times in a row (${e.runs} runs in all)`);
console.log(table(['figure', 'value', 'goal'], [['batch jobs created', e.creates, '10'], ['paid requests / unique requests', `${e.paid} / ${e.unique} = ${(e.paid / e.unique).toFixed(2)}`, '1.00']]));
console.log(`\n(f) 10 TAG cards over files that all open with the same ${Buffer.byteLength(BOILERPLATE)}-byte disclosure paragraph: one answer per distinct chunk`);
console.log(table(['figure', 'value'], [
  ['chunks in the scan indexes (requests if every occurrence were asked)', f.chunks],
  ['distinct chunk texts', f.distinct],
  ['requests sent (the fake\'s log)', f.requests],
  ['cost USD (fake usage × table) / g7 recorded', `${f.usd.toFixed(6)} / ${f.g7Usd.toFixed(6)}`],
  ['saving: requests not sent, and their cost at the average answer', `${f.chunks - f.requests} (${(((f.chunks - f.requests) / f.chunks) * 100).toFixed(0)}%), ${((f.usd / f.requests) * (f.chunks - f.requests)).toFixed(6)} USD`],
]));
