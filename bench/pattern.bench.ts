// `g7 coreloop pattern` over a generated 1 GB audit log, against jq computing the same grouping
// (category_hash × tool_sequence_hash: records, successes, different questions, records left out) over the
// same files, interleaved in the same run; and the floor of merely reading and JSON-parsing every line with
// the same streaming reader. Then g7's peak memory on a quarter of the log: it must not grow with the log.
// The run checks that jq and g7 reach the same decision for every group g7 reports.
import { createWriteStream } from 'node:fs';
import { mkdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { minePatterns } from '../src/coreloop/pattern.js';
import { dayFiles, windowFrom } from '../src/coreloop/records.js';
import { forEachLine } from '../src/ssot/jsonl.js';
import { childMain, measure, table } from './harness.js';

const MB = Number(process.env.G7_BENCH_PATTERN_MB ?? 1024);
const RUNS = Number(process.env.G7_BENCH_RUNS ?? 3);
const DAYS = 16;
const GROUPS = 120;
const root = path.resolve('bench/.data/pattern');
const full = path.join(root, 'full', 'audit');
const quarter = path.join(root, 'quarter', 'audit');
const NOW = new Date('2026-11-21T23:00:00Z');
const day = (i: number) => new Date(NOW.getTime() - (DAYS - 1 - i) * 86400e3).toISOString().slice(0, 10);

/** A record of about 1 KB. Group g: one in ten groups never fails (the candidates); the rest fail now and then. */
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
  return `{"schema_version":2,"ts":"${day(i % DAYS)}T${String(i % 24).padStart(2, '0')}:00:00.000Z","request_id":"${q.slice(0, 16)}","question":"${question}","question_hash":"sha256:${q}${q}","category_hash":"TAG:entry-${g % 40}","hint":null,"provider":"gemini","model":"gemini-2.5-flash-lite","tool_calls":[{"name":"TAG","args":"{\\"card\\":\\"L2_TAG_${String(i % 1e6).padStart(6, '0')}\\",\\"kind\\":\\"TAG\\",\\"rework\\":false}","args_hash":"${q.slice(0, 16)}","ok":${ok},"error":${ok ? 'null' : '"answer did not match the schema"'},"duration_ms":${r * 7},"result_size_bytes":${chunk},"overrides_used":null,"extreme_flags":${flags}}],"tool_sequence_hash":"${seq}","override_calls":[],"rounds":1,"chunk_len":${chunk},"error":${error},"violation":${violation},"skill_used":null,"duration_total_ms":${r * 7},"tokens":{"in":812,"out":64},"judgment":{"verdict":null,"judged_at":null,"judged_by":null,"pr_url":null}}\n`;
}

async function generate(): Promise<void> {
  const marker = path.join(root, `generated-${MB}MB`);
  if (await stat(marker).then(() => true, () => false)) return; // the same log as last time: reuse it
  await rm(root, { recursive: true, force: true });
  await mkdir(path.join(full, 'ai-ask'), { recursive: true });
  await mkdir(path.join(quarter, 'ai-ask'), { recursive: true });
  const perFile = (MB << 20) / DAYS;
  let i = 0;
  for (let d = 0; d < DAYS; d++) {
    const file = path.join(full, 'ai-ask', `${day(d)}.jsonl`);
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
    if (d >= DAYS - DAYS / 4) await symlink(file, path.join(quarter, 'ai-ask', `${day(d)}.jsonl`));
  }
  await writeFile(marker, '');
}

async function pattern(auditDir: string): Promise<Record<string, unknown>> {
  const deps = { auditDir, window: windowFrom('30d', NOW), now: NOW.toISOString(), skills: {}, known: () => undefined, display: (p: string) => p };
  const { file } = await minePatterns(deps, { minRepeat: 3, minUniqueQuestions: 3, minChunkLen: 400, sanitize: true });
  const groups = [...file.candidates.map((c) => ({ k: `${c.category_hash}\t${c.tool_sequence_hash}`, n: c.evidence.records, ok: c.evidence.successes, u: c.evidence.unique_questions, candidate: true })), ...file.near_misses.map((m) => ({ k: `${m.category_hash}\t${m.tool_sequence_hash}`, n: m.records, ok: Math.round(m.success_rate * m.records), u: m.unique_questions, candidate: false }))];
  return { records: file.scanned.records, candidates: file.candidates.length, groups, keptMB: keptAfterGc() };
}

/** Heap still in use after a full collection: what the run keeps, as opposed to garbage V8 has not collected yet. */
function keptAfterGc(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

async function floor(auditDir: string): Promise<Record<string, unknown>> {
  let n = 0;
  for (const f of await dayFiles(auditDir, windowFrom('30d', NOW))) await forEachLine(f, (t) => void (t && JSON.parse(t) && n++));
  return { records: n };
}

// jq's fastest form of this grouping that we found: project each record, then group_by. (A reduce that
// updates a growing object per record is quadratic in jq 1.6, which copies the object on every update.)
const JQ = `[inputs | [(.category_hash + "\\t" + .tool_sequence_hash),
  (if .error != null then "e" elif .violation != null then "v" elif .chunk_len < 400 then "s"
   elif ([.tool_calls[].ok] | all) and ([.tool_calls[].extreme_flags[]] | length == 0) then "ok" else "fail" end),
  .question_hash]]
| group_by(.[0])
| map({k: .[0][0], n: (map(select(.[1] == "ok" or .[1] == "fail")) | length), ok: (map(select(.[1] == "ok")) | length),
       u: (map(select(.[1] == "ok" or .[1] == "fail") | .[2]) | unique | length)})`;

const isChild = await childMain({
  pattern: () => pattern(full),
  patternQuarter: () => pattern(quarter),
  floor: () => floor(full),
});

if (!isChild) {
  const jqPath = spawnSync('sh', ['-c', 'command -v jq']).stdout.toString().trim();
  if (!jqPath) throw new Error('jq is not installed: the peer of this benchmark (apt-get install jq)');
  console.log(`generating a ${MB} MB audit log in ${DAYS} day files…`);
  await generate();
  const files = (await dayFiles(full, windowFrom('30d', NOW))).sort();
  const bytes = (await Promise.all(files.map((f) => stat(f)))).reduce((a, s) => a + s.size, 0);
  spawnSync('cat', files, { stdio: ['ignore', 'ignore', 'ignore'] }); // page cache warm for everyone
  const jq: { ms: number; rssMB: number }[] = [];
  const g7: ReturnType<typeof measure>[] = [];
  const fl: ReturnType<typeof measure>[] = [];
  let jqGroups: { k: string; n: number; ok: number; u: number }[] = [];
  for (let k = 0; k < RUNS; k++) {
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', '%M', jqPath, '-n', '-c', JQ, ...files], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(`jq failed: ${r.stderr}`);
    jq.push({ ms: performance.now() - t0, rssMB: Number(/(\d+)\s*$/.exec(r.stderr.trim())![1]) / 1024 });
    jqGroups = JSON.parse(r.stdout);
    g7.push(measure(import.meta.url, 'pattern', 1));
    fl.push(measure(import.meta.url, 'floor', 1));
  }
  const quarterRun = measure(import.meta.url, 'patternQuarter', 1);
  const med = <T extends { ms: number }>(xs: T[]) => [...xs].sort((a, b) => a.ms - b.ms)[Math.floor(xs.length / 2)]!;
  const [jqM, g7M, flM] = [med(jq), med(g7), med(fl)];
  // The same decision for every group g7 reports (candidates and near misses).
  const byKey = new Map(jqGroups.map((g) => [g.k, g]));
  const reported = (g7M.extra!.groups as { k: string; n: number; ok: number; u: number; candidate: boolean }[]);
  let agree = 0;
  for (const g of reported) {
    const j = byKey.get(g.k);
    const jqCandidate = !!j && j.n >= 3 && j.u >= 3 && j.ok === j.n;
    if (!j || j.n !== g.n || j.ok !== g.ok || Math.min(j.u, 256) !== g.u || jqCandidate !== g.candidate) throw new Error(`jq and g7 disagree on ${g.k}: jq ${JSON.stringify(j)} g7 ${JSON.stringify(g)}`);
    agree++;
  }
  const jqCandidates = jqGroups.filter((j) => j.n >= 3 && j.u >= 3 && j.ok === j.n).length;
  if (jqCandidates !== g7M.extra!.candidates) throw new Error(`jq finds ${jqCandidates} candidates, g7 ${String(g7M.extra!.candidates)}`);
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const kept = (m: { extra?: Record<string, unknown> }) => Number(m.extra!.keptMB).toFixed(1);
  console.log(`\naudit log: ${(bytes / 2 ** 20).toFixed(0)} MiB, ${String(g7M.extra!.records)} records in ${files.length} files, ${jqGroups.length} groups; page cache warm; median of ${RUNS}, interleaved; Node ${process.versions.node}, ${spawnSync(jqPath, ['--version']).stdout.toString().trim()}`);
  console.log(`jq and g7 agree on all ${agree} groups g7 reports and on the ${jqCandidates} candidates\n`);
  console.log(
    table(
      ['task', 'seconds', 'MB/s', 'x jq', 'peak RSS MB', 'heap kept MB'],
      [
        ['peer: jq, the same grouping (C)', s(jqM.ms), (bytes / 1e6 / (jqM.ms / 1000)).toFixed(0), '1.00', jqM.rssMB.toFixed(0), '-'],
        ['floor: read + JSON.parse every line (same reader)', s(flM.ms), (bytes / 1e6 / (flM.ms / 1000)).toFixed(0), (jqM.ms / flM.ms).toFixed(2), flM.rssMB.toFixed(0), '-'],
        ['g7 coreloop pattern (whole log)', s(g7M.ms), (bytes / 1e6 / (g7M.ms / 1000)).toFixed(0), (jqM.ms / g7M.ms).toFixed(2), g7M.rssMB.toFixed(0), kept(g7M)],
        ['g7 coreloop pattern (a quarter of the log)', s(quarterRun.ms), '-', '-', quarterRun.rssMB.toFixed(0), kept(quarterRun)],
      ],
    ),
  );
  console.log(`\ngoal: ≥ 3x faster than jq — ${jqM.ms / g7M.ms >= 3 ? 'met' : 'NOT met'}; at 4x the log, peak RSS ${(g7M.rssMB / quarterRun.rssMB).toFixed(2)}x and heap kept ${(Number(g7M.extra!.keptMB) / Number(quarterRun.extra!.keptMB)).toFixed(2)}x`);
}
