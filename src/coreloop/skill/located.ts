// What a flavor's locator returns: where the docstring is in the file's text and how to write lines into it.
import type { DocLine, Flavor, Section, SectionName } from './lines.js';

export interface Located {
  flavor: Flavor;
  /** The docstring with its delimiters (quotes, `/**` `*\/`): every byte outside it must stay as it was. */
  region: { start: number; end: number };
  /** The docstring's lines (inside the delimiters). */
  lines: DocLine[];
  sections: Section[];
  /** What a new line starts with: a header at the docstring's indentation, content one level deeper. */
  prefix: { header: string; content: string; blank: string };
  /** The header line of a section in this flavor (`## Guide`, `Guide:`, `@guide`). */
  headerText(name: SectionName): string;
  /** The closing delimiter's own line, when it must move off a content line (`"""`, `*\/`). */
  closingLine?: string | undefined;
  /** A text as it must be written inside this docstring, or the reason it cannot be. */
  escape(text: string): { text: string } | { refused: string };
  /** Args may be absent: a JSDoc block of a declaration without parameters. */
  argsOptional: boolean;
  /** A blank line goes between sections (Markdown). */
  blankBetweenSections: boolean;
  /** For a one-line Python string: the file's text with the string made triple-quoted, so lines can be added. */
  multiline?: () => string;
}

export class LocateError extends Error {
  constructor(readonly rule: string, message: string, readonly hint: string, readonly line?: number) {
    super(message);
    this.name = 'LocateError';
  }
}

/** 1-based line of a string offset. */
export function lineOf(text: string, offset: number): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) n++;
  return n;
}
