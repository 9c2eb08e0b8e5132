// The strike list only grows: appends are deduplicated by chunk key against every part (a fingerprint per
// key in memory, confirmed on a hit), it rolls over at 100,000 lines, and reads of `PATH#La-Lb` number its
// lines across the parts.
import { describe, expect, it } from 'vitest';
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { appendStrikes, fingerprint, forEachLineIn, sourceLines, strikeListFile } from '../../src/ssot/strike-list.js';
import { ROLL_LINES } from '../../src/ssot/rolling.js';

const strike = (key: string) => ({ key, text: JSON.stringify({ key, path: 'a.md', offset: 0, length: 1, sha256: 'x', tags: [], card: 'L2_TAG_000001' }) });
const keysIn = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l).key as string);

async function list() {
  return strikeListFile(await mkdtemp(path.join(tmpdir(), 'g7-strike-')));
}

/** Two keys whose fingerprints are equal: a fingerprint hit is not yet a duplicate. */
function collidingKeys(): [string, string] {
  const by = new Map<number, string>();
  for (let i = 0; ; i++) {
    const k = `lib/doc${i}.md#0:${i.toString(16)}`;
    const f = fingerprint(k);
    const other = by.get(f);
    if (other) return [other, k];
    by.set(f, k);
  }
}

describe('strike list', () => {
  it('appends each key once, whoever appended it before', async () => {
    const file = await list();
    expect(await appendStrikes(file, [strike('a'), strike('b'), strike('a')])).toHaveLength(2);
    expect(await appendStrikes(file, [strike('b'), strike('c')])).toHaveLength(1);
    // Another process appended a key since: read from where this one was.
    await appendFile(file, strike('d').text + '\n');
    expect(await appendStrikes(file, [strike('d'), strike('e')])).toHaveLength(1);
    expect(await keysIn(file)).toEqual(['a', 'b', 'c', 'd', 'e']);
    // Rewritten (a person cut it back): read again whole.
    await writeFile(file, strike('a').text + '\n');
    expect(await appendStrikes(file, [strike('a'), strike('b')])).toHaveLength(1);
    expect(await keysIn(file)).toEqual(['a', 'b']);
  });

  it('a key whose fingerprint is on the list but not the key itself is appended', async () => {
    const [x, y] = collidingKeys();
    const file = await list();
    await appendStrikes(file, [strike(x)]);
    expect(await appendStrikes(file, [strike(y), strike(x)])).toEqual([strike(y).text]);
  });

  it('a torn tail left by a killed append is cut before the next append', async () => {
    const file = await list();
    await appendStrikes(file, [strike('a')]);
    await appendFile(file, '{"key":"b","pa');
    await appendStrikes(file, [strike('b')]);
    expect(await keysIn(file)).toEqual(['a', 'b']);
  });

  it('rolls over at 100,000 lines; counts and ranges run on across the parts', async () => {
    const file = await list();
    await writeFile(file, Array.from({ length: ROLL_LINES - 1 }, (_, i) => strike(`k${i}`).text + '\n').join(''));
    expect(await appendStrikes(file, [strike('k5'), strike('n1'), strike('n2'), strike('n3')])).toHaveLength(3);
    expect(await keysIn(file)).toHaveLength(ROLL_LINES);
    expect(await keysIn(file.replace(/\.jsonl$/, '.2.jsonl'))).toEqual(['n2', 'n3']);
    expect(await sourceLines(file)).toBe(ROLL_LINES + 2);
    const got: [string, number][] = [];
    await forEachLineIn(file, ROLL_LINES - 1, ROLL_LINES + 1, (t, n) => got.push([JSON.parse(t).key, n]));
    expect(got).toEqual([['k99998', ROLL_LINES - 1], ['n1', ROLL_LINES], ['n2', ROLL_LINES + 1]]);
    // A key in the first part still counts as on the list.
    expect(await appendStrikes(file, [strike('k0'), strike('n3')])).toHaveLength(0);
  });
});
