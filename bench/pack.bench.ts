// `g7 pack` of a 1,000,000-card backlog, as a user runs it (the whole `g7` process), against the floor of
// reading and JSON-parsing every line with the same streaming reader in a bare Node process, and against
// `jq empty` (a C parser that only parses). g7 does strictly more than the floor: the same read and parse,
// plus the sha256 of the file, and on a first pack schema validation, rule parsing, path checks, duplicate
// ids, unknown deps and cycles; then packing both trucks and writing them atomically. All interleaved.
import { mkdir, rm, stat } from 'node:fs/promises';
import { createWriteStream, rmSync } from 'node:fs';
import path from 'node:path';
import { forEachLine } from '../src/ssot/jsonl.js';
import { layoutFor, backlogFile } from '../src/ssot/layout.js';
import { checkedStampFile } from '../src/truck/packets.js';
import { childMain, interleave, machine, ratio, selfTask, spread, table, fmt, have, RUNS, FULL, type Cmd } from './harness.js';

const N = Number(process.env.G7_BENCH_CARDS ?? (FULL ? 2_000_000 : 1_000_000));
const root = path.resolve('bench/.data/pack');
const layout = layoutFor(path.join(root, 'ssot'));
const DAY = '20261121';
const file = backlogFile(layout, DAY);

async function generate(): Promise<void> {
  await rm(root, { recursive: true, force: true });
  await mkdir(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  const prios = ['A', 'A', 'B', 'B', 'C', 'D'] as const;
  const types = { A: 'SCAN', B: 'TAG', C: 'STRIKE', D: 'TRIAGE' } as const;
  const lanes = { A: 1, B: 2, C: 3, D: 4 } as const;
  const counters = { A: 0, B: 0, C: 0, D: 0 };
  for (let i = 0; i < N; i++) {
    const prio = prios[i % prios.length]!;
    const n = ++counters[prio];
    const id = `L${lanes[prio]}_${types[prio]}_${String(n).padStart(6, '0')}`;
    // TAG n waits for SCAN n, like the example plan's each-to-each entries.
    const deps = prio === 'B' && n <= counters.A ? [`L1_SCAN_${String(n).padStart(6, '0')}`] : [];
    const output = `ssot/library_index/${types[prio].toLowerCase()}/${n}.jsonl`;
    const line = JSON.stringify({ id, lane: lanes[prio], prio, type: types[prio], input: `ssot/library_index/scan/${n}.jsonl`, output, accept: `lines>=1:${output}`, failfast: 'cost>0.20', cost_hint: 'LOW', deps });
    if (!out.write(line + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r, j) => out.end((e?: Error) => (e ? j(e) : r())));
}

const isChild = await childMain({
  async floor() {
    let n = 0;
    await forEachLine(file, (text) => {
      if (JSON.parse(text)) n++;
    });
    return { cards: n };
  },
});

if (!isChild) {
  if (N > 999_999 * 4) throw new Error('too many cards for the id space of this generator');
  process.stderr.write(`generating a backlog of ${N.toLocaleString('en')} cards…\n`);
  await generate();
  const bytes = (await stat(file)).size;
  const g7 = (name: string, before?: () => void): Cmd => ({ name, argv: [process.execPath, path.resolve('bin/g7.mjs'), '--ssot', layout.ssotDir, '--json', 'pack', '--day', DAY], ...(before ? { before } : {}) });
  const cmds: Cmd[] = [
    selfTask(import.meta.url, 'floor', 'floor'),
    g7('first', () => rmSync(checkedStampFile(layout, DAY), { force: true })),
    g7('again'),
  ];
  if (have('jq')) cmds.push({ name: 'jq', argv: ['jq', 'empty', file] });
  process.stderr.write(`${RUNS} interleaved rounds…\n`);
  const runs = interleave(cmds, RUNS);
  for (const r of [...runs.get('first')!, ...runs.get('again')!]) {
    const report = JSON.parse(r.stdout) as { trucks: Record<'A' | 'B', { cards: number }> };
    if (report.trucks.A.cards !== 120 || report.trucks.B.cards !== 120) throw new Error(`pack did not load two full trucks: ${JSON.stringify(report.trucks)}`);
  }
  const ms = (n: string) => runs.get(n)!.map((r) => r.ms);
  const floorRss = Number(fmt.mb(runs.get('floor')!));
  const row = (label: string, n: string) => [label, fmt.range(spread(ms(n)), fmt.s), fmt.range(ratio(ms(n), ms('floor')), fmt.x), fmt.mb(runs.get(n)!), Number.isNaN(floorRss) ? '-' : fmt.x(Number(fmt.mb(runs.get(n)!)) / floorRss)];
  const rows = [
    row('floor: read + JSON.parse every line (same reader, bare Node)', 'floor'),
    row('g7 pack, first time: + sha256, validate every card, ids, deps, cycles, pack, write', 'first'),
    row('g7 pack, the same backlog again (checked before): sha256 + parse + pack + write', 'again'),
  ];
  if (runs.has('jq')) rows.push(row('peer: jq empty (parse only, C)', 'jq'));
  console.log(`\nbacklog: ${N.toLocaleString('en')} cards, ${(bytes / 1e6).toFixed(0)} MB; whole processes, ${RUNS} interleaved rounds, median (min-max)\nmachine: ${machine()}\n`);
  console.log(table(['task', 'seconds', 'x floor', 'peak RSS MB', 'RSS x floor'], rows));
  const first = ratio(ms('first'), ms('floor')).med;
  const again = ratio(ms('again'), ms('floor')).med;
  const rss = Number(fmt.mb(runs.get('first')!)) / floorRss;
  console.log(`\ngoal: within 2x of the floor → first time ${fmt.x(first)}: ${first <= 2 ? 'met' : 'NOT met'}; checked before ${fmt.x(again)}: ${again <= 2 ? 'met' : 'NOT met'}`);
  if (!Number.isNaN(rss)) console.log(`goal: peak RSS within 2x of the floor's → first time ${fmt.x(rss)}: ${rss <= 2 ? 'met' : 'NOT met'}`);
}
