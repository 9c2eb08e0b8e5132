// PATCH answers: whole-file content against search/replace changes, for one realistic fix (three lines of one
// function in the middle of a TypeScript module) in modules of growing size. Each contender is a real
// `g7 run` (a child process) of a one-card PATCH truck against the loopback Gemini fake, which answers as a
// model would: `whole` copies the file as it was shown with the fix in it, `changes` gives the fix as a search
// text and its replacement. Output tokens are the fake's count of the answer (the dearest tokens); the floor
// is the fix itself, as a unified diff with no context lines. Interleaved: changes, whole, changes, whole…
import { mkdtemp, mkdir, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { fakeGemini, type FakeGemini } from '../test/fakes/gemini-server.js';
import { outputTokens } from '../test/fakes/gemini-wire.js';
import { machine, spread, table, fmt, RUNS, FULL } from './harness.js';

const MODEL = 'gemini-2.5-flash';
// The published Gemini Developer API price of gemini-2.5-flash, USD per million tokens (online).
const PRICE = { in: 0.3, out: 2.5 };
const root = path.resolve('.');
const SIZES = FULL ? [2, 16, 64, 256] : [2, 16, 64];

/** A module of `kb` KiB, functions of a few lines each; `before` is the middle one (unique: its name is in it) and `fixed` the same after the fix. */
function module(kb: number): { text: string; before: string; fixed: string } {
  const fn = (i: number) => `export function total${i}(rows: { amount: number; kind: string }[], threshold = ${i % 17}): number {\n  let sum = 0;\n  for (const r of rows) if (r.amount > threshold && r.kind !== 'void') sum += r.amount;\n  return sum;\n}\n`;
  const fns: string[] = [];
  for (let i = 0, n = 0; n < kb * 1024; i++) {
    fns.push(`/** Sums the ${i}th ledger's entries above the threshold. */\n${fn(i)}`);
    n += fns.at(-1)!.length + 1;
  }
  const before = fn(Math.floor(fns.length / 2));
  const fixed = before.replace("r.amount > threshold && r.kind !== 'void'", "r.amount >= threshold && r.kind !== 'void' && r.kind !== 'draft'").replace('  return sum;', '  return Math.round(sum * 100) / 100;');
  return { text: fns.join('\n'), before, fixed };
}

async function truck(fake: FakeGemini, src: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'g7-bench-patch-'));
  const w = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  };
  await w('ssot/factory.yaml', `library: { root: library }\nmodels: { MID: ${MODEL} }\nprices_per_mtok: { ${MODEL}: { in: ${PRICE.in}, out: ${PRICE.out} } }\ngemini: { base_url: "${fake.url}", max_output_tokens: 16384, thinking_budget: { MID: 0 } }\nlimits: { rpm: 100000 }\n`);
  await w('library/.keep', '');
  await w('src/ledger.ts', src);
  await w('ssot/backlog/packs/fix.json', JSON.stringify({ id: 'fix', goal: 'count draft entries out and round the total to cents', forbidden: [], success: ['fixed'], evidence: ['diff'], files: { create: [], modify: ['src/ledger.ts'] } }));
  await w('ssot/backlog/backlog_20261121.jsonl', JSON.stringify({ id: 'L3_PATCH_000001', lane: 3, prio: 'A', type: 'PATCH', input: 'fix', pack: 'fix', output: 'out/patch.json', accept: 'exists:out/patch.json', failfast: 'never', cost_hint: 'MID', deps: [] }) + '\n');
  return dir;
}

const g7 = (dir: string) =>
  new Promise<{ code: number | null; ms: number }>((resolve) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, [path.join(root, 'bin/g7.mjs'), '--ssot', path.join(dir, 'ssot'), 'run', '--no-commit'], { env: { PATH: process.env.PATH, HOME: process.env.HOME, GEMINI_API_KEY: 'k', G7_NOW: '2026-11-21T01:00:00Z' }, stdio: 'ignore' });
    p.on('close', (code) => resolve({ code, ms: performance.now() - t0 }));
  });

/** What the model was shown of the file, as the prompt has it (the cut marker is not part of the file). */
function shownFile(body: unknown): string {
  const prompt = ((body as { contents: { parts: { text: string }[] }[] }).contents[0]!.parts[0]!.text);
  const m = /File src\/ledger\.ts(?: \([^)]*\))?:\n([\s\S]*?)(?:\n\n(?:Answer with|This is the one rework))/.exec(prompt);
  return (m?.[1] ?? '').replace(/\n\[… \d+ characters cut to fit the input budget\]$/, '');
}

interface Sample { code: number | null; ms: number; out: number; inTok: number; usd: number; right: boolean; attempts: number }

async function once(mode: 'whole' | 'changes', kb: number): Promise<Sample> {
  const m = module(kb);
  const fixed = m.fixed;
  const fake = await fakeGemini({ keys: ['k'] });
  fake.answer = (body) =>
    mode === 'changes'
      ? { edits: [{ path: 'src/ledger.ts', changes: [{ search: m.before, replace: fixed }] }] }
      : { edits: [{ path: 'src/ledger.ts', content: shownFile(body).replace(m.before, fixed) }] };
  const dir = await truck(fake, m.text);
  try {
    const r = await g7(dir);
    const paid = fake.requests.filter((x) => x.route === 'generateContent' && x.status === 200);
    const usage = paid.map((x) => (x.response as { usageMetadata: { promptTokenCount: number; candidatesTokenCount?: number } }).usageMetadata);
    const out = usage.reduce((n, u) => n + (u.candidatesTokenCount ?? 0), 0);
    const inTok = usage.reduce((n, u) => n + u.promptTokenCount, 0);
    const report = JSON.parse(await readFile(path.join(dir, 'ssot/runs/run_0001/verify_report.json'), 'utf8')) as { cost_usd: number; cards: { attempts: number }[] };
    const right = (await readFile(path.join(dir, 'src/ledger.ts'), 'utf8')) === m.text.replace(m.before, fixed);
    return { code: r.code, ms: r.ms, out, inTok, usd: report.cost_usd, right, attempts: report.cards[0]?.attempts ?? 0 };
  } finally {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const rows: (string | number)[][] = [];
process.stderr.write(`${RUNS} interleaved rounds per size…\n`);
for (const kb of SIZES) {
  const m = module(kb);
  const fixedText = m.text.replace(m.before, m.fixed);
  const floor = outputTokens(createTwoFilesPatch('a/src/ledger.ts', 'b/src/ledger.ts', m.text, fixedText, '', '', { context: 0 }).replace(/^=+\n/, ''));
  const got: Record<'changes' | 'whole', Sample[]> = { changes: [], whole: [] };
  for (let k = 0; k < RUNS; k++) for (const mode of ['changes', 'whole'] as const) got[mode].push(await once(mode, kb));
  for (const mode of ['changes', 'whole'] as const) {
    const s = got[mode];
    const ends = [...new Set(s.map((x) => `${x.code === 0 && x.right ? 'PASS, file right' : x.code === 0 ? 'PASS, file WRONG' : `FAIL (exit ${x.code}), file ${x.right ? 'changed' : 'as it was'}`} after ${x.attempts} attempt${x.attempts === 1 ? '' : 's'}`))].join(' / ');
    const out = spread(s.map((x) => x.out)).med;
    rows.push([`${kb} KiB (${(m.text.length / 1024).toFixed(0)} KiB)`, mode, ends, out, fmt.x(out / floor), spread(s.map((x) => x.inTok)).med, spread(s.map((x) => x.usd)).med.toFixed(5), fmt.range(spread(s.map((x) => x.ms)), fmt.ms)]);
  }
  rows.push(['', 'floor: the fix as a 0-context diff', '', floor, '1.00', '', '', '']);
}
console.log(`\nPATCH, one fix of 3 lines in a TypeScript module; a 1-card truck through g7 run against the Gemini fake (${MODEL}, thinking off, max_output_tokens 16384, input budget 32,000 tokens); ${RUNS} interleaved runs each, median\nmachine: ${machine()}\n`);
console.log(table(['module', 'answer', 'how the card ended', 'output tokens', 'x floor', 'input tokens', 'USD per card', 'g7 run ms'], rows));
console.log('\nOutput tokens and USD include the rework attempt where the first one failed (both attempts were paid).');
