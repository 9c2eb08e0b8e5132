// A PATCH answer's edits, resolved to the files they produce. An edit either gives a file's whole `content`
// (a file to create, or one the worker was shown whole) or a list of `changes`: a search text copied from the
// file as shown and its replacement, applied in order, each matching exactly once. A file shown cut at the
// input budget only takes changes: a whole-file answer for it would write back the cut (SPEC 6: a card that
// did not finish its work is never a PASS). Whatever does not fit is a problem the rework is told about, and
// nothing is written (patch.ts resolves every edit before it writes any).
import { normalizeRepoPath } from '../ssot/paths.js';

export interface Change {
  search: string;
  replace: string;
}

export interface Edit {
  path: string;
  content?: string | undefined;
  changes?: Change[] | undefined;
}

/** What the worker was shown of a file it may modify. */
export interface Shown {
  /** The file as it is on disk. */
  text: string;
  /** The characters it was shown, when it was cut to fit the input budget. */
  cutAt?: number | undefined;
}

export type Resolved = { path: string; content: string; changes: number } | { path: string; problem: string };

const firstLine = (s: string) => {
  const line = s.split('\n').find((l) => l.trim()) ?? s;
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line);
};

function count(text: string, search: string): { at: number; n: number } {
  let at = -1;
  let n = 0;
  for (let i = text.indexOf(search); i !== -1; i = text.indexOf(search, i + 1)) {
    if (n === 0) at = i;
    n++;
    if (n > 9) break;
  }
  return { at, n };
}

/** Resolve one edit against the file it names (`shown` undefined: the file does not exist yet). */
export function resolveEdit(e: Edit, shown: Shown | undefined): Resolved {
  const rel = normalizeRepoPath(e.path);
  const hasContent = typeof e.content === 'string';
  const hasChanges = Array.isArray(e.changes);
  if (hasContent === hasChanges) return { path: rel, problem: `the edit of "${rel}" gives ${hasContent ? 'both content and changes' : 'neither content nor changes'}: give exactly one` };
  if (hasContent) {
    if (shown?.cutAt !== undefined)
      return { path: rel, problem: `"${rel}" was shown cut at ${shown.cutAt} of ${shown.text.length} characters (the input budget): a whole-file content would cut it; answer with changes` };
    return { path: rel, content: e.content!, changes: 0 };
  }
  if (!shown) return { path: rel, problem: `"${rel}" does not exist yet: give its whole content, not changes` };
  // A file with CRLF line ends takes changes written with LF, the way a model copies text it was shown.
  const crlf = shown.text.includes('\r\n');
  let text = shown.text;
  for (const [i, c] of e.changes!.entries()) {
    const search = crlf && !c.search.includes('\r\n') ? c.search.replace(/\n/g, '\r\n') : c.search;
    const replace = crlf && !c.replace.includes('\r\n') ? c.replace.replace(/\n/g, '\r\n') : c.replace;
    const which = `change ${i + 1} of "${rel}"`;
    if (!search) return { path: rel, problem: `${which} has an empty search text: copy the lines to replace from the file` };
    const { at, n } = count(text, search);
    if (n === 0) return { path: rel, problem: `${which}: its search text (starting ${firstLine(c.search)}) is not in the file${i ? ' after the changes before it' : ''}; copy it verbatim from the file as shown` };
    if (n > 1) return { path: rel, problem: `${which}: its search text (starting ${firstLine(c.search)}) matches ${n > 9 ? 'more than 9' : n} times; include more lines around it so that it matches once` };
    text = text.slice(0, at) + replace + text.slice(at + search.length);
  }
  return { path: rel, content: text, changes: e.changes!.length };
}

/** Every edit resolved; a path edited twice is a problem of its own (which edit would win is a guess). */
export function resolveEdits(edits: Edit[], shown: (rel: string) => Shown | undefined): Resolved[] {
  const seen = new Set<string>();
  return edits.map((e) => {
    const rel = normalizeRepoPath(e.path);
    if (seen.has(rel)) return { path: rel, problem: `"${rel}" is edited twice in one answer: put all its changes in one edit` };
    seen.add(rel);
    return resolveEdit(e, shown(rel));
  });
}
