// A Python docstring (`file.py::func`, `file.py::Class.method`, `file.py` for the module's), found with
// tree-sitter's Python grammar (both shipped as wasm in their npm packages, loaded on first use). Node
// positions from web-tree-sitter are string offsets into the text it was given, so BOM and CRLF survive.
// Sections are Google style: `Name:` at the docstring's indentation, content indented one level deeper.
import type { Node as TsNode, Parser as TsParser } from 'web-tree-sitter';
import { wasmFile } from '../../host/assets.js';
import { findSections, splitLines } from './lines.js';
import { LocateError, lineOf, type Located } from './located.js';
import { sectionName } from './markdown.js';

let parser: Promise<TsParser> | undefined;

function loadParser(): Promise<TsParser> {
  parser ??= (async () => {
    const { Parser, Language } = await import('web-tree-sitter');
    // Both wasm files named, not found beside the module that loads them: in the action's bundle that is a chunk.
    await Parser.init({ locateFile: (name: string) => wasmFile(`web-tree-sitter/${name}`) });
    const p = new Parser();
    p.setLanguage(await Language.load(wasmFile('tree-sitter-python/tree-sitter-python.wasm')));
    return p;
  })();
  return parser;
}

async function parse(text: string): Promise<TsNode> {
  const tree = (await loadParser()).parse(text);
  if (!tree) throw new Error('tree-sitter returned no tree');
  return tree.rootNode;
}

export async function pythonParses(text: string): Promise<boolean> {
  return !(await parse(text)).hasError;
}

/** The definitions directly inside a module or class body, decorated or not. */
function definitions(body: TsNode): TsNode[] {
  const out: TsNode[] = [];
  for (const c of body.namedChildren) {
    if (!c) continue;
    if (c.type === 'function_definition' || c.type === 'class_definition') out.push(c);
    else if (c.type === 'decorated_definition') {
      const d = c.childForFieldName('definition');
      if (d) out.push(d);
    }
  }
  return out;
}

function isOverloadStub(def: TsNode): boolean {
  const parent = def.parent;
  if (parent?.type !== 'decorated_definition') return false;
  return parent.namedChildren.some((c) => c?.type === 'decorator' && /^@(typing\.)?overload\b/.test(c.text));
}

/** The docstring node of a module, class or function body: its first statement, when that is a plain string. */
function docstringOf(body: TsNode | null): TsNode | undefined {
  const first = body?.namedChildren.find((c) => c && c.type !== 'comment');
  if (first?.type !== 'expression_statement') return undefined;
  const s = first.namedChildren[0];
  if (!s || s.type !== 'string' || first.namedChildren.length !== 1) return undefined;
  const start = s.children.find((c) => c?.type === 'string_start')?.text ?? '';
  return /[fFbB]/.test(start) ? undefined : s; // an f-string or bytes literal is not a docstring
}

function findDocstring(root: TsNode, symbol: string | undefined, text: string): TsNode {
  if (!symbol) {
    const d = docstringOf(root);
    if (!d) throw new LocateError('skill.no-docstring', 'the module has no docstring', 'add a module docstring with the nine sections, or name a function: file.py::func');
    return d;
  }
  let scope: TsNode = root;
  const parts = symbol.split('.');
  let def: TsNode | undefined;
  for (const [i, name] of parts.entries()) {
    const body = i === 0 ? scope : scope.childForFieldName('body');
    const same = body ? definitions(body).filter((d) => d.childForFieldName('name')?.text === name) : [];
    if (same.length === 0) {
      const where = parts.slice(0, i).join('.') || 'the module';
      throw new LocateError('skill.no-symbol', `no function or class "${name}" in ${where}`, 'check the target: file.py::func or file.py::Class.method (nested classes with dots)');
    }
    // Overloads: the implementation's docstring, else the first definition that has one.
    def = same.find((d) => !isOverloadStub(d) && docstringOf(d.childForFieldName('body'))) ?? same.find((d) => docstringOf(d.childForFieldName('body'))) ?? same[0]!;
    scope = def;
  }
  const d = docstringOf(def!.childForFieldName('body'));
  if (!d) throw new LocateError('skill.no-docstring', `${symbol} has no docstring`, 'add a docstring with the nine sections (Summary, When, How, Args, Returns, Guide, Caveats, Verified, Examples)', lineOf(text, def!.startIndex));
  return d;
}

export async function locatePython(text: string, symbol: string | undefined): Promise<Located> {
  const root = await parse(text);
  if (root.hasError) throw new LocateError('skill.parse', 'the file does not parse as Python', 'fix the syntax error first; g7 edits only files that parse');
  const node = findDocstring(root, symbol, text);
  const open = node.children.find((c) => c?.type === 'string_start')!;
  const close = node.children.find((c) => c?.type === 'string_end')!;
  const quote = close.text;
  const raw = /[rR]/.test(open.text);
  const lineStart = text.lastIndexOf('\n', node.startIndex - 1) + 1;
  const base = /^[ \t]*/.exec(text.slice(lineStart, node.startIndex))![0];
  const lines = splitLines(text, open.endIndex, close.startIndex, (l, i) => (i === 0 ? 0 : Math.min(/^[ \t]*/.exec(l)![0].length, base.length)));
  const sections = findSections(lines, (l, i) => {
    if (i === 0) return undefined;
    const m = /^([A-Z][A-Za-z ]*):\s*$/.exec(l.text);
    return m ? sectionName(m[1]!) : undefined;
  }, true);
  const deeper = sections.filter((s) => s.header >= 0).flatMap((s) => lines.slice(s.first, s.last)).find((l) => /^[ \t]+\S/.test(l.text));
  const unit = deeper ? /^[ \t]+/.exec(deeper.text)![0] : base.includes('\t') ? '\t' : '    ';
  const triple = quote.length === 3;
  return {
    flavor: 'python',
    region: { start: node.startIndex, end: node.endIndex },
    lines,
    sections,
    prefix: { header: base, content: base + unit, blank: '' },
    headerText: (name) => `${name}:`,
    closingLine: base,
    escape(t) {
      const delim = triple ? quote : quote.repeat(3);
      if (raw) return t.includes(delim) ? { refused: `the text contains ${delim}, which cannot be written inside a raw docstring` } : { text: t };
      return { text: t.replace(/\\/g, '\\\\').split(delim).join(delim.split('').map((c) => `\\${c}`).join('')) };
    },
    argsOptional: false,
    blankBetweenSections: false,
    ...(triple ? {} : { multiline: () => text.slice(0, open.endIndex - 1) + quote.repeat(3) + text.slice(open.endIndex, close.startIndex) + quote.repeat(3) + text.slice(close.endIndex) }),
  };
}
