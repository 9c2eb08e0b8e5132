// Parsing YAML documents (day plans, factory.yaml, taxonomies) so that any later complaint about a field can
// name its line and column. Apart from doc.ts: commands that read only JSON do not load the YAML parser.
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { SchemaError, type Problem } from '../contracts/errors.js';
import { pointerSegments, type LocatedDoc } from './doc.js';

/** Parses YAML (duplicate keys are errors). `text` must already be decoded (see text.ts). */
export function parseYaml(text: string, file: string): LocatedDoc {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    // One slip usually cascades into many parser errors: the first few say where it is.
    const lines = text.split('\n');
    const problems = doc.errors.slice(0, 3).map((e): Problem => {
      const unclosed = unclosedFlow(text, e.pos[0], e.message);
      if (unclosed) {
        const at = lineCounter.linePos(unclosed.offset);
        return {
          file,
          line: at.line,
          col: at.col,
          rule: `yaml.unclosed-flow`,
          message: `this ${unclosed.open} is never closed: the parser reached ${e.pos[0] >= text.trimEnd().length ? 'the end of the file' : `line ${lineCounter.linePos(e.pos[0]).line}`} still inside it`,
          hint: `add the closing ${unclosed.close} at the end of its entries (on this line, or indented under the key)`,
        };
      }
      const pos = lineCounter.linePos(e.pos[0]);
      const src = lines[pos.line - 1] ?? '';
      const inFlow = /\{[^}]*\{/.test(src) || /flow/i.test(e.message);
      return {
        file,
        line: pos.line,
        col: pos.col,
        rule: `yaml.${e.code.toLowerCase()}`,
        message: e.message.split('\n')[0] ?? e.message,
        hint: inFlow
          ? 'inside { … } a value holding { } or , must be quoted: output: "out/{n}.jsonl"'
          : 'fix the YAML syntax at this position (indentation, a missing colon or quote)',
      };
    });
    if (doc.errors.length > 3) problems.push({ file, rule: 'yaml.more', message: `… and ${doc.errors.length - 3} more syntax errors that probably follow from the first` });
    throw new SchemaError(problems);
  }
  return {
    file,
    value: doc.toJS({ maxAliasCount: 50 }),
    locate(pointer) {
      const segs: unknown[] = pointerSegments(pointer).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      // Walk up until a node exists, so a missing field points at its parent.
      for (let n = segs.length; n >= 0; n--) {
        const node = n === 0 ? doc.contents : doc.getIn(segs.slice(0, n), true);
        if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]);
      }
      return undefined;
    },
  };
}

/**
 * For the parser's "Flow map/sequence … must end with a } / ]" error, which it reports where it gave up (often one
 * line past the end of the file): the offset of the opening bracket that was never closed, found by walking back
 * from there and skipping brackets inside quotes. Undefined for any other error.
 */
function unclosedFlow(text: string, errorAt: number, message: string): { offset: number; open: string; close: string } | undefined {
  const kind = /^Flow (map|sequence)\b[^\n]*end with a ([}\]])/.exec(message);
  if (!kind) return undefined;
  const close = kind[2]!;
  const open = close === '}' ? '{' : '[';
  let depth = 0;
  for (let i = Math.min(errorAt, text.length) - 1; i >= 0; i--) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const start = text.lastIndexOf(c, i - 1);
      const lineStart = text.lastIndexOf('\n', i - 1);
      if (start > lineStart) i = start; // a quoted scalar on the same line: skip it whole
      continue;
    }
    if (c === close) depth++;
    else if (c === open) {
      if (depth === 0) return { offset: i, open, close };
      depth--;
    }
  }
  return undefined;
}
