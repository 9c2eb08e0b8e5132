// Errors a user can act on. Every failure that reaches a person names the file, the line (and column),
// the field and the rule, says what to do, and maps to one of the five triage classes.

export type TriageClass = 'IMPORT' | 'PATH' | 'SCHEMA' | 'TEST' | 'API';

export interface Problem {
  file: string;
  line?: number | undefined;
  col?: number | undefined;
  /** Dotted field path inside the document, e.g. `entries[2].lane`. */
  field?: string | undefined;
  /** The rule that was broken, e.g. `schema.enum`, `plan.max-lines`, `rule.unknown-predicate`. */
  rule: string;
  message: string;
  /** What the person should do about it. */
  hint?: string | undefined;
}

export function formatProblem(p: Problem): string {
  let where = p.file;
  if (p.line !== undefined) where += `:${p.line}`;
  if (p.line !== undefined && p.col !== undefined) where += `:${p.col}`;
  const field = p.field ? ` ${p.field}:` : '';
  const hint = p.hint ? `\n    → ${p.hint}` : '';
  return `${where}:${field} ${p.message} [${p.rule}]${hint}`;
}

/** A failure with the problems behind it. `triage` says which class it falls in, `transient` whether a retry may help. */
export class G7Error extends Error {
  readonly triage: TriageClass;
  readonly problems: Problem[];
  readonly transient: boolean;
  /** One sentence on top of the problems, when they need context (e.g. "nothing was packed"). */
  readonly summary: string | undefined;
  /**
   * For a transient failure whose cause says when it clears (a daily quota's reset, the night budget's new
   * day, a long RetryInfo.retryDelay): an ISO time before which trying again is pointless.
   */
  readonly retryAfter: string | undefined;
  constructor(triage: TriageClass, problems: Problem[], opts: { transient?: boolean; summary?: string; retryAfter?: string } = {}) {
    super(opts.summary ?? problems.map(formatProblem).join('\n'));
    this.name = 'G7Error';
    this.triage = triage;
    this.problems = problems;
    this.transient = opts.transient ?? false;
    this.summary = opts.summary;
    this.retryAfter = opts.retryAfter;
  }
}

/** Invalid card, pack, plan, config or worker response. */
export class SchemaError extends G7Error {
  constructor(problems: Problem[], summary?: string) {
    super('SCHEMA', problems, summary === undefined ? {} : { summary });
    this.name = 'SchemaError';
  }
}

/** A missing file, or a path outside the allowed set. */
export class PathError extends G7Error {
  constructor(problems: Problem[]) {
    super('PATH', problems);
    this.name = 'PathError';
  }
}

/** The command line was wrong: no file involved, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Collects problems up to a bound, counting the rest, so one bad file cannot flood a terminal. */
export class ProblemList {
  readonly items: Problem[] = [];
  dropped = 0;
  constructor(readonly max = 50) {}
  add(p: Problem): void {
    if (this.items.length < this.max) this.items.push(p);
    else this.dropped++;
  }
  addAll(ps: Iterable<Problem>): void {
    for (const p of ps) this.add(p);
  }
  get size(): number {
    return this.items.length + this.dropped;
  }
  throwIfAny(summary?: string): void {
    if (this.size === 0) return;
    const list = [...this.items];
    if (this.dropped > 0) {
      const file = list[list.length - 1]?.file ?? '';
      list.push({ file, rule: 'problems.truncated', message: `… and ${this.dropped} more problems not shown` });
    }
    throw new SchemaError(list, summary);
  }
}
