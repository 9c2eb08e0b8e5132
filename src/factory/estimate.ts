// `g7 plan estimate`: what a day plan will cost before a night pays for it. The plan is compiled in memory
// by the compiler `g7 plan compile` uses (done cards left out), every model request its cards will make is
// built as the Gemini worker builds it (the same packet, skill and taxonomy), and its input tokens are
// counted with the calibrated estimator (state/tokens.json; or a free countTokens sample when nothing has
// been paid yet and there is a key). Then: dollars online and in batch mode, the time at the configured
// rpm/tpm, the trucks the real packer loads (A 60 / B 36 / C 18 / D 6), the nights of the night window, and
// whether it fits the budgets, with what to change when it does not. Nothing is written, but the day's
// forecast when asked (recordForecast: state/forecast_YYYYMMDD.json, which the morning report holds against
// what the night paid).
import { readFile, stat } from 'node:fs/promises';
import { writeJsonAtomic } from '../ssot/atomic.js';
import { forecastFile, type Forecast } from '../ssot/forecast.js';
import path from 'node:path';
import { glob } from 'tinyglobby';
import type { WorkCard } from '../contracts/types.gen.js';
import type { Layout } from '../ssot/layout.js';
import type { Config } from '../ssot/config.js';
import { doneCards, readCardOutcomes } from '../ssot/journal.js';
import { forEachLine } from '../ssot/jsonl.js';
import { forEachLineIn, strikeRange } from '../ssot/strike-list.js';
import { resolveInRepo, repoPathProblem, normalizeRepoPath } from '../ssot/paths.js';
import { readWorkPack } from '../ssot/workpack.js';
import { nightMinutes } from '../ssot/night.js';
import { compileDayPlan, type CompiledPlan } from '../plan/compile.js';
import { cardTable } from '../plan/card-graph.js';
import { packDay, TRUCKS, OPS_120PLUS120, type Outcome } from '../truck/pack.js';
import { LocalHasher } from '../executors/scan-chunks.js';
import { readLibraryChunk, readSensors, readTaxonomy } from '../executors/library.js';
import type { ChunkLine } from '../executors/scan.js';
import { geminiRequest, type Built } from '../worker/gemini/request.js';
import { costUsd } from '../worker/gemini/budget.js';
import { batchLimits, QUEUE_FILL } from '../worker/gemini/batch-limits.js';
import type { TokenCalibration } from '../worker/tokens.js';
import type { CostHint, Taxonomy, WorkerRequest } from '../worker/worker.js';
import { readSkill } from './card.js';

/** Output tokens of an answer before any was paid for, per kind of work (a TAG answer is a few tags and a reason). */
export const TYPICAL_ANSWER_TOKENS: Record<'TAG' | 'STRIKE' | 'PATCH', number> = { TAG: 40, STRIKE: 250, PATCH: 1500 };
/** Thinking a model spends when its budget is dynamic (-1) or its default: a typical figure, not a ceiling. */
const TYPICAL_DYNAMIC_THINKING = 1024;
/** At most this many bytes of chunk text are read to build prompts; past it, a systematic sample stands for the rest. */
const READ_BUDGET_BYTES = 64 * 2 ** 20;
/** Library files without a scan index are cut as SCAN would (hashing them) up to this many bytes; past it, from their sizes. */
const HASH_BUDGET_BYTES = 256 * 2 ** 20;
/** Prompts counted with countTokens to calibrate a model nothing has been paid for yet. */
const COUNT_SAMPLES = 8;

export interface EstimateEnv {
  layout: Layout;
  config: Config;
  display: (abs: string) => string;
  warn: (line: string) => void;
  /** The calibration as the night would load it (state/tokens.json); samples counted here stay in memory. */
  tokens: TokenCalibration;
  /** True when the night's worker is Gemini (a key is set); false: the offline rules. */
  online: boolean;
  /** The service's own count of a prompt (models.countTokens, free), when there is a key. */
  countTokens?: ((built: Built) => Promise<number>) | undefined;
  /** How many of these requests have no answer in the response cache yet (the rest are not paid again). */
  uncached?: ((reqs: WorkerRequest[]) => Promise<number>) | undefined;
  /**
   * Bytes of chunk text read to build prompts, and of library files hashed to cut chunks where no scan index
   * exists yet (past them: a sample, and chunks counted from file sizes). Default 64 MiB and 256 MiB; g7
   * status, which must stay quick on a large library, asks for far less.
   */
  budgets?: { readBytes: number; hashBytes: number } | undefined;
}

type Kind = 'TAG' | 'STRIKE' | 'PATCH';

interface Span {
  path: string;
  offset: number;
  length: number;
  sha256?: string | undefined;
}

/** The model requests of one card. */
interface CardCalls {
  card: WorkCard;
  kind: Kind;
  model: string;
  requests: number;
  /** Requests built in full (all of them, or a systematic sample standing for the rest). */
  built: Built[];
  /** Of the requests, those already answered in the response cache: not sent, not paid. */
  cached: number;
  /**
   * Of the requests, chunks whose text an earlier request of the plan (this card's or another's, same model)
   * asks already: answered once, reused (src/worker/cached.ts keys TAG answers by the chunk's text).
   */
  repeats: number;
  /** Where the TAG card's chunks came from. */
  chunks?: 'index' | 'library' | 'sizes' | 'none';
  shas?: string[] | undefined;
  /** Set once tokens are known. */
  tokensIn: number;
  tokensOut: number;
  usdOnline: number;
  usdBatch: number;
  mode: 'online' | 'batch' | 'offline' | 'no key';
}

export interface EstimateRow {
  entry: string;
  type: string;
  model: string | null;
  cards: number;
  requests: number;
  /** Requests already answered in the response cache; tokens and dollars count only the others. */
  cached: number;
  /** Requests for a chunk text another request asks already (one answer per distinct chunk): not paid. */
  repeats: number;
  tokens_in: number;
  tokens_out: number;
  usd_online: number;
  usd_batch: number;
  /** As the night would pay it: batch for TAG cards with at least gemini.batch_min_requests requests, $0 offline. */
  usd: number;
  mode: string;
}

export interface PlanEstimate {
  plan: string;
  day: string;
  cards: number;
  omitted_done: number;
  worker: 'gemini' | 'offline';
  entries: EstimateRow[];
  models: (Omit<EstimateRow, 'entry' | 'type' | 'mode'> & { model: string; tokens_in_source: string; tokens_out_source: string; tokens_out_ceiling: number })[];
  total: { requests: number; cached: number; repeats: number; tokens_in: number; tokens_out: number; usd_online: number; usd_batch: number; usd: number; usd_gemini: number };
  chunks: { requests: number; distinct: number | null; source: string };
  time: {
    online_requests: number; online_tokens_in: number; minutes: number; bound: 'rpm' | 'tpm' | 'none'; rpm: number; tpm: number; batch_requests: number;
    /** Batch jobs the TAG cards make, cut within each model's enqueued-token limit, and the rounds of up to 24 h they need in flight. */
    batch_jobs: number; batch_cycles: number;
  };
  trucks: { count: number; rounds: number; by_prio: Record<'A' | 'B' | 'C' | 'D', number>; held: number; costliest_usd: number; costliest: number };
  nights: { count: number; by_time: number; by_budget: number; window: string; window_minutes: number };
  budget: { per_truck_usd: number; per_night_usd: number; reserve_usd: number };
  fits: boolean;
  advice: string[];
  notes: string[];
}

const money = (usd: number) => `$${usd < 1 ? usd.toFixed(4) : usd.toFixed(2)}`;
const up = (usd: number) => `$${(Math.ceil(usd * 100) / 100).toFixed(2)}`;

/** Every occurrence of the k-th item, k = step: the sample that stands for a list too long to read whole. */
function sampled<T>(items: T[], step: number): T[] {
  return step <= 1 ? items : items.filter((_, i) => i % step === 0);
}

async function readIndex(file: string, shown: string): Promise<Span[]> {
  const out: Span[] = [];
  await forEachLine(file, (t) => {
    if (!t.trim()) return;
    const c = JSON.parse(t) as ChunkLine;
    out.push({ path: c.path, offset: c.offset, length: c.length, sha256: c.sha256 });
  }, shown);
  return out;
}

/** The library files a SCAN card's input names (files, or folders walked as SCAN walks them), with their sizes. */
async function scanFiles(env: EstimateEnv, card: WorkCard): Promise<{ rel: string; size: number }[]> {
  const libRoot = path.resolve(env.layout.repoRoot, env.config.libraryRoot);
  const out: { rel: string; size: number }[] = [];
  for (const raw of Array.isArray(card.input) ? card.input : [card.input]) {
    if (repoPathProblem(raw)) continue;
    const rel = normalizeRepoPath(raw);
    const st = await stat(path.join(libRoot, rel)).catch(() => undefined);
    if (!st) continue;
    if (st.isFile()) out.push({ rel, size: st.size });
    else if (st.isDirectory())
      for (const f of (await glob('**/*', { cwd: path.join(libRoot, rel), onlyFiles: true, dot: false })).sort()) {
        const s = await stat(path.join(libRoot, rel, f)).catch(() => undefined);
        if (s) out.push({ rel: rel === '.' || rel === '' ? f : `${rel}/${f}`, size: s.size });
      }
  }
  return out;
}

/**
 * The chunks a TAG card will tag: its scan index when it exists; else its SCAN card's files, cut as SCAN
 * will cut them (within the hashing budget), or counted from their sizes past it.
 */
async function tagChunks(env: EstimateEnv, card: WorkCard, scanOf: Map<string, WorkCard>, hashBudget: { left: number }): Promise<{ spans: Span[]; source: CardCalls['chunks'] }> {
  const input = normalizeRepoPath(String(card.input));
  const abs = resolveInRepo(env.layout.repoRoot, input);
  if (await stat(abs).then((s) => s.isFile(), () => false)) return { spans: await readIndex(abs, input), source: 'index' };
  const scan = scanOf.get(input);
  if (!scan) return { spans: [], source: 'none' };
  const files = await scanFiles(env, scan);
  const bytes = files.reduce((s, f) => s + f.size, 0);
  const chunkBytes = env.config.scan.chunk_bytes;
  const libRoot = path.resolve(env.layout.repoRoot, env.config.libraryRoot);
  const spans: Span[] = [];
  if (bytes <= hashBudget.left) {
    hashBudget.left -= bytes;
    const hasher = new LocalHasher();
    for (const f of files) {
      const s = await hasher.hash(path.join(libRoot, f.rel), f.size, chunkBytes);
      s.offsets.forEach((o, i) => spans.push({ path: f.rel, offset: o, length: s.lengths[i]!, sha256: s.sha256[i] }));
    }
    return { spans, source: 'library' };
  }
  for (const f of files) {
    const n = Math.max(1, Math.ceil(f.size / chunkBytes));
    for (let k = 0; k < n; k++) spans.push({ path: f.rel, offset: k * chunkBytes, length: Math.min(chunkBytes, f.size - k * chunkBytes) });
  }
  return { spans, source: 'sizes' };
}

async function strikeItems(env: EstimateEnv, card: WorkCard): Promise<Span[]> {
  const r = strikeRange(card.input);
  if (!r || repoPathProblem(r.file)) return [];
  const items: Span[] = [];
  await forEachLineIn(resolveInRepo(env.layout.repoRoot, r.file), r.from, r.to, (t) => {
    if (t.trim()) items.push(JSON.parse(t) as Span);
  }, r.file);
  return items;
}

/** Requests as the worker builds them: the packet, its profile per script, its output cap. */
function builder(env: EstimateEnv) {
  const g = env.config.gemini;
  const o = { models: env.config.models, maxInputTokens: env.config.limits.max_input_tokens, maxOutputTokens: g.max_output_tokens, thinkingBudget: g.thinking_budget };
  return (req: WorkerRequest) => geminiRequest(o, req);
}

export async function estimatePlan(planFile: string, env: EstimateEnv): Promise<PlanEstimate> {
  const { layout, config } = env;
  let outcomes = new Map<string, Outcome>();
  const compiled: CompiledPlan = await compileDayPlan(planFile, {
    layout, config, display: env.display,
    doneOn: async (day) => {
      const o = await readCardOutcomes(layout, day);
      outcomes = new Map([...o].map(([id, v]) => [id, v.status]));
      return doneCards(o);
    },
  });
  const notes = [...compiled.notes];
  const build = builder(env);
  const skills = new Map<string, string | undefined>();
  const skillOf = async (type: string) => {
    if (!skills.has(type)) skills.set(type, (await readSkill({ config, layout, warn: env.warn }, type)).text);
    return skills.get(type);
  };
  const scanOf = new Map(compiled.cards.filter((c) => c.type === 'SCAN').map((c) => [normalizeRepoPath(c.output), c]));
  let taxonomy: Taxonomy | undefined;
  let sensors: unknown;
  const hashBudget = { left: env.budgets?.hashBytes ?? HASH_BUDGET_BYTES };

  // First the spans every model card works on (cheap), then a sample of their text within the read budget.
  const pending: { card: WorkCard; kind: Kind; spans: Span[]; source?: CardCalls['chunks'] }[] = [];
  for (const card of compiled.cards) {
    if (card.type === 'TAG') {
      const { spans, source } = await tagChunks(env, card, scanOf, hashBudget);
      if (source === 'none') notes.push(`${card.id}: its scan index ${String(card.input)} does not exist and no card of this plan writes it: counted as 0 requests`);
      pending.push({ card, kind: 'TAG', spans, source });
    } else if (card.type === 'STRIKE') pending.push({ card, kind: 'STRIKE', spans: await strikeItems(env, card) });
    else if (card.type === 'PATCH') pending.push({ card, kind: 'PATCH', spans: [{ path: '', offset: 0, length: 0 }] });
  }
  const textBytes = pending.reduce((s, p) => s + (p.kind === 'PATCH' ? 0 : p.spans.reduce((t, x) => t + x.length, 0)), 0);
  const step = Math.max(1, Math.ceil(textBytes / (env.budgets?.readBytes ?? READ_BUDGET_BYTES)));
  if (step > 1) notes.push(`${textBytes.toLocaleString('en-US')} bytes of chunk text: one request in ${step} was built in full and stands for the others`);

  const calls: CardCalls[] = [];
  const askedTexts = new Map<string, Set<string>>();
  const at = { repoRoot: layout.repoRoot, libraryRoot: config.libraryRoot };
  for (const p of pending) {
    const { card } = p;
    const skill = await skillOf(card.type);
    const base = { card: card.id, cost_hint: card.cost_hint as CostHint, skill };
    const built: Built[] = [];
    const reqs: WorkerRequest[] = [];
    const ask = (req: WorkerRequest) => (reqs.push(req), built.push(build(req)));
    let repeats = 0;
    if (p.kind === 'TAG') {
      taxonomy ??= await readTaxonomy({ layout, config });
      // One request per distinct text and model: a text asked before (here or by an earlier card) is not asked again.
      const model = config.models[card.cost_hint as CostHint];
      const asked = askedTexts.get(model) ?? askedTexts.set(model, new Set()).get(model)!;
      const fresh = p.spans.filter((c) => !c.sha256 || (!asked.has(c.sha256) && asked.add(c.sha256)));
      repeats = p.spans.length - fresh.length;
      for (const c of sampled(fresh, step)) {
        const text = await readLibraryChunk({ ...at, card: card.id }, c.path, c.offset, c.length);
        ask({ ...base, task: { kind: 'TAG', chunk: { path: c.path, offset: c.offset, length: c.length, sha256: c.sha256 ?? '', text }, taxonomy } });
      }
    } else if (p.kind === 'STRIKE') {
      sensors ??= await readSensors({ layout, config });
      for (const item of sampled(p.spans, step)) {
        const text = await readLibraryChunk({ ...at, card: card.id }, item.path, item.offset, item.length);
        ask({ ...base, task: { kind: 'STRIKE', item, text, sensors } });
      }
    } else {
      const pack = card.pack ? await readWorkPack(layout, card.pack, env.display) : undefined;
      const files: { path: string; content: string }[] = [];
      for (const f of pack?.files.modify ?? []) {
        if (repoPathProblem(f)) continue;
        const content = await readFile(path.join(layout.repoRoot, normalizeRepoPath(f)), 'utf8').catch(() => '');
        files.push({ path: f, content });
      }
      ask({ ...base, task: { kind: 'PATCH', goal: pack?.goal ?? '', allowed: pack?.files ?? { create: [], modify: [] }, files, forbidden: pack?.forbidden ?? [] } });
    }
    // Answers already recorded are not asked again: counted where every request was built (no sample).
    const requests = p.spans.length;
    const distinct = requests - repeats;
    const cached = env.uncached && reqs.length === distinct && distinct > 0 ? distinct - (await env.uncached(reqs)) : 0;
    calls.push({
      card, kind: p.kind, model: config.models[card.cost_hint as CostHint], requests, built, cached, repeats,
      ...(p.source ? { chunks: p.source, shas: p.spans.every((s) => s.sha256) ? p.spans.map((s) => s.sha256!) : undefined } : {}),
      tokensIn: 0, tokensOut: 0, usdOnline: 0, usdBatch: 0, mode: 'online',
    });
  }

  // Calibration: what the night has paid for, else a free count of a few of these prompts, else the prior.
  const models = [...new Set(calls.filter((c) => c.requests > 0).map((c) => c.model))].sort();
  const inSource = new Map<string, string>();
  for (const model of models) {
    const paid = env.tokens.observed(model);
    if (paid > 0) {
      inSource.set(model, `calibrated from ${paid} paid prompt(s) (state/tokens.json)`);
      continue;
    }
    const all = calls.filter((c) => c.model === model).flatMap((c) => c.built);
    if (env.countTokens && all.length > 0) {
      const picks = Array.from({ length: Math.min(COUNT_SAMPLES, all.length) }, (_, k) => all[Math.floor((k * all.length) / Math.min(COUNT_SAMPLES, all.length))]!);
      let counted = 0;
      try {
        for (const b of picks) {
          const n = await env.countTokens(b);
          if (n > 0) (env.tokens.observe(model, b.profile, n), counted++);
        }
      } catch (err) {
        notes.push(`countTokens for ${model} failed (${(err as Error).message}); its input tokens are uncalibrated`);
      }
      if (counted > 0) {
        inSource.set(model, `calibrated from ${counted} countTokens sample(s) of these prompts (free; kept in memory only: the night calibrates from what it pays)`);
        continue;
      }
    }
    inSource.set(model, 'uncalibrated: the documented prior (4 ASCII characters a token, 1 token a Hangul syllable, 2 characters otherwise); nothing paid yet' + (env.countTokens ? '' : ', and no key to count a sample'));
  }

  // Output tokens: the average of paid answers per model and kind, else a typical answer plus the thinking budget.
  const outSource = new Map<string, { perRequest: number; ceiling: number; source: string }>();
  const outFor = (c: CardCalls) => {
    const key = `${c.model} ${c.kind}`;
    let o = outSource.get(key);
    if (!o) {
      const seen = env.tokens.outputAverage(c.model, c.kind);
      const ceiling = c.built[0]?.maxOut ?? config.gemini.max_output_tokens;
      const thinking = config.gemini.thinking_budget[c.card.cost_hint as CostHint];
      const think = thinking === undefined || thinking < 0 ? TYPICAL_DYNAMIC_THINKING : thinking;
      o = seen
        ? { perRequest: seen.mean, ceiling, source: `observed: ${Math.round(seen.mean)} a request, the average of ${seen.n} paid answer(s)` }
        : { perRequest: TYPICAL_ANSWER_TOKENS[c.kind] + think, ceiling, source: `typical: ${TYPICAL_ANSWER_TOKENS[c.kind] + think} a request (${TYPICAL_ANSWER_TOKENS[c.kind]} answer${think ? ` + ${think} thinking` : ''}; no answer paid yet), ceiling ${ceiling} (gemini.max_output_tokens + thinking budget)` };
      outSource.set(key, o);
    }
    return o;
  };

  const minBatch = config.gemini.batch_min_requests;
  /** The requests a card sends: neither answered in the cache nor a repeat of a text asked already. */
  const askedBy = (c: CardCalls) => c.requests - c.cached - c.repeats;
  for (const c of calls) {
    if (c.requests === 0) continue;
    const sum = c.built.reduce((s, b) => s + env.tokens.estimate(b.model, b.profile), 0);
    const asked = askedBy(c);
    c.tokensIn = Math.round((sum * asked) / Math.max(1, c.built.length));
    c.tokensOut = Math.round(outFor(c).perRequest * asked);
    const billed = { in: c.tokensIn, cached: 0, out: c.tokensOut };
    c.usdOnline = costUsd(config.prices, c.model, billed);
    c.usdBatch = costUsd(config.prices, c.model, billed, true);
    c.mode = !env.online ? (c.kind === 'TAG' ? 'offline' : 'no key') : c.kind === 'TAG' && asked >= minBatch ? 'batch' : 'online';
  }
  const usdOf = (c: CardCalls) => (c.mode === 'batch' ? c.usdBatch : c.mode === 'online' ? c.usdOnline : 0);
  const batched = (c: CardCalls) => c.kind === 'TAG' && askedBy(c) >= minBatch;
  const usdGemini = (c: CardCalls) => (batched(c) ? c.usdBatch : c.usdOnline);
  for (const m of models) if (!config.prices[m]) notes.push(`${m} has no price in prices_per_mtok: its dollars are counted as $0 (and g7 run refuses to depart)`);

  // Rows per entry and model; the local card types as one row each.
  const callOf = new Map(calls.map((c) => [c.card.id, c]));
  const rows = new Map<string, EstimateRow>();
  for (const card of compiled.cards) {
    const c = callOf.get(card.id);
    const model = c ? c.model : null;
    const key = `${card.entry ?? ''}\0${card.type}\0${model ?? ''}`;
    const r = rows.get(key) ?? { entry: card.entry ?? '', type: card.type, model, cards: 0, requests: 0, cached: 0, repeats: 0, tokens_in: 0, tokens_out: 0, usd_online: 0, usd_batch: 0, usd: 0, mode: c ? '' : 'local' };
    r.cards++;
    if (c) {
      r.requests += c.requests;
      r.cached += c.cached;
      r.repeats += c.repeats;
      r.tokens_in += c.tokensIn;
      r.tokens_out += c.tokensOut;
      r.usd_online += c.usdOnline;
      r.usd_batch += c.usdBatch;
      r.usd += usdOf(c);
      if (c.requests > 0 && !r.mode.split('+').includes(c.mode)) r.mode = r.mode ? `${r.mode}+${c.mode}` : c.mode;
    }
    rows.set(key, r);
  }
  for (const r of rows.values()) if (r.model && !r.mode) r.mode = 'nothing to ask';
  const entries = [...rows.values()];
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const total = {
    requests: sum(calls.map((c) => c.requests)), cached: sum(calls.map((c) => c.cached)), repeats: sum(calls.map((c) => c.repeats)), tokens_in: sum(calls.map((c) => c.tokensIn)), tokens_out: sum(calls.map((c) => c.tokensOut)),
    usd_online: sum(calls.map((c) => c.usdOnline)), usd_batch: sum(calls.map((c) => c.usdBatch)), usd: sum(calls.map(usdOf)), usd_gemini: sum(calls.map(usdGemini)),
  };
  const perModel = models.map((model) => {
    const cs = calls.filter((c) => c.model === model);
    const o = cs.filter((c) => c.requests > 0).map(outFor);
    return {
      model, cards: cs.length, requests: sum(cs.map((c) => c.requests)), cached: sum(cs.map((c) => c.cached)), repeats: sum(cs.map((c) => c.repeats)), tokens_in: sum(cs.map((c) => c.tokensIn)), tokens_out: sum(cs.map((c) => c.tokensOut)),
      usd_online: sum(cs.map((c) => c.usdOnline)), usd_batch: sum(cs.map((c) => c.usdBatch)), usd: sum(cs.map(usdOf)),
      tokens_in_source: inSource.get(model)!, tokens_out_source: [...new Set(cs.filter((c) => c.requests > 0).map((c) => `${c.kind}: ${outFor(c).source}`))].join('; '),
      tokens_out_ceiling: Math.max(0, ...o.map((x) => x.ceiling)),
    };
  });

  // Chunks: one per place in the library, and the distinct texts among them (each asked once per model).
  const tags = calls.filter((c) => c.kind === 'TAG');
  const tagRequests = sum(tags.map((c) => c.requests));
  const allShas = tags.every((c) => c.shas !== undefined);
  const sources = [...new Set(tags.map((c) => c.chunks))];
  const sourceText = sources.map((s) => ({ index: 'the scan index', library: 'the library files, cut as SCAN will cut them (no scan index yet)', sizes: `the library files' sizes / scan.chunk_bytes ${config.scan.chunk_bytes} (no scan index yet; too many bytes to cut now)`, none: 'no index and no SCAN card for it' })[s!]).join('; ');
  const chunks = { requests: tagRequests, distinct: allShas && tags.length ? new Set(tags.flatMap((c) => c.shas!)).size : null, source: tags.length ? sourceText : 'no TAG cards' };

  // Time at the rate limits: online calls only (a batch job is answered within 24 h, outside the limits).
  const onlineCalls = calls.filter((c) => (env.online ? c.mode === 'online' : !batched(c)));
  const onlineRequests = sum(onlineCalls.map(askedBy));
  const onlineTokens = sum(onlineCalls.map((c) => c.tokensIn));
  const byRpm = onlineRequests / config.limits.rpm;
  const byTpm = onlineTokens / config.limits.tpm;
  const minutes = Math.max(byRpm, byTpm);
  // Batch jobs as src/worker/batch-jobs.ts cuts them (per card, within the queue's room), and the cycles
  // they need: what one model's queue holds at once, and at most max_batch_jobs jobs.
  const limits = batchLimits(config.gemini);
  const roomOf = (model: string) => Math.max(1, Math.floor(limits.enqueuedTokens(model) * QUEUE_FILL));
  const inBatch = env.online ? calls.filter((c) => c.mode === 'batch') : calls.filter(batched);
  const batchJobs = sum(inBatch.map((c) => Math.max(1, Math.ceil(c.tokensIn / roomOf(c.model)))));
  const batchCycles = inBatch.length === 0 ? 0 : Math.max(Math.ceil(batchJobs / limits.maxJobs), ...models.map((m) => Math.ceil(sum(inBatch.filter((c) => c.model === m).map((c) => c.tokensIn)) / roomOf(m))));
  const time = {
    online_requests: onlineRequests, online_tokens_in: onlineTokens, minutes, bound: (minutes === 0 ? 'none' : byRpm >= byTpm ? 'rpm' : 'tpm') as 'rpm' | 'tpm' | 'none', rpm: config.limits.rpm, tpm: config.limits.tpm,
    batch_requests: sum(inBatch.map(askedBy)), batch_jobs: batchJobs, batch_cycles: batchCycles,
  };

  // Trucks: the real packer, round after round, as if every loaded card passed.
  const table = cardTable(compiled.cards.map((c, i) => ({ id: c.id, prio: c.prio, lane: c.lane, deps: c.deps, line: i + 1 })));
  const state = new Map(outcomes);
  const trucks: { usd: number }[] = [];
  let rounds = 0;
  let held = 0;
  const costOf = (id: string) => {
    const c = callOf.get(id);
    return c ? (env.online ? usdOf(c) : usdGemini(c)) : 0;
  };
  for (;;) {
    const p = packDay(table, state);
    held = p.held.length;
    const placed = TRUCKS.flatMap((t) => p.trucks[t].map((x) => x.card.id));
    if (placed.length === 0) break;
    rounds++;
    for (const t of TRUCKS) if (p.trucks[t].length) trucks.push({ usd: sum(p.trucks[t].map((x) => costOf(x.card.id))) });
    for (const id of placed) state.set(id, 'PASS');
  }
  const byPrio = { A: 0, B: 0, C: 0, D: 0 };
  for (const c of compiled.cards) byPrio[c.prio]++;
  const costliest = trucks.reduce((best, t, i) => (t.usd > (trucks[best]?.usd ?? -1) ? i : best), 0);
  const costliestUsd = trucks[costliest]?.usd ?? 0;

  // Nights: the window's minutes for the online calls, the night's budget for the dollars.
  const windowMinutes = nightMinutes(config.night);
  const payable = env.online ? total.usd : total.usd_gemini;
  const byTime = Math.ceil(minutes / windowMinutes);
  const byBudget = config.budget.per_night_usd > 0 ? Math.ceil(payable / config.budget.per_night_usd) : payable > 0 ? Infinity : 0;
  const nights = { count: Math.max(compiled.cards.length ? 1 : 0, byTime, byBudget), by_time: byTime, by_budget: byBudget, window: `${config.night.start}–${config.night.end} ${config.night.tz}`, window_minutes: windowMinutes };

  // The worker checks the budgets before each call with the call's output ceiling: the last call of a truck
  // or a night needs that much room left, not just its typical cost.
  const reserve = Math.max(0, ...calls.filter((c) => askedBy(c) > 0 && c.built.length).map((c) => costUsd(config.prices, c.model, { in: c.tokensIn / askedBy(c), cached: 0, out: c.built[0]!.maxOut })));
  const room = reserve > 0 ? ` (with ${money(reserve)} that one call reserves before it is sent, its output ceiling)` : '';
  const advice: string[] = [];
  const who = env.online ? '' : ' with GEMINI_API_KEY set (offline: $0)';
  if (payable > 0 && payable + reserve > config.budget.per_night_usd)
    advice.push(`the plan costs ${money(payable)}${who}${room}, over budget.per_night_usd ${money(config.budget.per_night_usd)}: raise budget.per_night_usd to ${up(payable + reserve)}, or split the plan over ${Math.max(2, byBudget)} days`);
  if (costliestUsd > 0 && costliestUsd + reserve > config.budget.per_truck_usd)
    advice.push(`truck ${costliest + 1} of ${trucks.length} costs ${money(costliestUsd)}${who}${room}, over budget.per_truck_usd ${money(config.budget.per_truck_usd)}: raise budget.per_truck_usd to ${up(costliestUsd + reserve)}, or it stops RECOVERABLE on its budget and the next job carries on`);
  if (minutes > windowMinutes) {
    const need = (x: number) => Math.ceil(x / windowMinutes);
    advice.push(`the online calls need ${(minutes / 60).toFixed(1)} h at limits.rpm ${config.limits.rpm} / limits.tpm ${config.limits.tpm}, the night ${nights.window} has ${(windowMinutes / 60).toFixed(1)} h: raise ${time.bound === 'rpm' ? `limits.rpm to ${need(onlineRequests)}` : `limits.tpm to ${need(onlineTokens)}`} (if the key's quota allows), widen the night, or split the plan over ${byTime} days`);
  }
  if (!env.online && calls.some((c) => c.kind !== 'TAG' && c.requests > 0)) notes.push('no GEMINI_API_KEY: STRIKE and PATCH cards need a model and will stop the truck with "no key"; their figures are what Gemini would cost');
  if (calls.some((c) => c.kind === 'PATCH')) notes.push('PATCH: one request a card (its rework, if any, is a second)');
  if (calls.some((c) => c.kind === 'STRIKE')) notes.push('STRIKE cards are counted from the strike list as it is now; it grows as TAG cards run, and g7 run compiles the plan again');

  return {
    plan: env.display(planFile), day: compiled.day, cards: compiled.cards.length, omitted_done: compiled.omittedDone, worker: env.online ? 'gemini' : 'offline',
    entries, models: perModel, total, chunks, time,
    trucks: { count: trucks.length, rounds, by_prio: byPrio, held, costliest_usd: costliestUsd, costliest: trucks.length ? costliest + 1 : 0 },
    nights, budget: { ...config.budget, reserve_usd: reserve }, fits: advice.length === 0, advice, notes,
  };
}

/** Keeps an estimate as its day's forecast (the last one recorded before the night counts). */
export async function recordForecast(layout: Layout, e: PlanEstimate, now: string): Promise<string> {
  const f: Forecast = { plan: e.plan, day: e.day, recorded_at: now, worker: e.worker, requests: e.total.requests - e.total.cached - e.total.repeats, tokens_in: e.total.tokens_in, tokens_out: e.total.tokens_out, usd: e.worker === 'gemini' ? e.total.usd : e.total.usd_gemini };
  const file = forecastFile(layout, e.day);
  await writeJsonAtomic(file, f);
  return file;
}

/** The estimate as `g7 plan estimate` prints it. */
export function formatEstimate(e: PlanEstimate): string[] {
  const n = (x: number) => Math.round(x).toLocaleString('en-US');
  const out: string[] = [];
  out.push(`estimate for ${e.plan} (day ${e.day}): ${e.cards} card(s) to issue${e.omitted_done ? `, ${e.omitted_done} done left out` : ''}`);
  out.push(e.worker === 'gemini' ? 'worker: Gemini (GEMINI_API_KEY is set)' : 'worker: offline (no GEMINI_API_KEY here): TAG by the taxonomy rules costs $0; the figures, and whether it fits, are for a night with the key (on GitHub, the secret)');
  out.push('');
  const head = ['entry', 'type', 'model', 'cards', 'requests', 'tokens in', 'tokens out', 'online', 'batch', 'planned'];
  const cells = e.entries.map((r) => [r.entry, r.type, r.model ?? '-', n(r.cards), n(r.requests), n(r.tokens_in), n(r.tokens_out), r.model ? money(r.usd_online) : '-', r.model ? money(r.usd_batch) : '-', r.model ? `${money(r.usd)} ${r.mode}` : 'local']);
  cells.push(['total', '', '', n(e.cards), n(e.total.requests), n(e.total.tokens_in), n(e.total.tokens_out), money(e.total.usd_online), money(e.total.usd_batch), money(e.total.usd)]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i < 3 || i === 9 ? v.padEnd(width[i]!) : v.padStart(width[i]!))).join('  ').trimEnd();
  out.push(line(head), ...cells.map(line));
  out.push('');
  for (const m of e.models) {
    out.push(`${m.model}: ${n(m.requests)} requests, ${n(m.tokens_in)} in, ${n(m.tokens_out)} out; ${money(m.usd_online)} online, ${money(m.usd_batch)} in batch mode`);
    out.push(`  tokens in: ${m.tokens_in_source}`);
    out.push(`  tokens out: ${m.tokens_out_source}`);
  }
  if (e.total.cached > 0) out.push(`cache: ${n(e.total.cached)} of the ${n(e.total.requests)} requests are already answered in the response cache: not asked, not paid (tokens and dollars count the rest)`);
  if (e.worker === 'offline' && e.total.requests > 0) out.push(`offline: $0 tonight; with GEMINI_API_KEY set: ${money(e.total.usd_gemini)}`);
  if (e.chunks.requests > 0)
    out.push(`chunks: ${n(e.chunks.requests)} TAG requests from ${e.chunks.source}; ${e.chunks.distinct === null ? 'distinct texts unknown (no sha256 without the index or a cut)' : `${n(e.chunks.distinct)} distinct texts, each asked once (an answer serves every place its text appears${e.total.repeats ? `: ${n(e.total.repeats)} requests saved` : ''})`}`);
  const t = e.time;
  out.push(`time: ${e.worker === 'offline' ? 'with a key, ' : ''}${n(t.online_requests)} online requests, ${n(t.online_tokens_in)} input tokens: ${t.minutes < 1 ? `${(t.minutes * 60).toFixed(0)} s` : `${t.minutes.toFixed(1)} min`} at limits.rpm ${n(t.rpm)} / limits.tpm ${n(t.tpm)}${t.bound === 'none' ? '' : ` (${t.bound} bound)`}${t.batch_requests ? `; ${n(t.batch_requests)} in ${n(t.batch_jobs)} batch job(s), ${n(t.batch_cycles)} cycle(s) of up to 24 h under the enqueued-token limit` : ''}`);
  const p = e.trucks.by_prio;
  out.push(`trucks: ${e.trucks.count} in ${e.trucks.rounds} round(s) of ${OPS_120PLUS120.slots}-slot trucks (cards A ${p.A}, B ${p.B}, C ${p.C}, D ${p.D}; slots A 60 / B 36 / C 18 / D 6)${e.trucks.held ? `, ${e.trucks.held} held back` : ''}; the costliest ${money(e.trucks.costliest_usd)} of budget.per_truck_usd ${money(e.budget.per_truck_usd)}`);
  out.push(`nights: ${e.nights.count} of ${e.nights.window} (${e.nights.window_minutes} min): ${e.nights.by_time} by time, ${e.nights.by_budget} by budget.per_night_usd ${money(e.budget.per_night_usd)}`);
  for (const note of e.notes) out.push(`note: ${note}`);
  out.push(e.fits ? 'fits: yes' : 'fits: no');
  for (const a of e.advice) out.push(`  → ${a}`);
  return out;
}
