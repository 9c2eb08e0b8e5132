// A mixed library generated from a seed, the same bytes every time: files of 10 KB to 5 MB (log-uniform),
// English and Korean text, some files with CRLF line ends, some without a final newline, and now and then
// (about one line in 33,000: some 15% of the bytes) a long line of 64 KB to 1.5 MB, such as a minified
// table. SCAN benchmarks and tests use it so that neither sees only the friendly case of short ASCII lines.
import { mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import path from 'node:path';

/** mulberry32: small, fast, and the same sequence on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = 'revenue operating income quarter disclosure related-party loan guarantee subsidiary audit opinion board resolution dividend capital increase merger lawsuit'.split(' ');
const HANGUL = '공시 매출 영업이익 분기 특수관계인 대여금 보증 자회사 감사의견 이사회 결의 배당 유상증자 합병 소송 개집 단일판매 공급계약 체결'.split(' ');

export interface CorpusSpec {
  seed: number;
  /** Total size to reach, in bytes (the last file is cut to fit). */
  bytes: number;
  minFile?: number;
  maxFile?: number;
  /** Files per folder: the library is spread over folders like a real one. */
  perDir?: number;
  /** The chance of a line being long (64 KB-1.5 MB); the default makes them some 15% of the bytes. */
  longLines?: number;
}

export interface CorpusFile {
  rel: string;
  size: number;
}

/** The file list and contents of a corpus, as an iterator: one file's bytes in memory at a time. */
export function* corpusFiles(spec: CorpusSpec): Generator<CorpusFile & { body: Buffer }> {
  const rnd = prng(spec.seed);
  const min = spec.minFile ?? 10_000;
  const max = spec.maxFile ?? 5_000_000;
  const perDir = spec.perDir ?? 200;
  const longLines = spec.longLines ?? 0.00003;
  const pick = <T>(a: T[]) => a[Math.floor(rnd() * a.length)]!;
  const sentence = (korean: boolean) => {
    const n = 4 + Math.floor(rnd() * 24);
    const parts: string[] = [];
    for (let k = 0; k < n; k++) parts.push(korean && rnd() < 0.7 ? pick(HANGUL) : pick(WORDS));
    parts.push(String(Math.floor(rnd() * 1e6)));
    return parts.join(' ');
  };
  let total = 0;
  for (let i = 0; total < spec.bytes; i++) {
    const target = Math.min(Math.round(Math.exp(Math.log(min) + rnd() * (Math.log(max) - Math.log(min)))), spec.bytes - total);
    const korean = rnd() < 0.4;
    const eol = rnd() < 0.25 ? '\r\n' : '\n';
    const parts: string[] = [];
    let len = 0;
    while (len < target) {
      let line: string;
      const r = rnd();
      if (r < longLines) {
        // A long line: 64 KB to 1.5 MB of one repeated record, no newline inside.
        const cell = `${sentence(korean)}|`;
        line = cell.repeat(Math.ceil((65_536 + Math.floor(rnd() * (1_572_864 - 65_536))) / Buffer.byteLength(cell)));
      } else if (r < 0.05) line = '';
      else line = sentence(korean);
      parts.push(line, eol);
      len += Buffer.byteLength(line) + eol.length;
    }
    let body = Buffer.from(parts.join(''));
    if (body.length > target) body = body.subarray(0, target); // cut mid-line: no final newline, maybe mid-character
    const dir = `d${String(Math.floor(i / perDir)).padStart(3, '0')}`;
    const rel = `${dir}/${korean ? `공시${String(i).padStart(5, '0')}` : `doc${String(i).padStart(5, '0')}`}.txt`;
    total += body.length;
    yield { rel, size: body.length, body };
  }
}

/**
 * Writes the corpus under `dir` unless a marker says it is already there for the same spec. Returns the
 * files, in the order SCAN lists them (folders and names sorted).
 */
export async function writeCorpus(dir: string, spec: CorpusSpec): Promise<CorpusFile[]> {
  const marker = path.join(dir, '.corpus.json');
  const want = JSON.stringify(spec);
  try {
    const had = JSON.parse(await readFile(marker, 'utf8')) as { spec: string; files: CorpusFile[] };
    if (had.spec === want) return had.files;
  } catch {
    /* not written yet */
  }
  await rm(dir, { recursive: true, force: true });
  const files: CorpusFile[] = [];
  for (const f of corpusFiles(spec)) {
    await mkdir(path.dirname(path.join(dir, f.rel)), { recursive: true });
    await writeFile(path.join(dir, f.rel), f.body);
    files.push({ rel: f.rel, size: f.size });
  }
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  await writeFile(marker, JSON.stringify({ spec: want, files }));
  return files;
}
