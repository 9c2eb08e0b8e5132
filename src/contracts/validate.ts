// The contracts. Every document the factory reads or writes is checked here, by validators generated from
// the schemas with ajv (standalone code, src/contracts/validators.gen.ts), and every complaint is turned
// into a Problem a person can act on.
import type { ErrorObject, ValidateFunction } from 'ajv';
import * as generated from './validators.gen.js';
import cardSchema from '../../schemas/card.schema.json' with { type: 'json' };
import packSchema from '../../schemas/pack.schema.json' with { type: 'json' };
import dayplanSchema from '../../schemas/dayplan.schema.json' with { type: 'json' };
import factorySchema from '../../schemas/factory.schema.json' with { type: 'json' };
import packetSchema from '../../schemas/packet.schema.json' with { type: 'json' };
import stateSchema from '../../schemas/state.schema.json' with { type: 'json' };
import journalSchema from '../../schemas/journal.schema.json' with { type: 'json' };
import verifyReportSchema from '../../schemas/verify_report.schema.json' with { type: 'json' };
import hashManifestSchema from '../../schemas/hash_manifest.schema.json' with { type: 'json' };
import auditRecordSchema from '../../schemas/audit_record.schema.json' with { type: 'json' };
import workerAnswersSchema from '../../schemas/worker_answers.schema.json' with { type: 'json' };
import coreloopCandidatesSchema from '../../schemas/coreloop_candidates.schema.json' with { type: 'json' };
import lanePlanSchema from '../../schemas/lane_plan.schema.json' with { type: 'json' };
import type { Problem } from './errors.js';
import { pointerToField, type LocatedDoc } from '../ssot/doc.js';

export const SCHEMAS = {
  card: cardSchema,
  pack: packSchema,
  dayplan: dayplanSchema,
  factory: factorySchema,
  packet: packetSchema,
  state: stateSchema,
  journal: journalSchema,
  verify_report: verifyReportSchema,
  hash_manifest: hashManifestSchema,
  audit_record: auditRecordSchema,
  coreloop_candidates: coreloopCandidatesSchema,
  lane_plan: lanePlanSchema,
} as const;

/** The answer contracts per worker task kind (definitions of worker_answers.schema.json). */
export const WORKER_ANSWERS = workerAnswersSchema.definitions;
export type AnswerKind = keyof typeof WORKER_ANSWERS;
export type SchemaName = keyof typeof SCHEMAS;
export const SCHEMA_NAMES = Object.keys(SCHEMAS) as SchemaName[];

type Validators<K extends string> = Record<K, ValidateFunction>;
// Plain functions generated from the schemas (scripts/gen-validators.mjs): no ajv to load; each is compiled
// the first time it is asked for, so a command compiles only the validators it uses.
const firstError = generated.firstError as unknown as Validators<SchemaName>;
const everyError = generated.everyError as unknown as Validators<SchemaName>;
const answers = generated.answers as unknown as Validators<AnswerKind>;

/** Problems of a worker's answer against its contract (empty when it is valid). */
export function explainAnswer(kind: AnswerKind, value: unknown, where: string): Problem[] {
  const validate = answers[kind];
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => ({ file: where, field: pointerToField(e.instancePath) || '(answer)', rule: `answer.${e.keyword}`, message: `${e.message ?? 'is invalid'}${e.keyword === 'additionalProperties' ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})` : ''}` }));
}

/** Fast path: true when valid (stops at the first error). Use `explain` to get problems. */
export function isValid(name: SchemaName, value: unknown): boolean {
  return firstError[name](value) as boolean;
}

const DATE_PATTERN = '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$';
const PATTERN_HINTS: Record<string, string> = {
  '^L[1-8]_(SCAN|TAG|STRIKE|TEST|PATCH|VERIFY|TRIAGE)_([0-9]{6}|[0-9]{8})$': 'a card id looks like L1_SCAN_000123 (lane 1-8, a card type, six digits; eight past an entry\'s 99,999th card)',
  '^[a-z][a-z0-9_-]{0,31}$': 'a name is lower case letters, digits, - and _, starting with a letter, at most 32 characters',
  [DATE_PATTERN]: 'a date is written YYYY-MM-DD',
  '^[^/\\\\.][^/\\\\]*$': 'a pack id is a plain file name without slashes',
};

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

function valueAt(root: unknown, pointer: string): unknown {
  let v: unknown = root;
  for (const seg of pointer.split('/').slice(1)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return v;
}

/** "≤ 8" reads better than "<= 8" in a hint. */
const BOUND: Record<string, string> = { '<=': '≤', '>=': '≥', '<': 'below', '>': 'above' };

/** What to write for an expected JSON type, in YAML terms. */
function typeHint(type: string): string {
  const say: Record<string, string> = {
    integer: 'a whole number, without quotes (8, not "8" or 8.5)',
    number: 'a number, without quotes',
    string: 'text; quote it if it looks like a number, a date, true/false or starts with a special character',
    boolean: 'true or false, without quotes',
    array: 'a list: [a, b] or one "- item" per line',
    object: 'a map: { key: value } or one "key: value" per line',
    null: 'null',
  };
  return `write ${type.split(',').map((t) => say[t] ?? t).join(', or ')}`;
}

function toProblem(e: ErrorObject, root: unknown): { pointer: string; rule: string; message: string; hint?: string } {
  const p = e.params as Record<string, unknown>;
  const value = valueAt(root, e.instancePath);
  const got = describe(value);
  switch (e.keyword) {
    case 'required':
      return {
        pointer: `${e.instancePath}/${String(p.missingProperty)}`,
        rule: 'schema.required',
        message: `missing required field "${String(p.missingProperty)}"`,
        hint: 'add the field',
      };
    case 'additionalProperties':
      return {
        pointer: `${e.instancePath}/${String(p.additionalProperty)}`,
        rule: 'schema.unknown-field',
        message: `unknown field "${String(p.additionalProperty)}"`,
        hint: 'remove it or check its spelling',
      };
    case 'enum':
      return {
        pointer: e.instancePath,
        rule: 'schema.enum',
        message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}; got ${got}`,
        hint: `write one of ${(p.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`,
      };
    case 'const':
      if (e.instancePath.startsWith('/trucks'))
        return {
          pointer: e.instancePath,
          rule: 'ops.120plus120',
          message: `OPS_120PLUS120 is fixed: this must be ${JSON.stringify(p.allowedValue)}; got ${got}`,
          hint: 'a truck is always 120 slots (A 60, B 36, C 18, D 6), two trucks a round, six bundles; remove the key',
        };
      return { pointer: e.instancePath, rule: 'schema.const', message: `must be ${JSON.stringify(p.allowedValue)}; got ${got}`, hint: `write ${JSON.stringify(p.allowedValue)}, or remove the key` };
    case 'type':
      return { pointer: e.instancePath, rule: 'schema.type', message: `must be ${String(p.type).replace(',', ' or ')}; got ${got}`, hint: typeHint(String(p.type)) };
    case 'pattern': {
      const hint = PATTERN_HINTS[String(p.pattern)];
      // YYYY-MM-DD in form but no day of the calendar (2026-13-41): the form is right, the date is not.
      if (hint === PATTERN_HINTS[DATE_PATTERN] && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value))
        return { pointer: e.instancePath, rule: 'schema.pattern', message: `${got} is not a real date`, hint: 'the month is 01-12 and the day 01-31' };
      return { pointer: e.instancePath, rule: 'schema.pattern', message: `${got} does not have the required form`, hint: hint ?? `must match ${String(p.pattern)}` };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { pointer: e.instancePath, rule: `schema.${e.keyword}`, message: `must be ${String(p.comparison)} ${String(p.limit)}; got ${got}`, hint: `use a number ${BOUND[String(p.comparison)] ?? String(p.comparison)} ${String(p.limit)}` };
    case 'minLength':
      return { pointer: e.instancePath, rule: 'schema.min-length', message: 'must not be empty', hint: 'give it a value, or remove the key if it is optional' };
    case 'minItems':
      return { pointer: e.instancePath, rule: 'schema.min-items', message: `must have at least ${String(p.limit)} item(s)`, hint: `list at least ${String(p.limit)} item(s) under it` };
    case 'uniqueItems':
      return { pointer: e.instancePath, rule: 'schema.unique-items', message: `has a repeated item (items ${String(p.j)} and ${String(p.i)})`, hint: 'remove the repeated item' };
    case 'anyOf':
      return { pointer: e.instancePath, rule: 'schema.any-of', message: `${got} is not one of the allowed forms`, hint: 'see the field in the README or its JSON Schema in schemas/' };
    default:
      return { pointer: e.instancePath, rule: `schema.${e.keyword}`, message: e.message ?? 'is invalid', hint: 'see the field in the README or its JSON Schema in schemas/' };
  }
}

/**
 * Validates `value` against a contract. Positions come from `doc` (a located YAML/JSON document) or,
 * for a JSONL line, from `line`. Errors under an anyOf collapse into one message for that field.
 */
export function explain(name: SchemaName, value: unknown, where: { file: string; doc?: LocatedDoc; line?: number }): Problem[] {
  const validate = everyError[name];
  if (validate(value)) return [];
  const errors = validate.errors ?? [];
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
  const seen = new Set<string>();
  const out: Problem[] = [];
  for (const e of errors) {
    // Branch errors of an anyOf at the same spot say the same thing three ways; keep the summary.
    if (e.keyword !== 'anyOf' && anyOfPaths.has(e.instancePath) && e.schemaPath.includes('/anyOf/')) continue;
    if (e.keyword === 'if') continue;
    const t = toProblem(e, value);
    const key = `${t.pointer}|${t.rule}|${t.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const pos = where.doc?.locate(t.pointer);
    out.push({
      file: where.file,
      line: pos?.line ?? where.line,
      col: pos?.col,
      field: pointerToField(t.pointer) || '(document)',
      rule: t.rule,
      message: t.message,
      hint: t.hint,
    });
  }
  return out;
}
