// The journal is the record of what was done: a line g7 cannot read must stop it with file:line, never be
// skipped (that would forget a result and run, and pay for, its card again). Only a torn last line (an
// append cut by a crash: no newline, not JSON) is the writer's to cut.
import { describe, expect, it } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process } from '../factory/fixture.js';

const cards = Array.from({ length: 4 }, (_, i) => ({ id: `L3_TEST_00000${i + 1}`, prio: 'B' as const, input: `printf ok-${i + 1}`, output: `ssot/out/t${i + 1}.txt`, accept: 'exit==0' }));

async function ranOnce() {
  const f = await factory(cards);
  const first = await g7Process(f.root, ['run']);
  expect(first.code, first.err).toBe(0);
  const file = path.join(f.ssot, 'state', 'journal', '20261121.jsonl');
  const lines = (await readFile(file, 'utf8')).split('\n').slice(0, -1);
  return { f, file, lines };
}

describe('journal: bad lines', () => {
  it('a broken card_result line in the middle stops run and status with file:line, and runs nothing again', { timeout: 60_000 }, async () => {
    const { f, file, lines } = await ranOnce();
    const at = lines.findIndex((l) => l.includes('"card_result"'));
    lines[at] = lines[at]!.slice(0, 40) + '}}';
    await writeFile(file, lines.join('\n') + '\n');
    const before = await readFile(file, 'utf8');
    const run = await g7Process(f.root, ['run']);
    expect(run.code).toBe(3);
    expect(run.err).toContain(`ssot/state/journal/20261121.jsonl:${at + 1}`);
    expect(run.err).toMatch(/not valid JSON/);
    expect(run.err).toMatch(/restore the line from git/);
    expect(run.err + run.out).not.toMatch(/L3_TEST_00000\d (passed|attempt)/);
    expect(await readFile(file, 'utf8')).toBe(before); // not "repaired", not appended to
    const status = await g7Process(f.root, ['status']);
    expect(status.code).toBe(3);
    expect(status.err).toContain(`ssot/state/journal/20261121.jsonl:${at + 1}`);
    // Said once, with its fix once.
    for (const said of [run.err, status.err]) expect(said.match(/restore the line from git/g), said).toHaveLength(1);
  });

  it('a garbage line appended at the end (with its newline) stops too; a torn last line does not', { timeout: 60_000 }, async () => {
    const { f, file, lines } = await ranOnce();
    await writeFile(file, lines.join('\n') + '\nnot json at all\n');
    const run = await g7Process(f.root, ['run']);
    expect(run.code).toBe(3);
    expect(run.err).toContain(`ssot/state/journal/20261121.jsonl:${lines.length + 1}`);
    // The same bytes without the newline are a torn append: cut on the next start, the run goes on.
    await writeFile(file, lines.join('\n') + '\n{"ts":"2026-11-21T0');
    const again = await g7Process(f.root, ['run']);
    expect(again.code, again.err).toBe(0);
    expect(again.err + again.out).toMatch(/torn/);
    expect(await readFile(file, 'utf8')).not.toContain('{"ts":"2026-11-21T0');
  });

  it('a line that parses but is not a journal event names the field', { timeout: 60_000 }, async () => {
    const { f, file, lines } = await ranOnce();
    const at = lines.findIndex((l) => l.includes('"card_result"'));
    lines[at] = lines[at]!.replace('"event":"card_result"', '"event":"card_resutl"');
    await writeFile(file, lines.join('\n') + '\n');
    const status = await g7Process(f.root, ['status']);
    expect(status.code).toBe(3);
    expect(status.err).toContain(`ssot/state/journal/20261121.jsonl:${at + 1}`);
    expect(status.err).toMatch(/event/);
  });

  it('status, run and morning read the days they work on: a broken old day file is never opened', { timeout: 60_000 }, async () => {
    const { f } = await ranOnce();
    // An old day of history whose middle line is garbage (its last line is a valid, old event).
    const old = (ts: string) => JSON.stringify({ ts, event: 'resume', day: '20261001', state: 'READY' });
    await writeFile(path.join(f.ssot, 'state', 'journal', '20261001.jsonl'), `${old('2026-10-01T01:00:00Z')}\nnot json\n${old('2026-10-01T02:00:00Z')}\n`);
    const status = await g7Process(f.root, ['status']);
    expect(status.code, status.err).toBe(0);
    expect(status.err + status.out).not.toMatch(/20261001/);
    const run = await g7Process(f.root, ['run']);
    expect(run.code, run.err).toBe(0);
    expect(run.err + run.out).not.toMatch(/20261001/);
    const morning = await g7Process(f.root, ['morning', '--since', '2026-11-01T00:00:00Z']);
    expect(morning.code, morning.err).toBe(0);
    expect(morning.err + morning.out).not.toMatch(/20261001/);
    // The same file is the journal of its day: a read of that day stops at the broken line.
    const since = await g7Process(f.root, ['morning', '--since', '2026-09-30T00:00:00Z']);
    expect(since.code).toBe(3);
    expect(since.err).toContain('ssot/state/journal/20261001.jsonl:2');
  });
});
