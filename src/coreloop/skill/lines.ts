// The docstring of a skill target as lines with their offsets in the file's text, and the nine sections
// found in them. The three flavors (Markdown file, Python docstring, JSDoc block) only differ in where the
// docstring is, what prefix its lines carry and how a section header looks; everything else is shared.

export const SECTIONS = ['Summary', 'When', 'How', 'Args', 'Returns', 'Guide', 'Caveats', 'Verified', 'Examples'] as const;
export type SectionName = (typeof SECTIONS)[number];

export type Flavor = 'markdown' | 'python' | 'jsdoc';

/** One line of the docstring. Offsets index the whole file's text (string offsets, BOM included). */
export interface DocLine {
  /** Where the line starts (its prefix: indentation, ` * `). */
  start: number;
  /** Where the line's content starts, after the prefix. */
  contentStart: number;
  /** Where the content ends (before the line end). */
  end: number;
  /** Where the next line starts (end + the length of the line end; equal to `end` on the last line). */
  next: number;
  /** The content, without prefix and line end. */
  text: string;
}

export interface Section {
  /** One of the nine, or another header (e.g. `Raises`, `@throws`), which only ends the section before it. */
  name: SectionName | string;
  known: boolean;
  /** Index of the header line in `lines`; -1 for a Summary without a header. */
  header: number;
  /** Content lines: indices [first, last) in `lines`. */
  first: number;
  last: number;
}

/** Splits `text[start, end)` into lines; `prefix(line)` gives the length of the line's prefix. */
export function splitLines(text: string, start: number, end: number, prefix: (raw: string, index: number) => number): DocLine[] {
  const out: DocLine[] = [];
  let pos = start;
  let i = 0;
  while (pos <= end) {
    let nl = text.indexOf('\n', pos);
    if (nl === -1 || nl >= end) nl = -1;
    const lineEnd = nl === -1 ? end : nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    const next = nl === -1 ? end : nl + 1;
    const raw = text.slice(pos, lineEnd);
    const p = Math.min(prefix(raw, i), raw.length);
    out.push({ start: pos, contentStart: pos + p, end: lineEnd, next, text: raw.slice(p) });
    if (nl === -1) break;
    pos = next;
    i++;
  }
  return out;
}

/** The line end the docstring uses (its first one), `\n` when it has none. */
export function lineEnd(text: string, lines: DocLine[]): string {
  for (const l of lines) if (l.next > l.end) return text.slice(l.end, l.next);
  const nl = text.indexOf('\n');
  return nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
}

/**
 * Finds the sections. `header(text)` returns a section name for a header line, or undefined; lines inside
 * fenced code blocks are never headers. Lines before the first header form the Summary when `leadingSummary`.
 */
export function findSections(lines: DocLine[], header: (line: DocLine, index: number) => string | undefined, leadingSummary: boolean): Section[] {
  const out: Section[] = [];
  let fence: string | undefined;
  let current: Section | undefined = leadingSummary ? { name: 'Summary', known: true, header: -1, first: 0, last: 0 } : undefined;
  const close = (at: number) => {
    if (current) {
      current.last = at;
      out.push(current);
    }
  };
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.text.trim();
    const f = /^(```|~~~)/.exec(t)?.[1];
    if (f) {
      if (!fence) fence = f;
      else if (f === fence) fence = undefined;
      continue;
    }
    if (fence) continue;
    const name = header(lines[i]!, i);
    if (name === undefined) continue;
    close(i);
    current = { name, known: (SECTIONS as readonly string[]).includes(name), header: i, first: i + 1, last: i + 1 };
  }
  close(lines.length);
  // A leading Summary with no text at all is no section (e.g. a Markdown file that starts with `## Summary`).
  return out.filter((s) => !(s.header === -1 && s.first === s.last));
}

/** Non-blank content of a section, lines joined with \n. */
export function sectionText(lines: DocLine[], s: Section): string {
  const parts = lines.slice(s.first, s.last).map((l) => l.text);
  if (s.header >= 0) {
    // Text on the header line itself after the header (a JSDoc `@guide first line`) belongs to the section.
    const rest = lines[s.header]!.text.trim().replace(/^(##\s+\S+|@\w+|[A-Za-z ]+:)\s*/, '');
    if (rest) parts.unshift(rest);
  }
  return parts.join('\n').trim();
}

/** Index of the last non-blank content line of a section, or its header line when it has none. */
export function lastContentLine(lines: DocLine[], s: Section): number {
  for (let i = s.last - 1; i >= s.first; i--) if (lines[i]!.text.trim() !== '') return i;
  return s.header >= 0 ? s.header : s.first;
}

/** Characters (code points) of a text: what a section's budget counts. */
export function charCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
