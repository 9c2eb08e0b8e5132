// The accept/failfast language (SPEC 4): predicates joined by `&&`, all of which must hold.
//
//   exit==0  exit!=2                 the card's exit code (TEST, and every executor's own status)
//   exists:PATH                      a file or folder exists
//   lines>=N:PATH  bytes>N:PATH      count lines (non-empty) or bytes of a file; ops == != >= <= > <
//   json:PATH                        the file parses as JSON, or as JSONL line by line for *.jsonl
//   schema:NAME:PATH                 the file (each line of a *.jsonl) matches a shipped contract
//   cmd:COMMAND                      a shell command exits 0 (runs in the repository root)
//   stdout~/RE/flags  stderr!~/RE/   the card's captured output matches (or does not match) a regex
//   tokens>N  cost>X  duration>Ns  attempts>=N    run figures (duration in ms, s or m)
//   never                            (failfast only) nothing triggers
//
// Paths are repository-relative and may not leave the repository. Unknown predicates are errors.
import { repoPathProblem } from '../ssot/paths.js';
import { SCHEMA_NAMES, type SchemaName } from '../contracts/validate.js';

export type Op = '==' | '!=' | '>=' | '<=' | '>' | '<';
export type Figure = 'tokens' | 'cost' | 'duration' | 'attempts';

export type Predicate = { text: string; col: number } & (
  | { kind: 'exit'; op: Op; value: number }
  | { kind: 'exists'; path: string }
  | { kind: 'count'; unit: 'lines' | 'bytes'; op: Op; value: number; path: string }
  | { kind: 'json'; path: string }
  | { kind: 'schema'; schema: SchemaName; path: string }
  | { kind: 'cmd'; command: string }
  | { kind: 'match'; stream: 'stdout' | 'stderr'; negate: boolean; source: string; flags: string }
  | { kind: 'figure'; figure: Figure; op: Op; value: number }
);

export interface Rule {
  source: string;
  /** Empty for `never`. */
  predicates: Predicate[];
}

export interface RuleProblem {
  col: number;
  rule: string;
  message: string;
  hint?: string;
}

export const PREDICATE_FORMS =
  'exit==N, exists:PATH, lines>=N:PATH, bytes>N:PATH, json:PATH, schema:NAME:PATH, cmd:COMMAND, stdout~/RE/, stderr!~/RE/, tokens>N, cost>X, duration>Ns, attempts>N' as const;

/** Splits on top-level `&&`, keeping regex literals and double-quoted text intact. Returns [text, col]. */
function splitTop(src: string): [string, number][] {
  const parts: [string, number][] = [];
  let start = 0;
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '"') {
      i = src.indexOf('"', i + 1);
      if (i === -1) break;
      i++;
      continue;
    }
    if (c === '~' && src[i + 1] === '/') {
      i += 2;
      while (i < src.length && src[i] !== '/') i += src[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '&' && src[i + 1] === '&') {
      parts.push([src.slice(start, i), start]);
      i += 2;
      start = i;
      continue;
    }
    i++;
  }
  parts.push([src.slice(start), start]);
  return parts;
}

const OP = '(==|!=|>=|<=|>|<)';
const NUM = '(-?\\d+(?:\\.\\d+)?)';

function parsePredicate(raw: string, rawCol: number, problems: RuleProblem[]): Predicate | undefined {
  const lead = raw.length - raw.trimStart().length;
  const text = raw.trim();
  const col = rawCol + lead + 1;
  const bad = (rule: string, message: string, hint?: string) => {
    problems.push({ col, rule, message, ...(hint ? { hint } : {}) });
    return undefined;
  };
  const checkPath = (p: string) => {
    const unquoted = p.startsWith('"') && p.endsWith('"') && p.length >= 2 ? p.slice(1, -1) : p;
    if (unquoted === '') return bad('rule.path', `"${text}" names no path`);
    const why = repoPathProblem(unquoted);
    if (why) return bad('rule.path-escape', `path "${unquoted}" ${why}`, 'rules may only look at files inside the repository');
    return unquoted;
  };
  if (text === '') return bad('rule.empty', 'empty predicate (a stray && ?)');
  let m: RegExpMatchArray | null;
  if ((m = text.match(new RegExp(`^exit${OP}(\\d+)$`)))) return { text, col, kind: 'exit', op: m[1] as Op, value: Number(m[2]) };
  if ((m = text.match(/^exists:(.*)$/s))) {
    const p = checkPath(m[1]!);
    return p === undefined ? undefined : { text, col, kind: 'exists', path: p };
  }
  if ((m = text.match(new RegExp(`^(lines|bytes)${OP}(\\d+):(.*)$`, 's')))) {
    const p = checkPath(m[4]!);
    return p === undefined ? undefined : { text, col, kind: 'count', unit: m[1] as 'lines' | 'bytes', op: m[2] as Op, value: Number(m[3]), path: p };
  }
  if ((m = text.match(/^json:(.*)$/s))) {
    const p = checkPath(m[1]!);
    return p === undefined ? undefined : { text, col, kind: 'json', path: p };
  }
  if ((m = text.match(/^schema:([a-z_]+):(.*)$/s))) {
    if (!(SCHEMA_NAMES as string[]).includes(m[1]!)) return bad('rule.unknown-schema', `unknown schema "${m[1]}"`, `known schemas: ${SCHEMA_NAMES.join(', ')}`);
    const p = checkPath(m[2]!);
    return p === undefined ? undefined : { text, col, kind: 'schema', schema: m[1] as SchemaName, path: p };
  }
  if ((m = text.match(/^cmd:(.*)$/s))) {
    let command = m[1]!.trim();
    if (command.startsWith('"') && command.endsWith('"') && command.length >= 2) command = command.slice(1, -1);
    if (command === '') return bad('rule.cmd-empty', 'cmd: needs a command');
    return { text, col, kind: 'cmd', command };
  }
  if ((m = text.match(/^(stdout|stderr)(!?)~\/((?:\\.|[^/\\])*)\/([a-z]*)$/s))) {
    try {
      new RegExp(m[3]!, m[4]);
    } catch (err) {
      return bad('rule.bad-regex', `invalid regular expression: ${(err as Error).message}`);
    }
    return { text, col, kind: 'match', stream: m[1] as 'stdout' | 'stderr', negate: m[2] === '!', source: m[3]!, flags: m[4]! };
  }
  if ((m = text.match(new RegExp(`^(tokens|cost|attempts)${OP}${NUM}$`)))) return { text, col, kind: 'figure', figure: m[1] as Figure, op: m[2] as Op, value: Number(m[3]) };
  if ((m = text.match(new RegExp(`^duration${OP}${NUM}(ms|s|m)$`)))) {
    const scale = m[3] === 'ms' ? 1 : m[3] === 's' ? 1000 : 60_000;
    return { text, col, kind: 'figure', figure: 'duration', op: m[1] as Op, value: Number(m[2]) * scale };
  }
  if (/^duration/.test(text)) return bad('rule.duration-unit', `"${text}" needs a unit`, 'write duration>300s, duration>5m or duration>500ms');
  const name = text.match(/^[A-Za-z_][A-Za-z0-9_-]*/)?.[0] ?? text.slice(0, 20);
  return bad('rule.unknown-predicate', `unknown predicate "${name}" in "${text}"`, `known forms: ${PREDICATE_FORMS}`);
}

/** Parses a rule. `kind` decides whether `never` is allowed (failfast only). */
export function parseRule(source: string, kind: 'accept' | 'failfast'): { rule?: Rule; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  if (source.trim() === 'never') {
    if (kind === 'accept') problems.push({ col: 1, rule: 'rule.never-accept', message: '"never" is only for failfast; an accept rule must say what passing means' });
    return problems.length ? { problems } : { rule: { source, predicates: [] }, problems };
  }
  const predicates: Predicate[] = [];
  for (const [raw, col] of splitTop(source)) {
    const p = parsePredicate(raw, col, problems);
    if (p) predicates.push(p);
  }
  return problems.length ? { problems } : { rule: { source, predicates }, problems };
}

/** Paths a rule reads: used by VERIFY and by `plan check` to warn about outputs nobody writes. */
export function rulePaths(rule: Rule): string[] {
  return rule.predicates.flatMap((p) => ('path' in p ? [p.path] : []));
}

export function compare(op: Op, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '<':
      return a < b;
  }
}
