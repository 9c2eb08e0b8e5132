// Parsing JSON documents so that any later complaint about a field can name its line and column (YAML: yaml.ts).
import { parseTree, findNodeAtLocation, printParseErrorCode, type Node as JsonNode, type ParseError } from 'jsonc-parser';
import { SchemaError } from '../contracts/errors.js';

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
