// What the product and `npm run night` print is for its users: no references to this project's tracker
// ("issue 9 item 4", a helper's name) in any string they can print. Comments may keep them.
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { REPO } from '../helpers.js';

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile() && /\.(ts|mjs)$/.test(e.name) && !e.name.endsWith('.gen.ts')) out.push(path.join(e.parentPath, e.name));
  return out;
}

describe('printed wording', () => {
  it('names no tracker issue in a string of src/, scripts/ or test/night/', async () => {
    const found: string[] = [];
    for (const dir of ['src', 'scripts', 'test/night'])
      for (const f of await files(path.join(REPO, dir))) {
        (await readFile(f, 'utf8')).split('\n').forEach((line, i) => {
          if (/^\s*(\/\/|\*|\/\*)/.test(line)) return; // a comment
          const code = line.replace(/\s\/\/ .*$/, '');
          if (/['"`][^'"`]*\b(issue \d+|helper ")/i.test(code)) found.push(`${path.relative(REPO, f)}:${i + 1}: ${line.trim()}`);
        });
      }
    expect(found).toEqual([]);
  });
});
