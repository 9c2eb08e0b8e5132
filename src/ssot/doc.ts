// Parsing YAML and JSON documents so that any later complaint about a field can name its line and column.
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { parseTree, findNodeAtLocation, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { SchemaError, type Problem } from '../contracts/errors.js';

export interface Position {
  line: number;
  col: number;
}

export interface LocatedDoc {
  file: string;
  value: unknown;
  /** Where the value at a JSON pointer (`/entries/0/lane`) starts, if it exists. */
  locate(pointer: string): Position | undefined;
}

export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `/entries/0/lane` → `entries[0].lane`, the way people read it. */
export function pointerToField(pointer: string): string {
  let out = '';
  for (const seg of pointerSegments(pointer)) {
    if (/^\d+$/.test(seg)) out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

function lineColAt(text: string, offset: number): Position {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

/** Parses YAML (duplicate keys are errors). `text` must already be decoded (see text.ts). */
export function parseYaml(text: string, file: string): LocatedDoc {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, strict: true });
  if (doc.errors.length > 0) {
    // One slip usually cascades into many parser errors: the first few say where it is.
    const lines = text.split('\n');
    const problems = doc.errors.slice(0, 3).map((e): Problem => {
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

/** Parses strict JSON (no comments, no trailing commas) and keeps a tree for locating fields. */
export function parseJson(text: string, file: string, lineOffset = 0): LocatedDoc {
  const errors: ParseError[] = [];
  const tree = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true, allowEmptyContent: false });
  if (errors.length > 0 || tree === undefined) {
    const first = errors[0];
    const pos = lineColAt(text, first?.offset ?? 0);
    throw new SchemaError([
      {
        file,
        line: pos.line + lineOffset,
        col: pos.col,
        rule: 'json.syntax',
        message: first ? `invalid JSON: ${printParseErrorCode(first.error)}` : 'empty document',
        hint: 'fix the JSON syntax at this position',
      },
    ]);
  }
  const value = JSON.parse(text) as unknown;
  return {
    file,
    value,
    locate(pointer) {
      const segs: (string | number)[] = pointerSegments(pointer).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      for (let n = segs.length; n >= 0; n--) {
        const node: JsonNode | undefined = findNodeAtLocation(tree, segs.slice(0, n));
        if (node) {
          const p = lineColAt(text, node.parent?.type === 'property' ? node.parent.offset : node.offset);
          return { line: p.line + lineOffset, col: p.col };
        }
      }
      return undefined;
    },
  };
}
