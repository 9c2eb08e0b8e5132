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
// Compiled once: rules are parsed for every card of a backlog, a million times in the packing benchmark.
const RE = {
  exit: new RegExp(`^exit${OP}(\\d+)$`),
  exists: /^exists:(.*)$/s,
  count: new RegExp(`^(lines|bytes)${OP}(\\d+):(.*)$`, 's'),
  json: /^json:(.*)$/s,
  schema: /^schema:([a-z_]+):(.*)$/s,
  cmd: /^cmd:(.*)$/s,
  match: /^(stdout|stderr)(!?)~\/((?:\\.|[^/\\])*)\/([a-z]*)$/s,
  figure: new RegExp(`^(tokens|cost|attempts)${OP}${NUM}$`),
  duration: new RegExp(`^duration${OP}${NUM}(ms|s|m)$`),
  name: /^[A-Za-z_][A-Za-z0-9_-]*/,
};

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
  if ((m = text.match(RE.exit))) return { text, col, kind: 'exit', op: m[1] as Op, value: Number(m[2]) };
  if ((m = text.match(RE.exists))) {
    const p = checkPath(m[1]!);
    return p === undefined ? undefined : { text, col, kind: 'exists', path: p };
  }
  if ((m = text.match(RE.count))) {
    const p = checkPath(m[4]!);
    return p === undefined ? undefined : { text, col, kind: 'count', unit: m[1] as 'lines' | 'bytes', op: m[2] as Op, value: Number(m[3]), path: p };
  }
  if ((m = text.match(RE.json))) {
    const p = checkPath(m[1]!);
    return p === undefined ? undefined : { text, col, kind: 'json', path: p };
  }
  if ((m = text.match(RE.schema))) {
    if (!(SCHEMA_NAMES as string[]).includes(m[1]!)) return bad('rule.unknown-schema', `unknown schema "${m[1]}"`, `known schemas: ${SCHEMA_NAMES.join(', ')}`);
    const p = checkPath(m[2]!);
    return p === undefined ? undefined : { text, col, kind: 'schema', schema: m[1] as SchemaName, path: p };
  }
  if ((m = text.match(RE.cmd))) {
    let command = m[1]!.trim();
    if (command.startsWith('"') && command.endsWith('"') && command.length >= 2) command = command.slice(1, -1);
    if (command === '') return bad('rule.cmd-empty', 'cmd: needs a command');
    return { text, col, kind: 'cmd', command };
  }
  if ((m = text.match(RE.match))) {
    try {
      new RegExp(m[3]!, m[4]);
    } catch (err) {
      return bad('rule.bad-regex', `invalid regular expression: ${(err as Error).message}`, 'fix the pattern between the slashes (escape / as \\/)');
    }
    return { text, col, kind: 'match', stream: m[1] as 'stdout' | 'stderr', negate: m[2] === '!', source: m[3]!, flags: m[4]! };
  }
  if ((m = text.match(RE.figure))) return { text, col, kind: 'figure', figure: m[1] as Figure, op: m[2] as Op, value: Number(m[3]) };
  if ((m = text.match(RE.duration))) {
    const scale = m[3] === 'ms' ? 1 : m[3] === 's' ? 1000 : 60_000;
    return { text, col, kind: 'figure', figure: 'duration', op: m[1] as Op, value: Number(m[2]) * scale };
  }
  if (/^duration/.test(text)) return bad('rule.duration-unit', `"${text}" needs a unit`, 'write duration>300s, duration>5m or duration>500ms');
  const name = text.match(RE.name)?.[0] ?? text.slice(0, 20);
  // A known predicate with a wrong operator or value (cost>>0.20) is not an unknown predicate.
  const forms = PREDICATE_FORMS.split(', ').filter((f) => f.match(RE.name)?.[0] === name);
  if (forms.length > 0) return bad('rule.bad-form', `"${text}" is not a form of ${name}`, `write ${forms.join(' or ')}${/[<>=]/.test(forms[0]!) ? ' (operators: == != >= <= > <)' : ''}`);
  return bad('rule.unknown-predicate', `unknown predicate "${name}" in "${text}"`, `known forms: ${PREDICATE_FORMS}`);
}

/** Parses a rule. `kind` decides whether `never` is allowed (failfast only). */
export function parseRule(source: string, kind: 'accept' | 'failfast'): { rule?: Rule; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  if (source.trim() === 'never') {
    if (kind === 'accept') problems.push({ col: 1, rule: 'rule.never-accept', message: '"never" is only for failfast; an accept rule must say what passing means', hint: 'write what passing means, e.g. exit==0' });
    return problems.length ? { problems } : { rule: { source, predicates: [] }, problems };
  }
  const predicates: Predicate[] = [];
  for (const [raw, col] of splitTop(source)) {
    const p = parsePredicate(raw, col, problems);
    if (p) predicates.push(p);
  }
  return problems.length ? { problems } : { rule: { source, predicates }, problems };
}

const NO_PROBLEMS: RuleProblem[] = [];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Index just past an operator at `i`, or -1. */
function skipOp(s: string, i: number): number {
  const a = s.charCodeAt(i);
  const b = s.charCodeAt(i + 1);
  if ((a === 61 || a === 33) && b === 61) return i + 2; // == !=
  if (a === 62 || a === 60) return b === 61 ? i + 2 : i + 1; // >= <= > <
  return -1;
}

/** Index just past an unsigned decimal number at `i`, or -1. */
function skipNumber(s: string, i: number, allowFraction: boolean): number {
  const start = i;
  while (isDigit(s.charCodeAt(i))) i++;
  if (i === start) return -1;
  if (allowFraction && s.charCodeAt(i) === 46) {
    const f = ++i;
    while (isDigit(s.charCodeAt(i))) i++;
    if (i === f) return -1;
  }
  return i;
}

/**
 * Recognises, without allocating, the predicates that make up nearly every generated rule: exit, exists,
 * lines/bytes, json, tokens/cost/attempts, duration and never. Anything else (or anything odd) returns
 * false and goes through the full parser, which is the authority on errors.
 */
function obviouslyValid(src: string, kind: 'accept' | 'failfast'): boolean {
  if (src === 'never') return kind === 'failfast';
  if (src.includes('"') || src.includes('~')) return false;
  let start = 0;
  while (start <= src.length) {
    let end = src.indexOf('&&', start);
    if (end === -1) end = src.length;
    // Only the canonical spacing `a && b` is fast; other spacing goes to the full parser.
    const part = src.slice(start, end === src.length ? end : end - 1);
    if ((end < src.length && (src.charCodeAt(end - 1) !== 32 || src.charCodeAt(end + 2) !== 32)) || !obviousPredicate(part)) return false;
    start = end + 3;
  }
  return true;
}

function obviousPredicate(p: string): boolean {
  const pathOk = (at: number) => at < p.length && repoPathProblem(p.slice(at)) === undefined;
  if (p.startsWith('exists:')) return pathOk(7);
  if (p.startsWith('json:')) return pathOk(5);
  if (p.startsWith('exit')) {
    const i = skipOp(p, 4);
    return i > 0 && skipNumber(p, i, false) === p.length;
  }
  for (const unit of ['lines', 'bytes']) {
    if (!p.startsWith(unit)) continue;
    const i = skipOp(p, unit.length);
    const j = i > 0 ? skipNumber(p, i, false) : -1;
    return j > 0 && p.charCodeAt(j) === 58 && pathOk(j + 1);
  }
  for (const fig of ['tokens', 'cost', 'attempts', 'duration']) {
    if (!p.startsWith(fig)) continue;
    const i = skipOp(p, fig.length);
    const j = i > 0 ? skipNumber(p, i, true) : -1;
    if (j < 0) return false;
    if (fig !== 'duration') return j === p.length;
    const unit = p.slice(j);
    return unit === 's' || unit === 'ms' || unit === 'm';
  }
  return false;
}

/** Only the problems of a rule: a fast path for the common forms, the full parser otherwise. */
export function ruleProblems(source: string, kind: 'accept' | 'failfast'): RuleProblem[] {
  return obviouslyValid(source, kind) ? NO_PROBLEMS : parseRule(source, kind).problems;
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
