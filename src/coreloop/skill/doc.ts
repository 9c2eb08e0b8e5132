// Skill docstrings as data: read a skill target (a Markdown file, `file.py::symbol`, `file.ts::symbol`),
// check its nine-section shape, and append or retire Guide/Caveats bullets. Every edit is an insertion or
// a removal of whole lines inside the docstring: the bytes outside it, the BOM, the encoding and the line
// ends stay as they were, and an edit that would push a section past its budget is refused, not cut.
import path from 'node:path';
import type { Problem } from '../../contracts/errors.js';
import { sniffEncoding, type TextEncodingName } from '../../ssot/text.js';
import { parseTarget, type SkillTarget } from '../../ssot/skill-target.js';
import { SECTIONS, charCount, lastContentLine, lineEnd, sectionText, type Section, type SectionName } from './lines.js';
import { LocateError, type Located } from './located.js';
import { locateMarkdown } from './markdown.js';
import { bulletIds, bulletLines, type Bullet } from './bullets.js';

export { parseTarget, type SkillTarget };

/** Characters (code points) a section may hold. Guide and Caveats grow with every promoted bullet. */
export const SECTION_BUDGET: Record<SectionName, number> = {
  Summary: 400, When: 2000, How: 2000, Args: 2000, Returns: 2000, Guide: 3000, Caveats: 3000, Verified: 2000, Examples: 2000,
};

export interface SkillDoc {
  target: SkillTarget;
  /** How the file was encoded: it is written back the same way. */
  encoding: TextEncodingName;
  /** The file's text; a BOM stays in it as U+FEFF so that offsets and bytes round-trip. */
  text: string;
  at: Located;
}

export class SkillError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.message);
    this.name = 'SkillError';
  }
}

function flavorOf(file: string): 'markdown' | 'python' | 'jsdoc' | undefined {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.md' || ext === '.markdown') return 'markdown';
  if (ext === '.py' || ext === '.pyi') return 'python';
  if (['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs'].includes(ext)) return 'jsdoc';
  return undefined;
}

export function decodeSkill(bytes: Uint8Array, shown: string): { text: string; encoding: TextEncodingName } {
  const { encoding } = sniffEncoding(bytes);
  let text: string;
  try {
    text = new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new SkillError({ file: shown, rule: 'text.encoding', message: `not valid ${encoding.toUpperCase()} text`, hint: 'save the file as UTF-8; g7 only edits files it can write back byte for byte' });
  }
  return { text, encoding };
}

export function encodeSkill(text: string, encoding: TextEncodingName): Buffer {
  if (encoding === 'utf-8') return Buffer.from(text, 'utf8');
  const le = Buffer.from(text, 'utf16le');
  return encoding === 'utf-16le' ? le : le.swap16();
}

async function locate(text: string, target: SkillTarget): Promise<Located> {
  const flavor = flavorOf(target.file);
  if (flavor === 'markdown') {
    if (target.symbol) throw new LocateError('skill.target', 'a Markdown skill is the whole file', 'drop the ::symbol part');
    return locateMarkdown(text);
  }
  if (flavor === 'python') return (await import('./python.js')).locatePython(text, target.symbol);
  if (flavor === 'jsdoc') return (await import('./jsdoc.js')).locateJsdoc(text, target.symbol, target.file);
  throw new LocateError('skill.target', `cannot hold a skill docstring: ${path.extname(target.file) || 'no extension'}`, 'a skill target is a .md file, file.py::symbol or file.ts::symbol');
}

/** Whether the file's text still parses in its language (Markdown always does). */
export async function parses(text: string, target: SkillTarget): Promise<boolean> {
  const flavor = flavorOf(target.file);
  if (flavor === 'python') return (await import('./python.js')).pythonParses(text);
  if (flavor === 'jsdoc') return (await import('./jsdoc.js')).jsdocParses(text, target.file);
  return true;
}

/** Reads a skill target from the bytes of its file. Errors are SkillErrors naming the target. */
export async function loadSkill(target: SkillTarget, bytes: Uint8Array): Promise<SkillDoc> {
  const { text, encoding } = decodeSkill(bytes, target.spec);
  if (!encodeSkill(text, encoding).equals(Buffer.from(bytes))) throw new SkillError({ file: target.spec, rule: 'text.round-trip', message: 'the file does not survive decoding and encoding unchanged', hint: 'save it as UTF-8' });
  return { target, encoding, text, at: await located(text, target) };
}

async function located(text: string, target: SkillTarget): Promise<Located> {
  try {
    return await locate(text, target);
  } catch (err) {
    if (err instanceof LocateError) throw new SkillError({ file: target.spec, line: err.line, rule: err.rule, message: err.message, hint: err.hint });
    throw err;
  }
}

function lineNo(doc: SkillDoc, lineIndex: number): number {
  const at = doc.at.lines[Math.max(0, lineIndex)]?.start ?? 0;
  let n = 1;
  for (let i = doc.text.indexOf('\n'); i !== -1 && i < at; i = doc.text.indexOf('\n', i + 1)) n++;
  return n;
}

export function sectionOf(doc: SkillDoc, name: SectionName): Section | undefined {
  return doc.at.sections.find((s) => s.name === name);
}

export function sectionChars(doc: SkillDoc, s: Section): number {
  return charCount(sectionText(doc.at.lines, s));
}

/** The nine sections, in order, each once (JSDoc: many `@param`/`@example`), Summary not empty, within budget. */
export function checkShape(doc: SkillDoc): Problem[] {
  const file = doc.target.spec;
  const out: Problem[] = [];
  const known = doc.at.sections.filter((s) => s.known);
  const multi = doc.at.flavor === 'jsdoc' ? new Set(['Args', 'Examples']) : new Set<string>();
  const seen = new Map<string, Section>();
  for (const s of known) {
    const first = seen.get(s.name);
    if (first && !(multi.has(s.name) && known[known.indexOf(s) - 1]?.name === s.name))
      out.push({ file, line: lineNo(doc, s.header), field: s.name, rule: 'shape.duplicate', message: `the ${s.name} section appears more than once`, hint: 'merge the two into one' });
    if (!first) seen.set(s.name, s);
  }
  for (const name of SECTIONS) {
    if (seen.has(name) || (name === 'Args' && doc.at.argsOptional)) continue;
    const how = doc.at.flavor === 'markdown' ? `## ${name}` : doc.at.headerText(name);
    out.push({ file, field: name, rule: 'shape.missing', message: `no ${name} section`, hint: name === 'Summary' ? 'start the docstring with a one-line summary' : `add "${how}" (it may stay empty) in its place: ${SECTIONS.join(', ')}` });
  }
  const order = [...seen.values()];
  for (let i = 1; i < order.length; i++) {
    const a = order[i - 1]!;
    const b = order[i]!;
    if (SECTIONS.indexOf(a.name as SectionName) > SECTIONS.indexOf(b.name as SectionName))
      out.push({ file, line: lineNo(doc, b.header), field: b.name, rule: 'shape.order', message: `${b.name} comes after ${a.name}`, hint: `keep the order ${SECTIONS.join(', ')}` });
  }
  const summary = seen.get('Summary');
  if (summary && sectionChars(doc, summary) === 0) out.push({ file, line: lineNo(doc, summary.header), field: 'Summary', rule: 'shape.empty-summary', message: 'the Summary is empty', hint: 'say in one line what the skill does' });
  for (const s of seen.values()) {
    const size = known.filter((k) => k.name === s.name).reduce((n, k) => n + sectionChars(doc, k), 0);
    const budget = SECTION_BUDGET[s.name as SectionName];
    if (size > budget) out.push({ file, line: lineNo(doc, s.header), field: s.name, rule: 'shape.over-budget', message: `${s.name} holds ${size} characters, over its budget of ${budget}`, hint: 'retire bullets that no longer help, or move detail into Examples of a work pack' });
  }
  return out;
}

export type EditResult = { changed: false; reason: string } | { changed: true; doc: SkillDoc; bytes: Buffer };

/**
 * Appends a bullet at the end of a section (Guide or Caveats); a missing section is added in its place.
 * Idempotent: a bullet whose id is already in the docstring changes nothing. Over budget → SkillError.
 */
export async function appendBullet(doc: SkillDoc, section: 'Guide' | 'Caveats', bullet: Bullet): Promise<EditResult> {
  if (bulletIds(doc.text.slice(doc.at.region.start, doc.at.region.end)).includes(bullet.id)) return { changed: false, reason: `${bullet.id} is already in ${doc.target.spec}` };
  if (doc.at.multiline) doc = { ...doc, text: doc.at.multiline(), at: await located(doc.at.multiline(), doc.target) };
  const at = doc.at;
  const lines: string[] = [];
  for (const l of bulletLines(bullet)) {
    const e = at.escape(l);
    if ('refused' in e) throw new SkillError({ file: doc.target.spec, field: section, rule: 'skill.cannot-write', message: e.refused, hint: 'reword the bullet' });
    lines.push(e.text);
  }
  const eol = lineEnd(doc.text, at.lines);
  const content = (ls: string[]) => ls.map((l) => eol + at.prefix.content + l).join('');
  const existing = sectionOf(doc, section);
  let insertAt: number;
  let insert: string;
  let after: number; // index of the line the insertion follows
  if (existing) {
    after = lastContentLine(at.lines, existing);
    insertAt = at.lines[after]!.end;
    insert = content(lines);
  } else {
    const header = at.prefix.header + at.headerText(section);
    const rank = SECTIONS.indexOf(section);
    const successor = at.sections.find((s) => s.known && SECTIONS.indexOf(s.name as SectionName) > rank && s.header >= 0);
    // Examples another style names (NumPy's "Examples" over dashes, a bare doctest) stay last: after them a
    // new section would end the doctest's expected output and break `python -m doctest`.
    const examples = successor ? -1 : at.lines.findIndex((l, i) => i > 0 && /^(Examples?\s*:?|>>>.*)$/.test(doc.text.slice(l.contentStart, l.end).trim()));
    if (examples > 0) {
      insertAt = at.lines[examples]!.start;
      insert = header + content(lines) + eol + eol;
      after = -1;
    } else if (successor) {
      const sepBlank = at.blankBetweenSections ? eol : '';
      insertAt = at.lines[successor.header]!.start;
      insert = header + content(lines) + eol + sepBlank;
      after = -1;
    } else {
      after = lastNonBlank(at);
      const blank = at.blankBetweenSections || after === 0 ? eol + at.prefix.blank : '';
      insertAt = at.lines[after]!.end;
      insert = blank + eol + header + content(lines);
    }
  }
  const last = at.lines[after];
  if (after === at.lines.length - 1 && at.closingLine !== undefined && last!.text.trim() !== '') {
    // The closing delimiter sat on a content line: it moves to a line of its own (keeping what stood before it).
    insertAt = last!.contentStart + last!.text.trimEnd().length;
    insert += eol + at.closingLine;
  }
  const text = doc.text.slice(0, insertAt) + insert + doc.text.slice(insertAt);
  const next: SkillDoc = { ...doc, text, at: await located(text, doc.target) };
  const grown = sectionOf(next, section);
  const size = grown ? sectionChars(next, grown) : 0;
  if (size > SECTION_BUDGET[section])
    throw new SkillError({ file: doc.target.spec, field: section, rule: 'skill.over-budget', message: `${section} would hold ${size} characters, over its budget of ${SECTION_BUDGET[section]}; nothing was changed`, hint: 'retire a bullet that no longer helps (refine proposes which), then promote again' });
  return { changed: true, doc: next, bytes: encodeSkill(text, next.encoding) };
}

function lastNonBlank(at: Located): number {
  for (let i = at.lines.length - 1; i > 0; i--) if (at.lines[i]!.text.trim() !== '') return i;
  return 0;
}

/** Removes a bullet (its text line through its provenance line). A bullet not present changes nothing. */
export async function removeBullet(doc: SkillDoc, id: string): Promise<EditResult> {
  const lines = doc.at.lines;
  const prov = lines.findIndex((l) => l.text.includes(`[g7 ${id}`));
  if (prov < 0) return { changed: false, reason: `${id} is not in ${doc.target.spec}` };
  let first = prov;
  while (first > 0 && !/^\s*- /.test(lines[first]!.text)) first--;
  // Whole lines with their line ends; a bullet on the docstring's last line takes the line end before it.
  const last = lines[prov]!.next === lines[prov]!.end;
  const from = last && first > 0 ? lines[first - 1]!.end : lines[first]!.start;
  const to = last ? lines[prov]!.end : lines[prov]!.next;
  const text = doc.text.slice(0, from) + doc.text.slice(to);
  const next: SkillDoc = { ...doc, text, at: await located(text, doc.target) };
  return { changed: true, doc: next, bytes: encodeSkill(text, next.encoding) };
}

/**
 * The static checks a promoted change must pass before anything is committed: only docstring bytes
 * changed, the file still parses, applying the change again changes nothing, the budget holds and the
 * shape got no worse. Returns the failures (empty when all pass).
 */
export async function staticChecks(before: SkillDoc, after: SkillDoc, again: (doc: SkillDoc) => Promise<EditResult>): Promise<Problem[]> {
  const file = before.target.spec;
  const out: Problem[] = [];
  const head = before.text.slice(0, before.at.region.start);
  const tail = before.text.slice(before.at.region.end);
  if (!after.text.startsWith(head) || !after.text.endsWith(tail) || after.text.length < head.length + tail.length)
    out.push({ file, rule: 'check.outside-docstring', message: 'the change touches bytes outside the docstring' });
  if (!(await parses(after.text, after.target))) out.push({ file, rule: 'check.parse', message: 'the file no longer parses after the change' });
  const second = await again(after);
  if (second.changed) out.push({ file, rule: 'check.idempotent', message: 'applying the change a second time changes the file again' });
  const shapeBefore = checkShape(before);
  const shapeAfter = checkShape(after);
  for (const p of shapeAfter.filter((p) => p.rule === 'shape.over-budget')) out.push({ ...p, rule: 'check.budget' });
  if (shapeAfter.length > shapeBefore.length)
    out.push({ file, rule: 'check.shape', message: `the docstring's shape got worse: ${shapeAfter.filter((p) => !shapeBefore.some((q) => q.rule === p.rule && q.field === p.field)).map((p) => p.message).join('; ')}` });
  return out;
}

/**
 * The docstring as the worker should read it: its lines without comment syntax (quotes, ` * `) or the
 * code around it. For a Markdown skill, the whole file. (The run loop still sends the whole file of a
 * `path::symbol` target; this is what it should send instead.)
 */
export function skillPromptText(doc: SkillDoc): string {
  return doc.at.lines.map((l) => l.text.trimEnd()).join('\n').trim() + '\n';
}
