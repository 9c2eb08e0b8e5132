import { describe, expect, it } from 'vitest';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { appendBullet, checkShape, loadSkill, parseTarget, removeBullet, skillPromptText, staticChecks, SkillError, type SkillDoc } from '../../src/coreloop/skill/doc.js';
import type { Bullet } from '../../src/coreloop/skill/bullets.js';

const FIX = path.join(import.meta.dirname, 'fixtures');

async function load(spec: string, bytes?: Buffer): Promise<{ doc: SkillDoc; bytes: Buffer }> {
  const target = parseTarget(spec);
  const b = bytes ?? (await readFile(path.join(FIX, `${target.file}.txt`)));
  return { doc: await loadSkill(target, b), bytes: b };
}

function bullet(id: string, text: string): Bullet {
  return { id, text, provenance: { candidate: 'cand-2026-11-21-001', records: ['3f2a9c1d00', '8e7b6a5f00', '1c2d3e4f00', 'aa'], recordsTotal: 5, model: 'gemini-2.5-flash', date: '2026-11-21' } };
}

/** The file's bytes outside [from, to) of the original equal the edited file's bytes outside the same span. */
function outsideIdentical(before: Buffer, after: Buffer, doc: SkillDoc): void {
  const head = Buffer.from(doc.text.slice(0, doc.at.region.start), 'utf8');
  const tail = Buffer.from(doc.text.slice(doc.at.region.end), 'utf8');
  expect(after.subarray(0, head.length).equals(before.subarray(0, head.length))).toBe(true);
  expect(after.subarray(after.length - tail.length).equals(before.subarray(before.length - tail.length))).toBe(true);
}

describe('skill docstrings: Python (tree-sitter)', () => {
  it('finds a decorated function\'s docstring in a BOM + CRLF file and reads its nine sections', async () => {
    const { doc } = await load('strike_engine.py::evaluate');
    expect(skillPromptText(doc)).toMatch(/^Evaluate one strike item against the sensor checklist\.\n\nWhen:\n    A STRIKE card/);
    expect(doc.at.sections.filter((s) => s.known).map((s) => s.name)).toEqual(['Summary', 'When', 'How', 'Args', 'Returns', 'Guide', 'Caveats', 'Verified', 'Examples']);
    expect(checkShape(doc)).toEqual([]);
  });

  it('appends a Guide bullet: only docstring bytes change, CRLF and BOM kept, it parses, a second append changes nothing', async () => {
    const { doc, bytes } = await load('strike_engine.py::evaluate');
    const r = await appendBullet(doc, 'Guide', bullet('G-0123abcd', 'Quote the sensor\'s sentence; a path like C:\\data stays "as is".'));
    if (!r.changed) throw new Error('expected a change');
    outsideIdentical(bytes, r.bytes, doc);
    expect(r.bytes.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf]))).toBe(true);
    const text = r.bytes.toString('utf8');
    expect(text.replace(/\r\n/g, '')).not.toContain('\n'); // every line end is still CRLF
    expect(text).toContain('    Guide:\r\n        - Quote the sensor\'s sentence; a path like C:\\\\data stays "as is".\r\n          [g7 G-0123abcd | cand-2026-11-21-001 | rec 3f2a9c1d,8e7b6a5f,1c2d3e4f +2 | gemini-2.5-flash | 2026-11-21]\r\n    Caveats:');
    expect(await staticChecks(doc, r.doc, (d) => appendBullet(d, 'Guide', bullet('G-0123abcd', 'x')))).toEqual([]);
    expect((await appendBullet(r.doc, 'Guide', bullet('G-0123abcd', 'Quote'))).changed).toBe(false);
    expect(checkShape(r.doc)).toEqual([]);
  });

  it('edits a raw docstring of a method in a nested class, keeping backslashes verbatim and the existing bullet', async () => {
    const { doc, bytes } = await load('strike_engine.py::Engine.Sensors.check');
    const r = await appendBullet(doc, 'Caveats', bullet('C-00ff00ff', 'Patterns like \\d{4} match years too.'));
    if (!r.changed) throw new Error('expected a change');
    outsideIdentical(bytes, r.bytes, doc);
    const text = r.bytes.toString('utf8');
    expect(text).toContain('            Caveats:\r\n                - Patterns like \\d{4} match years too.\r\n');
    expect(text).toContain('                - Existing bullet.\r\n            Caveats:');
    await expect(appendBullet(doc, 'Caveats', bullet('C-00ff00fe', 'never write """ here'))).rejects.toThrow(SkillError);
  });

  it('turns a one-line single-quoted docstring of an overloaded method into a triple-quoted one to add a section', async () => {
    const { doc, bytes } = await load('strike_engine.py::Engine.run');
    expect(doc.text.slice(doc.at.region.start, doc.at.region.end)).toBe("'Run the engine.'");
    const r = await appendBullet(doc, 'Guide', bullet('G-11112222', 'Pass str or int, nothing else.'));
    if (!r.changed) throw new Error('expected a change');
    outsideIdentical(bytes, r.bytes, doc);
    expect(r.bytes.toString('utf8')).toContain("        '''Run the engine.\r\n\r\n        Guide:\r\n            - Pass str or int, nothing else.\r\n              [g7 G-11112222");
    expect(await staticChecks(doc, r.doc, (d) => appendBullet(d, 'Guide', bullet('G-11112222', 'x')))).toEqual([]);
  });

  it('removing the bullet again gives back the original bytes', async () => {
    const { doc, bytes } = await load('strike_engine.py::evaluate');
    const r = await appendBullet(doc, 'Caveats', bullet('C-abcdef01', 'Sensors without a quote are unclear, not no.'));
    if (!r.changed) throw new Error('expected a change');
    const back = await removeBullet(r.doc, 'C-abcdef01');
    if (!back.changed) throw new Error('expected a removal');
    expect(back.bytes.equals(bytes)).toBe(true);
  });

  it('refuses a bullet that would push the section over its budget and says why', async () => {
    const { doc } = await load('strike_engine.py::evaluate');
    const err = await appendBullet(doc, 'Guide', bullet('G-99990000', 'x'.repeat(3100))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SkillError);
    expect((err as SkillError).problem.rule).toBe('skill.over-budget');
    expect((err as SkillError).problem.message).toMatch(/over its budget of 3000; nothing was changed/);
  });

  it('names what is wrong: no such symbol, no docstring, a shape out of order', async () => {
    await expect(load('strike_engine.py::Engine.nope')).rejects.toThrow(/no function or class "nope" in Engine/);
    await expect(load('strike_engine.py::_helper')).rejects.toThrow(/_helper has no docstring/);
    const bad = Buffer.from('def f():\n    """Sum.\n\n    How:\n    When:\n    """\n');
    const { doc } = await load('bad.py::f', bad);
    const rules = checkShape(doc).map((p) => `${p.rule}:${p.field}`);
    expect(rules).toContain('shape.order:When');
    expect(rules).toContain('shape.missing:Guide');
  });
});

describe('skill docstrings: TypeScript (ts-morph)', () => {
  it('uses the first overload\'s JSDoc block; a fenced @decorator is not a tag; the shape holds', async () => {
    const { doc } = await load('tagger.ts::tag');
    expect(skillPromptText(doc)).toMatch(/^Tag one chunk \(청크\)\.\n\n@when A TAG card\.\n/);
    expect(skillPromptText(doc)).not.toContain('*');
    expect(doc.text.slice(doc.at.region.start, doc.at.region.start + 30)).toContain('Tag one chunk (청크).');
    expect(checkShape(doc)).toEqual([]);
  });

  it('appends to a decorated class method and to an empty Caveats tag; code stays byte-identical', async () => {
    for (const [spec, section] of [['tagger.ts::tag', 'Guide'], ['tagger.ts::Tagger.run', 'Caveats']] as const) {
      const { doc, bytes } = await load(spec);
      const r = await appendBullet(doc, section, bullet('G-aaaabbbb', 'Close a comment */ never; return [] for no tags.'));
      if (!r.changed) throw new Error('expected a change');
      outsideIdentical(bytes, r.bytes, doc);
      const text = r.bytes.toString('utf8');
      expect(text).toContain(`@${section.toLowerCase()}\r\n${section === 'Guide' ? ' * ' : '   * '}- Close a comment *\\/ never`);
      expect(await staticChecks(doc, r.doc, (d) => appendBullet(d, section, bullet('G-aaaabbbb', 'x')))).toEqual([]);
    }
  });

  it('adds a Guide section to a one-line JSDoc block of an exported const', async () => {
    const { doc, bytes } = await load('tagger.ts::quick');
    const r = await appendBullet(doc, 'Guide', bullet('G-cccc0000', 'Numbers only.'));
    if (!r.changed) throw new Error('expected a change');
    outsideIdentical(bytes, r.bytes, doc);
    expect(r.bytes.toString('utf8')).toContain('/** One line only.\r\n *\r\n * @guide\r\n * - Numbers only.\r\n *   [g7 G-cccc0000');
    expect(r.bytes.toString('utf8')).toContain(' */\r\nexport const quick');
  });
});

describe('skill docstrings: Markdown', () => {
  it('the shipped skills have the nine sections; a bullet lands under ## Guide with a blank line before ## Caveats', async () => {
    for (const f of ['TAG.md', 'STRIKE.md']) {
      const bytes = await readFile(path.join(import.meta.dirname, '../../ssot/skills', f));
      const { doc } = await load(`ssot/skills/${f}`, bytes);
      expect(checkShape(doc)).toEqual([]);
      const r = await appendBullet(doc, 'Guide', bullet('G-deadbeef', 'Tag from the taxonomy only.'));
      if (!r.changed) throw new Error('expected a change');
      expect(r.bytes.toString('utf8')).toContain('## Guide\n- Tag from the taxonomy only.\n  [g7 G-deadbeef');
      expect(r.bytes.toString('utf8')).toMatch(/1c2d3e4f \+2 \| gemini-2\.5-flash \| 2026-11-21\]\n\n## Caveats/);
      const back = await removeBullet(r.doc, 'G-deadbeef');
      expect(back.changed && back.bytes.equals(bytes)).toBe(true);
    }
  });

  it('a UTF-16 file with BOM (PowerShell) is edited and written back as UTF-16 with its BOM', async () => {
    const text = '\uFEFF# 딱지\r\n\r\n## Summary\r\n청크에 딱지를 붙인다.\r\n\r\n## Guide\r\n\r\n## Caveats\r\n';
    const bytes = Buffer.from(text, 'utf16le');
    const { doc } = await load('skills/딱지.md', bytes);
    expect(doc.encoding).toBe('utf-16le');
    const r = await appendBullet(doc, 'Guide', bullet('G-12121212', '태그는 분류표의 이름만 쓴다.'));
    if (!r.changed) throw new Error('expected a change');
    expect(r.bytes.subarray(0, 2).equals(Buffer.from([0xff, 0xfe]))).toBe(true);
    expect(r.bytes.toString('utf16le')).toContain('## Guide\r\n- 태그는 분류표의 이름만 쓴다.\r\n  [g7 G-12121212');
    const back = await removeBullet(r.doc, 'G-12121212');
    expect(back.changed && back.bytes.equals(bytes)).toBe(true);
  });
});

describe('a NumPy docstring with a doctest', () => {
  const SRC = [
    'def double(x):',
    '    """Double a number.',
    '',
    '    Parameters',
    '    ----------',
    '    x : int',
    '',
    '    Examples',
    '    --------',
    '    >>> double(2)',
    '    4',
    '    """',
    '    return 2 * x',
    '',
  ].join('\n');

  it('gets its Guide before the Examples, so the doctest still passes', async () => {
    const bytes = Buffer.from(SRC);
    const doc = await loadSkill(parseTarget('calc.py::double'), bytes);
    const r = await appendBullet(doc, 'Guide', bullet('G-dddd0000', 'Keep x an int.'));
    if (!r.changed) throw new Error('expected a change');
    const text = r.bytes.toString('utf8');
    expect(text.indexOf('    Guide:')).toBeGreaterThan(0);
    expect(text.indexOf('    Guide:')).toBeLessThan(text.indexOf('    Examples'));
    expect(text).toContain('    >>> double(2)\n    4\n    """');
    const dir = await mkdtemp(path.join(tmpdir(), 'g7-doctest-'));
    await writeFile(path.join(dir, 'calc.py'), r.bytes);
    const run = spawnSync('python3', ['-m', 'doctest', '-v', 'calc.py'], { cwd: dir, encoding: 'utf8' });
    if (run.error) return; // no Python here: the order above is what matters
    expect(run.status, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toMatch(/1 passed and 0 failed/);
  });
});
