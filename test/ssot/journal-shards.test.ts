// The journal is kept per backlog day and read through one module: a day's read opens that day's files
// only, a file that only grew is read from where it was, an older single-file journal is read as it is and
// split into day files by the first append (nothing lost, the old file gone), and files roll over.
import { describe, expect, it } from 'vitest';
import { appendFile, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { layoutFor } from '../../src/ssot/layout.js';
import { appendJournal, readDay, readJournalDay, readJournalWindow, readRunResults, readTruckProgress } from '../../src/ssot/journal.js';
import { appendRolling, countLines, countRollingLines, rollingParts } from '../../src/ssot/rolling.js';
import type { JournalEvent } from '../../src/contracts/types.gen.js';

async function fresh() {
  const root = await mkdtemp(path.join(tmpdir(), 'g7-journal-'));
  const layout = layoutFor(path.join(root, 'ssot'));
  await mkdir(layout.stateDir, { recursive: true });
  return layout;
}

const result = (day: string, card: string, run: string, ts: string, status: 'PASS' | 'FAIL' = 'PASS'): JournalEvent => ({ ts, event: 'card_result', day, card, run, truck: 'A', status });
const line = (e: JournalEvent) => JSON.stringify(e) + '\n';

describe('journal: one file per backlog day', () => {
  it('appends go to the file of their day, and a day is read from its own file alone', async () => {
    const layout = await fresh();
    await appendJournal(layout, [result('20261120', 'C1', 'run_0001', '2026-11-20T22:00:00Z'), result('20261121', 'C2', 'run_0002', '2026-11-21T22:00:00Z')]);
    expect((await readdir(layout.journalDir)).sort()).toEqual(['20261120.jsonl', '20261121.jsonl']);
    // Garbage in another day's file is never opened by a read of this day.
    await writeFile(path.join(layout.journalDir, '20261120.jsonl'), 'not json\nnot json either\n');
    expect([...(await readDay(layout, '20261121')).outcomes.keys()]).toEqual(['C2']);
    expect([...(await readRunResults(layout, 'run_0002', '20261121')).keys()]).toEqual(['C2']);
    await expect(readDay(layout, '20261120')).rejects.toThrow(/20261120\.jsonl:1: this line is not valid JSON/);
  });

  it('a file that grew is read on from where it was; one rewritten is read again whole', async () => {
    const layout = await fresh();
    await appendJournal(layout, [result('20261121', 'C1', 'run_0001', '2026-11-21T01:00:00Z')]);
    expect((await readDay(layout, '20261121')).outcomes.get('C1')?.status).toBe('PASS');
    const file = path.join(layout.journalDir, '20261121.jsonl');
    await appendFile(file, line(result('20261121', 'C2', 'run_0001', '2026-11-21T02:00:00Z')));
    expect([...(await readDay(layout, '20261121')).outcomes.keys()]).toEqual(['C1', 'C2']);
    // The same size, other bytes: not a file that grew.
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('"PASS"', '"FAIL"'));
    expect((await readDay(layout, '20261121')).outcomes.get('C1')?.status).toBe('FAIL');
    // A torn tail is not an event; once the line is completed, it is one (and line numbers still count).
    const torn = line(result('20261121', 'C3', 'run_0001', '2026-11-21T03:00:00Z'));
    await appendFile(file, torn.slice(0, 30));
    expect((await readDay(layout, '20261121')).outcomes.has('C3')).toBe(false);
    await appendFile(file, torn.slice(30));
    expect((await readDay(layout, '20261121')).outcomes.has('C3')).toBe(true);
    await appendFile(file, 'garbage\n' + line(result('20261121', 'C4', 'run_0001', '2026-11-21T04:00:00Z')));
    await expect(readDay(layout, '20261121')).rejects.toThrow(/20261121\.jsonl:4: this line is not valid JSON/);
  });

  it('the next writer cuts a torn tail before it appends', async () => {
    const layout = await fresh();
    await appendJournal(layout, [result('20261121', 'C1', 'run_0001', '2026-11-21T01:00:00Z')]);
    const file = path.join(layout.journalDir, '20261121.jsonl');
    await appendFile(file, '{"ts":"2026-11-21T0');
    await appendJournal({ ...layout }, [result('20261121', 'C2', 'run_0001', '2026-11-21T02:00:00Z')]);
    // The torn bytes are gone, not glued to the next line.
    const lines = (await readFile(file, 'utf8')).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.slice(0, 2).map((l) => JSON.parse(l).card)).toEqual(['C1', 'C2']);
  });

  it('views of a day: truck progress, a window', async () => {
    const layout = await fresh();
    await appendJournal(layout, [
      { ts: '2026-11-19T22:00:00Z', event: 'run_start', day: '20261119', run: 'run_0001', truck: 'A', round: 1 },
      { ts: '2026-11-19T23:00:00Z', event: 'run_stop', day: '20261119', run: 'run_0001', truck: 'A', round: 1, state: 'READY' },
      { ts: '2026-11-21T22:00:00Z', event: 'run_start', day: '20261121', run: 'run_0002', truck: 'A', round: 1 },
    ]);
    expect([...(await readTruckProgress(layout, '20261121')).entries()]).toEqual([['20261121/1/A', { runs: ['run_0002'], finished: false }]]);
    // A day whose last line is older than the window is not opened.
    await appendFile(path.join(layout.journalDir, '20261119.jsonl'), 'x'.repeat(10) + '\n' + line({ ts: '2026-11-19T23:30:00Z', event: 'resume', day: '20261119', state: 'READY' }));
    const seen: string[] = [];
    await readJournalWindow(layout, '2026-11-21T00:00:00Z', '2026-11-22T00:00:00Z', (e) => seen.push(e.run ?? ''));
    expect(seen).toEqual(['run_0002']);
  });
});

describe('journal: the single file of an older g7', () => {
  const legacyLines = [
    result('20261120', 'C1', 'run_0001', '2026-11-20T22:00:00Z'),
    result('20261121', 'C2', 'run_0002', '2026-11-21T22:00:00Z'),
    result('20261120', 'C3', 'run_0001', '2026-11-20T22:30:00Z', 'FAIL'),
  ];

  it('is read as it is, then split into day files by the first append, which removes it', async () => {
    const layout = await fresh();
    const legacy = path.join(layout.stateDir, 'journal.jsonl');
    await writeFile(legacy, legacyLines.map(line).join('') + '{"ts":"torn');
    expect([...(await readDay(layout, '20261120')).outcomes.keys()]).toEqual(['C1', 'C3']);
    await appendJournal(layout, [result('20261121', 'C4', 'run_0003', '2026-11-22T22:00:00Z')]);
    await expect(readFile(legacy)).rejects.toThrow(/ENOENT/);
    expect(await readFile(path.join(layout.journalDir, '20261120.jsonl'), 'utf8')).toBe(line(legacyLines[0]!) + line(legacyLines[2]!));
    expect(await readFile(path.join(layout.journalDir, '20261121.jsonl'), 'utf8')).toBe(line(legacyLines[1]!) + line(result('20261121', 'C4', 'run_0003', '2026-11-22T22:00:00Z')));
    expect((await readdir(layout.stateDir)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('a split interrupted after its rename finishes; day files that differ from the old file are refused', async () => {
    const layout = await fresh();
    const legacy = path.join(layout.stateDir, 'journal.jsonl');
    await writeFile(legacy, legacyLines.map(line).join(''));
    await mkdir(layout.journalDir, { recursive: true });
    await writeFile(path.join(layout.journalDir, '20261120.jsonl'), line(legacyLines[0]!) + line(legacyLines[2]!));
    await writeFile(path.join(layout.journalDir, '20261121.jsonl'), line(legacyLines[1]!));
    await appendJournal(layout, [result('20261121', 'C4', 'run_0003', '2026-11-22T22:00:00Z')]);
    await expect(readFile(legacy)).rejects.toThrow(/ENOENT/);
    expect([...(await readDay(layout, '20261121')).outcomes.keys()]).toEqual(['C2', 'C4']);

    await writeFile(legacy, legacyLines.map(line).join(''));
    await expect(appendJournal(layout, [result('20261121', 'C5', 'run_0003', '2026-11-22T23:00:00Z')])).rejects.toThrow(/both this old journal/);
    expect(await readFile(legacy, 'utf8')).toBe(legacyLines.map(line).join(''));
    expect([...(await readDay(layout, '20261121')).outcomes.keys()]).toEqual(['C2']); // the old file is the journal while it exists
  });
});

describe('rolling files', () => {
  it('roll over at the line limit; the parts read in order as one file; counting reads only what was added', async () => {
    const layout = await fresh();
    const base = path.join(layout.stateDir, 'list.jsonl');
    await appendRolling(base, ['1', '2'], { max: 3 });
    await appendRolling(base, ['3', '4', '5', '6', '7'], { max: 3 });
    expect((await rollingParts(base)).map((p) => path.basename(p))).toEqual(['list.jsonl', 'list.2.jsonl', 'list.3.jsonl']);
    expect(await readFile(path.join(layout.stateDir, 'list.2.jsonl'), 'utf8')).toBe('4\n5\n6\n');
    expect(await countRollingLines(base)).toBe(7);
    await appendFile(path.join(layout.stateDir, 'list.3.jsonl'), '8\n9');
    expect(await countLines(path.join(layout.stateDir, 'list.3.jsonl'))).toBe(3);
    await writeFile(path.join(layout.stateDir, 'list.3.jsonl'), '7\n');
    expect(await countLines(path.join(layout.stateDir, 'list.3.jsonl'))).toBe(1);
  });

  it('a journal day rolls over too, and its events stay in order across its parts', async () => {
    const layout = await fresh();
    const base = path.join(layout.journalDir, '20261121.jsonl');
    await appendRolling(base, [1, 2, 3].map((n) => JSON.stringify(result('20261121', `C${n}`, 'run_0001', `2026-11-21T0${n}:00:00Z`))), { max: 2 });
    const at: [string, number][] = [];
    await readJournalDay(layout, '20261121', (e, n) => at.push([e.card!, n]));
    expect(at).toEqual([['C1', 1], ['C2', 2], ['C3', 3]]);
  });
});
