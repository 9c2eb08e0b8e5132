// Packing a 1,000,000-card backlog, against the floor of merely reading and JSON-parsing it line by line.
// g7 pack does strictly more than the floor: the same read and parse, plus schema validation, rule parsing,
// path checks, duplicate/unknown-dep/cycle checks, packing both trucks and writing them atomically.
import { mkdir, rm, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { forEachLine } from '../src/ssot/jsonl.js';
import { layoutFor, backlogFile } from '../src/ssot/layout.js';
import { packDayFiles, checkedStampFile } from '../src/truck/packets.js';
import { childMain, measure, measureCommand, table } from './harness.js';

const N = Number(process.env.G7_BENCH_CARDS ?? 1_000_000);
const RUNS = Number(process.env.G7_BENCH_RUNS ?? 3);
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
  async packFirst() {
    // Never checked before: every card is validated, then the verdict is stamped.
    await rm(checkedStampFile(layout, DAY), { force: true });
    const report = await packDayFiles(layout, DAY, (p) => p);
    return { A: report.trucks.A.cards, B: report.trucks.B.cards };
  },
  async packAgain() {
    // The same bytes, checked before (the stamp left by packFirst): hashed and parsed, not re-validated.
    const report = await packDayFiles(layout, DAY, (p) => p);
    return { A: report.trucks.A.cards, B: report.trucks.B.cards };
  },
});

if (!isChild) {
  if (N > 99_999 * 4 * 8) throw new Error('too many cards for the id space of this generator');
  console.log(`generating a backlog of ${N.toLocaleString('en')} cards…`);
  await generate();
  const bytes = (await stat(file)).size;
  const self = import.meta.url;
  const floor = measure(self, 'floor', RUNS);
  const first = measure(self, 'packFirst', RUNS);
  const again = measure(self, 'packAgain', RUNS);
  const jq = measureCommand('jq', ['empty', file], 1);
  for (const p of [first, again]) if (p.extra?.A !== 120 || p.extra?.B !== 120) throw new Error(`pack loaded ${JSON.stringify(p.extra)}, expected two full trucks`);
  const rows: (string | number)[][] = [
    ['floor: read + JSON.parse every line (same reader)', (floor.ms / 1000).toFixed(2), '1.00', floor.rssMB.toFixed(0)],
    ['g7 pack, backlog checked before: hash + parse + pack 120+120 + write', (again.ms / 1000).toFixed(2), (again.ms / floor.ms).toFixed(2), again.rssMB.toFixed(0)],
    ['g7 pack, first time: + validate every card, ids, deps, cycles', (first.ms / 1000).toFixed(2), (first.ms / floor.ms).toFixed(2), first.rssMB.toFixed(0)],
  ];
  if (jq) rows.push(['peer: jq empty (parse only, C)', (jq.ms / 1000).toFixed(2), (jq.ms / floor.ms).toFixed(2), jq.rssMB.toFixed(0)]);
  console.log(`\nbacklog: ${N.toLocaleString('en')} cards, ${(bytes / 1e6).toFixed(0)} MB; median of ${RUNS} runs; Node ${process.versions.node}\n`);
  console.log(table(['task', 'seconds', 'x floor', 'peak RSS MB'], rows));
  console.log(`\ngoal: g7 pack within 2x of the floor → checked before: ${again.ms / floor.ms <= 2 ? 'met' : 'NOT met'}; first time: ${first.ms / floor.ms <= 2 ? 'met' : 'NOT met'}`);
}
