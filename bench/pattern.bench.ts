// `g7 coreloop pattern` over a generated audit log of 1 GiB (G7_BENCH_PATTERN_MB), against jq computing the
// same grouping (kind of work × path of step names: records, successes, different questions, noise left
// out) over the same files, and the floor of merely reading and JSON-parsing every line with the same
// streaming reader. Every contender is a whole process (g7 as a user starts it); they run interleaved. Then
// g7 on a quarter of the log: its memory must not grow with the log. The run fails unless jq and g7 reach
// the same decision for every group g7 reports.
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { minePatterns } from '../src/coreloop/pattern.js';
import { windowFrom } from '../src/coreloop/records.js';
import { auditFiles } from '../src/ssot/audit-store.js';
import { forEachLine } from '../src/ssot/jsonl.js';
import { childMain, interleave, machine, ratio, runOnce, selfTask, spread, table, fmt, have, taskResult, RUNS, type Cmd } from './harness.js';

const MB = Number(process.env.G7_BENCH_PATTERN_MB ?? 1024);
const DAYS = 16;
const GROUPS = 120;
const root = path.resolve('bench/.data/pattern');
const ssot = { full: path.join(root, 'full', 'ssot'), quarter: path.join(root, 'quarter', 'ssot') };
// Day files end today (UTC), so that `--since 30d` as a user types it covers them all.
const NOW = new Date();
const day = (i: number) => new Date(NOW.getTime() - (DAYS - 1 - i) * 86400e3).toISOString().slice(0, 10);

/** A record of about 1 KB. One group in ten never fails (the candidates); the others fail now and then. */
function line(i: number, rnd: Buffer): string {
  const g = rnd[0]! % GROUPS;
  const seq = `seq:${(g * 7919).toString(16).padStart(8, '0')}`;
  const r = rnd[1]!;
  const clean = g % 10 === 0;
  const error = !clean && r < 3 ? '"HTTP 503 UNAVAILABLE: the model is overloaded"' : 'null';
  const violation = !clean && r >= 3 && r < 5 ? '"wrote outside the pack"' : 'null';
  const ok = clean || r < 250;
  const flags = !clean && r >= 250 && r < 253 ? '["finish:MAX_TOKENS"]' : '[]';
  const chunk = 100 + ((rnd[2]! << 3) | (rnd[3]! & 7));
  const q = rnd.subarray(4, 20).toString('hex');
  const question = `tag disclosures/${2020 + (g % 7)}/company-${g}/report-${i % 997}.md@${i * 4096}+65536 ${'the board approved the related-party loan and the auditor noted a going-concern doubt; '.repeat(3)}`;
  return `{"schema_version":2,"ts":"${day(i % DAYS)}T00:${String(i % 60).padStart(2, '0')}:00.000Z","request_id":"${q.slice(0, 16)}","question":"${question}","question_hash":"sha256:${q}${q}","category_hash":"TAG:entry-${g % 40}","hint":null,"provider":"gemini","model":"gemini-2.5-flash-lite","tool_calls":[{"name":"TAG","args":"{\\"card\\":\\"L2_TAG_${String(i % 1e6).padStart(6, '0')}\\",\\"kind\\":\\"TAG\\",\\"rework\\":false}","args_hash":"${q.slice(0, 16)}","ok":${ok},"error":${ok ? 'null' : '"answer did not match the schema"'},"duration_ms":${r * 7},"result_size_bytes":${chunk},"overrides_used":null,"extreme_flags":${flags}}],"tool_sequence_hash":"${seq}","override_calls":[],"rounds":1,"chunk_len":${chunk},"error":${error},"violation":${violation},"skill_used":null,"duration_total_ms":${r * 7},"tokens":{"in":812,"out":64},"judgment":{"verdict":null,"judged_at":null,"judged_by":null,"pr_url":null}}\n`;
}

async function generate(): Promise<void> {
  const marker = path.join(root, `generated-${MB}MB-${day(DAYS - 1)}`);
  if (await stat(marker).then(() => true, () => false)) return; // the same log as last time: reuse it
  await rm(root, { recursive: true, force: true });
  for (const s of Object.values(ssot)) await mkdir(path.join(s, 'audit', 'ai-ask'), { recursive: true });
  const perFile = (MB << 20) / DAYS;
  let i = 0;
  for (let d = 0; d < DAYS; d++) {
    const file = path.join(ssot.full, 'audit', 'ai-ask', `${day(d)}.jsonl`);
    const out = createWriteStream(file);
    let bytes = 0;
    while (bytes < perFile) {
      const rnd = randomBytes(20 * 512);
      let chunk = '';
      for (let k = 0; k < 512; k++) chunk += line(i++, rnd.subarray(k * 20, k * 20 + 20));
      bytes += Buffer.byteLength(chunk);
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
    if (d >= DAYS - DAYS / 4) await symlink(file, path.join(ssot.quarter, 'audit', 'ai-ask', `${day(d)}.jsonl`));
  }
  await writeFile(marker, '');
}

const auditDir = (s: string) => path.join(s, 'audit');
/** The log as g7 reads it: the generated day files are the old layout's, which it still reads. */
const place = (s: string) => ({ storeDir: path.join(s, 'store', 'audit'), legacyDir: path.join(auditDir(s), 'ai-ask') });
const dayFiles = async (s: string, w: ReturnType<typeof windowFrom>) => (await auditFiles(place(s), w)).map((f) => f.path);

const isChild = await childMain({
  // The floor: the same streaming reader, JSON.parse of every line, nothing else.
  async floor([s]) {
    let n = 0;
    for (const f of await dayFiles(s!, windowFrom('30d', new Date()))) await forEachLine(f, (t) => void (t && JSON.parse(t) && n++));
    return { records: n };
  },
  // The heap pattern keeps (after a full collection), as opposed to garbage V8 has not collected yet.
  async kept([s]) {
    const deps = { audit: place(s!), window: windowFrom('30d', new Date()), now: new Date().toISOString(), skills: {}, known: () => undefined, display: (p: string) => p };
    await minePatterns(deps, { minRepeat: 3, minUniqueQuestions: 3, minChunkLen: 400, sanitize: true });
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    return { keptMB: process.memoryUsage().heapUsed / 2 ** 20 };
  },
});

// jq's fastest form of this grouping that we found: project each record, then group_by. (A reduce that
// updates a growing object per record is quadratic in jq 1.6, which copies the object on every update.)
// The grouping is by kind of work and path (the step names: every generated record takes the one step TAG);
// a short input and a transient API error are noise; any other error or a violation is a failure.
const TRANSIENT_RE = String.raw`\\b429\\b|RESOURCE_EXHAUSTED|rate.?limit|quota|\\b5\\d\\d\\b|UNAVAILABLE|DEADLINE_EXCEEDED|time(d)? ?out|ECONNRESET|ECONNREFUSED|EAI_AGAIN|fetch failed|socket hang up|network`;
const JQ = `[inputs | [(.category_hash + "\\t" + ([.tool_calls[].name] | join(">"))),
  (if .chunk_len < 400 then "s"
   elif .error != null and .violation == null and (.error | test("${TRANSIENT_RE}"; "i")) then "t"
   elif .error != null or .violation != null then "fail"
   elif ([.tool_calls[].ok] | all) and ([.tool_calls[].extreme_flags[]] | length == 0) then "ok" else "fail" end),
  .question_hash]]
| group_by(.[0])
| map({k: .[0][0], n: (map(select(.[1] == "ok" or .[1] == "fail")) | length), ok: (map(select(.[1] == "ok")) | length),
       u: (map(select(.[1] == "ok" or .[1] == "fail") | .[2]) | unique | length)})`;

if (!isChild) {
  if (!have('jq')) throw new Error('jq is not installed: the peer of this benchmark (apt-get install jq)');
  console.log(`generating a ${MB} MB audit log in ${DAYS} day files…`);
  await generate();
  const files = await dayFiles(ssot.full, windowFrom('30d', NOW));
  const bytes = (await Promise.all(files.map((f) => stat(f)))).reduce((a, s) => a + s.size, 0);
  spawnSync('cat', files, { stdio: ['ignore', 'ignore', 'ignore'] }); // page cache warm for everyone
  const g7 = (name: string, s: string): Cmd => ({ name, argv: [process.execPath, path.resolve('bin/g7.mjs'), '--ssot', s, '--json', 'coreloop', 'pattern', '--since', '30d', '--sanitize'] });
  const self = import.meta.url;
  const cmds: Cmd[] = [{ name: 'jq', argv: ['jq', '-n', '-c', JQ, ...files] }, selfTask(self, 'floor', 'floor', [ssot.full]), g7('g7', ssot.full)];
  const runs = interleave(cmds, RUNS, 0);
  const quarter = interleave([g7('quarter', ssot.quarter)], RUNS, 0).get('quarter')!;
  const kept = { full: Number(taskResult(runOnce(selfTask(self, 'kept', 'kept', [ssot.full]))).keptMB), quarter: Number(taskResult(runOnce(selfTask(self, 'kept', 'kept', [ssot.quarter]))).keptMB) };
  // The same decision for every group g7 reports (its candidates and near misses) as jq's grouping.
  const jqGroups = JSON.parse(runs.get('jq')!.at(-1)!.stdout) as { k: string; n: number; ok: number; u: number }[];
  const out = JSON.parse(runs.get('g7')!.at(-1)!.stdout) as { candidates: string };
  const file = JSON.parse(await readFile(path.resolve(out.candidates), 'utf8')) as import('../src/coreloop/candidates.js').CoreloopCandidates;
  const byKey = new Map(jqGroups.map((g) => [g.k, g]));
  const reported = [
    ...file.candidates.map((c) => ({ k: `${c.category_hash}\tTAG`, n: c.evidence.records, ok: c.evidence.successes, u: c.evidence.unique_questions, candidate: true })),
    ...file.near_misses.map((m) => ({ k: `${m.category_hash}\tTAG`, n: m.records, ok: Math.round(m.success_rate * m.records), u: m.unique_questions, candidate: false })),
  ];
  for (const g of reported) {
    const j = byKey.get(g.k);
    const jqCandidate = !!j && j.n >= 3 && j.u >= 3 && j.ok === j.n;
    if (!j || j.n !== g.n || j.ok !== g.ok || Math.min(j.u, 256) !== g.u || jqCandidate !== g.candidate) throw new Error(`jq and g7 disagree on ${g.k}: jq ${JSON.stringify(j)} g7 ${JSON.stringify(g)}`);
  }
  const jqCandidates = jqGroups.filter((j) => j.n >= 3 && j.u >= 3 && j.ok === j.n).length;
  if (jqCandidates !== file.candidates.length) throw new Error(`jq finds ${jqCandidates} candidates, g7 ${file.candidates.length}`);

  const ms = (name: string) => runs.get(name)!.map((r) => r.ms);
  const mbps = (xs: number[]) => (bytes / 1e6 / (spread(xs).med / 1000)).toFixed(0);
  console.log(`\n${machine()}`);
  console.log(`audit log: ${(bytes / 2 ** 20).toFixed(0)} MiB, ${file.scanned.records} records in ${files.length} files, ${jqGroups.length} groups; page cache warm; ${RUNS} runs each, interleaved; seconds as median (min-max); ${spawnSync('jq', ['--version']).stdout.toString().trim()}`);
  console.log(`jq and g7 agree on all ${reported.length} groups g7 reports and on the ${jqCandidates} candidates\n`);
  console.log(
    table(
      ['task', 'seconds', 'MB/s', 'jq / this', 'peak RSS MB', 'heap kept MB'],
      [
        ['peer: jq, the same grouping (C)', fmt.range(spread(ms('jq')), fmt.s), mbps(ms('jq')), '1.00', fmt.mb(runs.get('jq')!), '-'],
        ['floor: read + JSON.parse every line (same reader)', fmt.range(spread(ms('floor')), fmt.s), mbps(ms('floor')), fmt.range(ratio(ms('jq'), ms('floor')), fmt.x), fmt.mb(runs.get('floor')!), '-'],
        ['g7 coreloop pattern, the whole log', fmt.range(spread(ms('g7')), fmt.s), mbps(ms('g7')), fmt.range(ratio(ms('jq'), ms('g7')), fmt.x), fmt.mb(runs.get('g7')!), kept.full.toFixed(1)],
        ['g7 coreloop pattern, a quarter of the log', fmt.range(spread(quarter.map((r) => r.ms)), fmt.s), '-', '-', fmt.mb(quarter), kept.quarter.toFixed(1)],
      ],
    ),
  );
  const speedup = ratio(ms('jq'), ms('g7')).med;
  const rss = (r: { rssMB: number | undefined }[]) => Math.max(...r.map((x) => x.rssMB ?? NaN));
  console.log(`\ngoal: ≥ 3x faster than jq — ${speedup >= 3 ? 'met' : 'NOT met'} (${speedup.toFixed(2)}x); at 4x the log, peak RSS ${(rss(runs.get('g7')!) / rss(quarter)).toFixed(2)}x and heap kept ${(kept.full / kept.quarter).toFixed(2)}x`);
}
