// Files written on Windows must be read exactly like their UTF-8/LF twins.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeText, sniffEncoding } from '../../src/ssot/text.js';
import { readJsonl } from '../../src/ssot/jsonl.js';
import { checkFile } from '../../src/plan/check.js';
import { card, jsonl, tempRepo } from '../helpers.js';

const PLAN = `date: 2026-11-21
goal: 공시 라이브러리 스캔 — scan the disclosures
entries:
  - name: scan
    lane: 1
    prio: A
    type: SCAN
    each: { glob: "**/*.md", per_card: 2 }
    output: ssot/library_index/scan/{n}.jsonl
    accept: lines>=1:{output}
`;

function utf16(text: string, endian: 'le' | 'be', bom = true): Buffer {
  const le = Buffer.from(text, 'utf16le');
  const body = endian === 'le' ? le : Buffer.from(le).swap16();
  const mark = endian === 'le' ? [0xff, 0xfe] : [0xfe, 0xff];
  return Buffer.concat([bom ? Buffer.from(mark) : Buffer.alloc(0), body]);
}

const VARIANTS: [string, (t: string) => Buffer][] = [
  ['UTF-8', (t) => Buffer.from(t)],
  ['UTF-8 with BOM', (t) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t)])],
  ['UTF-8 with CRLF', (t) => Buffer.from(t.replace(/\n/g, '\r\n'))],
  ['UTF-8 with BOM and CRLF (PowerShell)', (t) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(t.replace(/\n/g, '\r\n'))])],
  ['UTF-16 LE with BOM', (t) => utf16(t, 'le')],
  ['UTF-16 LE with BOM and CRLF', (t) => utf16(t.replace(/\n/g, '\r\n'), 'le')],
  ['UTF-16 BE with BOM', (t) => utf16(t, 'be')],
  ['UTF-16 LE without BOM', (t) => utf16(t, 'le', false)],
];

describe('text decoding', () => {
  it.each(VARIANTS)('%s decodes to the same text', (_name, encode) => {
    expect(decodeText(encode(PLAN), 'p.yaml')).toBe(PLAN);
  });

  it('sniffs the encoding from the BOM', () => {
    expect(sniffEncoding(Buffer.from([0xff, 0xfe, 0x41, 0]))).toEqual({ encoding: 'utf-16le', bomLength: 2 });
    expect(sniffEncoding(Buffer.from([0xfe, 0xff, 0, 0x41]))).toEqual({ encoding: 'utf-16be', bomLength: 2 });
    expect(sniffEncoding(Buffer.from('abc'))).toEqual({ encoding: 'utf-8', bomLength: 0 });
  });
});

describe('day plans and backlogs in every encoding, with Korean file names', () => {
  it.each(VARIANTS)('a day plan saved as %s compiles to the byte-identical backlog', async (_name, encode) => {
    const repo = await tempRepo();
    await repo.write('ssot/factory.yaml', 'library: { root: 자료실 }\n');
    await repo.write('자료실/공시/삼성-분기.md', '# 분기보고서\n매출 증가\n');
    await repo.write('자료실/공시/개집-감사.md', '# 감사\n한정의견\n');
    await repo.write('자료실/english.md', 'plain\n');
    const ref = await tempRepo();
    await ref.write('ssot/factory.yaml', 'library: { root: 자료실 }\n');
    await ref.write('자료실/공시/삼성-분기.md', 'x');
    await ref.write('자료실/공시/개집-감사.md', 'x');
    await ref.write('자료실/english.md', 'x');

    const planFile = await repo.write('ssot/plans/일일계획_20261121.yaml', encode(PLAN));
    const refPlan = await ref.write('ssot/plans/dayplan_20261121.yaml', PLAN);
    expect((await repo.g7('plan', 'compile', planFile)).code).toBe(0);
    expect((await ref.g7('plan', 'compile', refPlan)).code).toBe(0);
    const got = await readFile(path.join(repo.ssot, 'backlog/backlog_20261121.jsonl'));
    const want = await readFile(path.join(ref.ssot, 'backlog/backlog_20261121.jsonl'));
    expect(got.equals(want)).toBe(true);
    expect(got.toString()).toContain('"input":["english.md","공시/개집-감사.md"]');
  });

  it.each(VARIANTS)('a backlog saved as %s reads every card', async (_name, encode) => {
    const repo = await tempRepo();
    const rows = [card('L1_SCAN_000001', 'A', [], { input: '개집001.md' }), card('L1_SCAN_000002', 'B', ['L1_SCAN_000001'])];
    const file = await repo.write('ssot/backlog/backlog_20261121.jsonl', encode(jsonl(rows)));
    const seen: unknown[] = [];
    const r = await readJsonl(file, (v) => {
      seen.push(v);
    });
    expect(r.problems.size).toBe(0);
    expect(seen).toEqual(rows);
    expect((await checkFile(file, repo.layout, (p) => p)).ok).toBe(true);
  });

  it('reads a work pack with a Korean file name, saved by PowerShell (UTF-8 BOM, CRLF)', async () => {
    const repo = await tempRepo();
    const pack = { id: '개집001', goal: '목표', files: { create: ['출력/결과.txt'], modify: [] }, forbidden: [], success: ['s'], evidence: ['e'] };
    const text = JSON.stringify(pack, null, 2).replace(/\n/g, '\r\n');
    const file = await repo.write('ssot/backlog/packs/개집001.json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    const r = await checkFile(file, repo.layout, (p) => p);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
  });
});
