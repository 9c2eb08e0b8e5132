// Token counts that hold for Korean text. "About 4 characters a token" (the Gemini documentation's rule) is
// measured on English; a Hangul syllable is one character and costs far more than a quarter token. So a
// text is counted per script (ASCII, Hangul, everything else) and each script gets its own rate per model,
// fitted from what the service reported (usageMetadata.promptTokenCount) for the prompts it was sent. The
// fit is a least-squares over every paid prompt, pulled gently toward the documented prior, so one odd
// answer cannot swing it and a script never seen keeps the prior. The sums it needs are kept in
// state/tokens.json: a few numbers per model, whatever the history.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeJsonAtomic } from '../ssot/atomic.js';

/** Where the calibration is kept, in a state folder. */
export const tokensFile = (stateDir: string) => path.join(stateDir, 'tokens.json');

/** Characters of a text per script, and one for the request itself (the fixed part a prompt always costs). */
export type Profile = [ascii: number, hangul: number, other: number, request: number];

/** Tokens per character (per request for the last). ASCII: the documented 4 characters a token. */
export const PRIOR_RATES: Profile = [0.25, 1, 0.5, 0];
const FEATURES = 4;
/** How strongly the prior holds (characters², requests² for the last): far below one prompt's weight once a script occurs at all. */
const PRIOR_WEIGHT: Profile = [1e3, 1e3, 1e3, 10];

const isHangul = (c: number) => (c >= 0xac00 && c <= 0xd7a3) || (c >= 0x1100 && c <= 0x11ff) || (c >= 0x3130 && c <= 0x318f);

export function profileOf(text: string): Profile {
  let ascii = 0;
  let hangul = 0;
  let other = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) ascii++;
    else if (isHangul(c)) hangul++;
    else other++;
  }
  return [ascii, hangul, other, 1];
}

/** Adds `b` × `k` into `a` (profiles of several texts sent in one request). */
export function addProfile(a: Profile, b: Profile, k = 1): Profile {
  return a.map((v, i) => v + b[i]! * k) as Profile;
}

export function tokensFor(rates: Profile, p: Profile): number {
  return Math.max(1, Math.ceil(rates.reduce((s, r, i) => s + r * p[i]!, 0)));
}

interface Sums {
  /** Paid prompts seen. */
  n: number;
  /** XᵀX and Xᵀy of the fit, row by row. */
  xx: number[][];
  xy: number[];
}

interface TokensFile {
  version: 1;
  models: Record<string, Sums>;
  /** Output tokens (answer and thinking) per model and kind of work: how many answers, and their sum. */
  outputs?: Record<string, Record<string, { n: number; sum: number }>>;
}

const emptySums = (): Sums => ({ n: 0, xx: Array.from({ length: FEATURES }, () => new Array<number>(FEATURES).fill(0)), xy: new Array<number>(FEATURES).fill(0) });

/** Solves (XᵀX + λI) r = Xᵀy + λ r₀ by Gaussian elimination with partial pivoting. */
function fit(s: Sums): Profile {
  const a = s.xx.map((row, i) => [...row.map((v, j) => v + (i === j ? PRIOR_WEIGHT[i]! : 0)), s.xy[i]! + PRIOR_WEIGHT[i]! * PRIOR_RATES[i]!]);
  for (let c = 0; c < FEATURES; c++) {
    let p = c;
    for (let r = c + 1; r < FEATURES; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < FEATURES; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k <= FEATURES; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return a.map((row, i) => Math.max(0, row[FEATURES]! / row[i]!)) as Profile;
}

export class TokenCalibration {
  private fitted = new Map<string, Profile>();
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string | undefined,
    private readonly data: TokensFile,
  ) {}

  /**
   * The calibration kept in `file` (state/tokens.json), else the one in `seed` (a lane starts from the
   * night's); none yet, or unreadable: the prior. What is learned is saved to `file`.
   */
  static async load(file: string | undefined, seed?: string): Promise<TokenCalibration> {
    let data: TokensFile = { version: 1, models: {} };
    for (const f of [file, seed]) {
      if (!f) continue;
      try {
        const v = JSON.parse(await readFile(f, 'utf8')) as TokensFile;
        if (v && v.version === 1 && v.models && typeof v.models === 'object') {
          data = v;
          break;
        }
      } catch {
        /* nothing learned there yet */
      }
    }
    return new TokenCalibration(file, data);
  }

  /** Tokens per character of each script for `model`: fitted from its paid prompts, the prior before any. */
  rates(model: string): Profile {
    let r = this.fitted.get(model);
    if (!r) {
      const s = this.data.models[model];
      r = s && s.n > 0 ? fit(s) : PRIOR_RATES;
      this.fitted.set(model, r);
    }
    return r;
  }

  /** How many prompts `model`'s rates were fitted from (0: the prior). */
  observed(model: string): number {
    return this.data.models[model]?.n ?? 0;
  }

  estimate(model: string, p: Profile): number {
    return tokensFor(this.rates(model), p);
  }

  /** One paid prompt: its profile and the prompt tokens the service reported for it. */
  observe(model: string, p: Profile, tokens: number): void {
    if (!(tokens > 0)) return;
    const s = (this.data.models[model] ??= emptySums());
    for (let i = 0; i < FEATURES; i++) {
      for (let j = 0; j < FEATURES; j++) s.xx[i]![j]! += p[i]! * p[j]!;
      s.xy[i]! += p[i]! * tokens;
    }
    s.n++;
    this.fitted.delete(model);
    this.dirty = true;
  }

  /** One paid answer's output tokens (the answer and the thinking) for a kind of work (TAG, STRIKE, PATCH). */
  observeOutput(model: string, kind: string, tokens: number): void {
    if (!(tokens >= 0)) return;
    const o = ((this.data.outputs ??= {})[model] ??= {})[kind] ??= { n: 0, sum: 0 };
    o.n++;
    o.sum += tokens;
    this.dirty = true;
  }

  /** The average output tokens of `model`'s paid answers for a kind of work, and how many it is taken over; undefined before any. */
  outputAverage(model: string, kind: string): { n: number; mean: number } | undefined {
    const o = this.data.outputs?.[model]?.[kind];
    return o && o.n > 0 ? { n: o.n, mean: o.sum / o.n } : undefined;
  }

  /** Writes what was learned since the last save (atomically: a torn file would lose the whole history). */
  async save(): Promise<void> {
    // One write at a time: concurrent calls (TAG asks 4 at once) renaming their files out of order would
    // leave an older snapshot on disk and lose the observations made since.
    const write = async () => {
      if (!this.dirty || !this.file) return;
      this.dirty = false;
      await writeJsonAtomic(this.file, this.data);
    };
    this.saving = this.saving.then(write, write);
    return this.saving;
  }
}
