// The JSDoc/TSDoc block of a TS/JS export (`file.ts::name`, `file.ts::Class.method`), found with ts-morph
// (TypeScript 5.x's parser, loaded on first use). Sections are block tags: the description is the Summary,
// then `@when`, `@how`, `@param` (Args), `@returns`, `@guide`, `@caveats`, `@verified`, `@example`.
import path from 'node:path';
import type { Node as MorphNode, Project } from 'ts-morph';
import { findSections, splitLines, type SectionName } from './lines.js';
import { LocateError, lineOf, type Located } from './located.js';

const TAGS: Record<string, SectionName> = {
  when: 'When', how: 'How', param: 'Args', arg: 'Args', argument: 'Args', returns: 'Returns', return: 'Returns',
  guide: 'Guide', caveats: 'Caveats', verified: 'Verified', example: 'Examples', examples: 'Examples',
};
const TAG_OF: Record<SectionName, string> = { Summary: '', When: 'when', How: 'how', Args: 'param', Returns: 'returns', Guide: 'guide', Caveats: 'caveats', Verified: 'verified', Examples: 'example' };

let morph: Promise<typeof import('ts-morph')> | undefined;
let project: Project | undefined;

async function sourceFile(text: string, file: string) {
  // ts-morph is CommonJS: its exports are its default export (the only one in the action's bundle).
  morph ??= import('ts-morph').then((m) => m.default);
  const m = await morph;
  project ??= new m.Project({ useInMemoryFileSystem: true, compilerOptions: { allowJs: true, noLib: true } });
  // TypeScript drops a leading BOM from the text it keeps; give it the text without one and shift back.
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const sf = project.createSourceFile(`/skill${path.extname(file) || '.ts'}`, text.slice(bom), { overwrite: true });
  return { m, sf, bom, project };
}

export async function jsdocParses(text: string, file: string): Promise<boolean> {
  const { sf, project } = await sourceFile(text, file);
  return project.getProgram().getSyntacticDiagnostics(sf).length === 0;
}

export async function locateJsdoc(text: string, symbol: string | undefined, file: string): Promise<Located> {
  if (!symbol) throw new LocateError('skill.no-symbol', 'a TS/JS skill target names an export', 'write the target as file.ts::name or file.ts::Class.method');
  const { m, sf, bom, project } = await sourceFile(text, file);
  if (project.getProgram().getSyntacticDiagnostics(sf).length > 0)
    throw new LocateError('skill.parse', 'the file does not parse as TypeScript/JavaScript', 'fix the syntax error first; g7 edits only files that parse');
  const { Node } = m;
  const [name, member, ...more] = symbol.split('.');
  if (more.length > 0) throw new LocateError('skill.no-symbol', `"${symbol}" has too many parts`, 'write name or Class.member');
  let decls: MorphNode[] = [...(sf.getExportedDeclarations().get(name!) ?? [])];
  if (decls.length === 0) throw new LocateError('skill.no-symbol', `no export named "${name}"`, 'the skill must be an exported function, class, variable or type');
  if (member) {
    const cls = decls.find((d) => Node.isClassDeclaration(d) || Node.isClassExpression(d));
    if (!cls || !(Node.isClassDeclaration(cls) || Node.isClassExpression(cls))) throw new LocateError('skill.no-symbol', `"${name}" is not a class`, 'Class.member targets name a member of an exported class');
    decls = cls.getMembers().filter((x) => Node.hasName(x) && x.getName() === member);
    if (decls.length === 0) throw new LocateError('skill.no-symbol', `class ${name} has no member "${member}"`, 'check the member name');
  }
  // Overload signatures carry their own JSDoc: the first declaration (in source order) that has one.
  const all = new Map<number, MorphNode>();
  for (const d of decls) {
    const owner = Node.isVariableDeclaration(d) ? (d.getVariableStatement() ?? d) : d;
    all.set(owner.getStart(), owner);
    if (Node.isOverloadable(d)) for (const o of d.getOverloads()) all.set(o.getStart(), o);
  }
  const ordered = [...all.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n);
  const owner = ordered.find((n) => Node.isJSDocable(n) && n.getJsDocs().length > 0);
  if (!owner || !Node.isJSDocable(owner)) throw new LocateError('skill.no-docstring', `${symbol} has no JSDoc block`, 'add a /** … */ block with the nine sections', lineOf(text, ordered[0]!.getStart() + bom));
  const doc = owner.getJsDocs().at(-1)!;
  const start = doc.getStart() + bom;
  const end = doc.getEnd() + bom;
  const params = decls.some((d) => {
    const t = Node.isVariableDeclaration(d) ? d.getInitializer() : Node.isClassDeclaration(d) ? d.getConstructors()[0] : d;
    return t !== undefined && Node.isParametered(t) && t.getParameters().length > 0;
  });

  const lines = splitLines(text, start + 3, end - 2, (l, i) => (i === 0 ? /^ ?/.exec(l)![0].length : (/^\s*\*(?!\/) ?/.exec(l) ?? /^\s*/.exec(l)!)[0].length));
  const sections = findSections(lines, (l) => {
    const tag = /^@(\w+)/.exec(l.text)?.[1];
    return tag === undefined ? undefined : (TAGS[tag.toLowerCase()] ?? `@${tag}`);
  }, true);
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const indent = /^[ \t]*/.exec(text.slice(lineStart, start))![0];
  const starred = lines.find((l, i) => i > 0 && /^\s*\*/.test(text.slice(l.start, l.contentStart)));
  const content = starred ? text.slice(starred.start, starred.contentStart).replace(/\*$/, '* ') : `${indent} * `;
  return {
    flavor: 'jsdoc',
    region: { start, end },
    lines,
    sections,
    prefix: { header: content, content, blank: content.trimEnd() },
    headerText: (n) => `@${TAG_OF[n]}`,
    closingLine: indent,
    escape: (t) => ({ text: t.replace(/\*\//g, '*\\/') }),
    argsOptional: !params,
    blankBetweenSections: false,
  };
}
