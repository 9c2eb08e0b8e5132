// A Markdown skill file: the whole file is the docstring, its sections are `## Name` headings.
import { SECTIONS, findSections, splitLines } from './lines.js';
import type { Located } from './located.js';

const HEADING = /^##\s+(.+?)\s*#*\s*$/;

export function sectionName(raw: string): string {
  const known = SECTIONS.find((s) => s.toLowerCase() === raw.toLowerCase());
  return known ?? raw;
}

export function locateMarkdown(text: string): Located {
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const lines = splitLines(text, start, text.length, () => 0);
  // A file that ends with a line end has an empty last "line" after it: not part of any section.
  if (lines.length > 1 && lines.at(-1)!.start === text.length) lines.pop();
  const sections = findSections(lines, (l) => {
    const m = HEADING.exec(l.text);
    return m ? sectionName(m[1]!) : undefined;
  }, false);
  return {
    flavor: 'markdown',
    region: { start, end: text.length },
    lines,
    sections,
    prefix: { header: '', content: '', blank: '' },
    headerText: (name) => `## ${name}`,
    escape: (t) => ({ text: t }),
    argsOptional: false,
    blankBetweenSections: true,
  };
}
