// Arrows point down: a module under src/ imports only from its own folder, a folder on its own level, or a
// level below. The imports are read with TypeScript's own pre-processor (static imports, re-exports, dynamic
// `import()`), not guessed by a regular expression.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { globSync } from 'tinyglobby';

/** Lowest first. Folders on one level may import each other. */
const LEVELS: string[][] = [
  ['contracts', 'host', 'ssot'],
  ['git', 'rules', 'executors', 'worker', 'truck', 'plan'],
  ['factory'],
  ['coreloop', 'forge', 'policy'],
  ['cli', 'action'],
];

/** Arrows that point up today, each with why it is still there; a new one fails the test. */
const KNOWN_UP: Record<string, string> = {
  'src/factory/deps.ts -> src/coreloop/audit.ts': 'the audit writer is moving to src/ssot/ with the store (issue 16, store)',
  'src/factory/observe.ts -> src/coreloop/audit.ts': 'the audit writer is moving to src/ssot/ with the store (issue 16, store)',
  'src/factory/card.ts -> src/coreloop/skill/doc.ts': 'a card reads its skill docstring with coreloop’s skill reader; to move below factory',
  'src/factory/card.ts -> src/coreloop/skill/bullets.ts': 'a card reads its skill docstring with coreloop’s skill reader; to move below factory',
};

const root = path.resolve(__dirname, '..');

export function levelOf(file: string): number {
  const top = file.split('/')[1]!;
  return LEVELS.findIndex((l) => l.includes(top));
}

/** `from -> to` for every import of one src/ file by another, as repository paths. */
export function importArrows(files: string[], read: (f: string) => string): { from: string; to: string }[] {
  const arrows: { from: string; to: string }[] = [];
  for (const from of files) {
    for (const ref of ts.preProcessFile(read(from), true, true).importedFiles) {
      if (!ref.fileName.startsWith('.')) continue;
      const to = path.posix.normalize(path.posix.join(path.posix.dirname(from), ref.fileName)).replace(/\.js$/, '.ts');
      if (to.startsWith('src/')) arrows.push({ from, to });
    }
  }
  return arrows;
}

export function upArrows(arrows: { from: string; to: string }[]): string[] {
  return arrows.filter((a) => a.from.split('/')[1] !== a.to.split('/')[1] && levelOf(a.to) > levelOf(a.from)).map((a) => `${a.from} -> ${a.to}`);
}

describe('layering of src/', () => {
  const files = globSync('src/**/*.ts', { cwd: root }).sort();
  const read = (f: string) => readFileSync(path.join(root, f), 'utf8');

  it('places every folder of src/ on a level', () => {
    const tops = [...new Set(files.map((f) => f.split('/')[1]!).filter((t) => !t.endsWith('.ts')))];
    expect(tops.filter((t) => levelOf(`src/${t}/x.ts`) < 0)).toEqual([]);
  });

  it('has no import arrow pointing up beyond the listed ones', () => {
    const arrows = importArrows(files, read);
    expect(arrows.length).toBeGreaterThan(100); // the reader found the imports at all
    expect(upArrows(arrows).filter((a) => !(a in KNOWN_UP))).toEqual([]);
  });

  it('sees an arrow pointing up, static, re-exported or dynamic', () => {
    const src: Record<string, string> = {
      'src/ssot/a.ts': "import { x } from '../factory/run.js';\nexport { y } from '../cli/main.js';\nconst z = await import('../coreloop/audit.js');\n",
      'src/factory/b.ts': "import { x } from '../ssot/a.js';\nimport { y } from './c.js';\n",
    };
    expect(upArrows(importArrows(Object.keys(src), (f) => src[f]!))).toEqual(['src/ssot/a.ts -> src/factory/run.ts', 'src/ssot/a.ts -> src/cli/main.ts', 'src/ssot/a.ts -> src/coreloop/audit.ts']);
  });
});
