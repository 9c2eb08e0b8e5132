import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { generateTypes, TYPES_FILE } from '../../scripts/gen-types.mjs';
import { generateValidators, VALIDATORS_FILE } from '../../scripts/gen-validators.mjs';
import AjvModule from 'ajv';
import { explain, isValid, SCHEMA_NAMES, SCHEMAS } from '../../src/contracts/validate.js';
import workerAnswers from '../../schemas/worker_answers.schema.json' with { type: 'json' };
import { card } from '../helpers.js';

describe('contracts', () => {
  it('TypeScript types are the ones generated from the shipped schemas (run npm run gen:types)', async () => {
    expect(await readFile(TYPES_FILE, 'utf8')).toBe(await generateTypes());
  });

  it('validators are the ones generated from the shipped schemas (run npm run gen:validators)', async () => {
    expect(await readFile(VALIDATORS_FILE, 'utf8')).toBe(await generateValidators());
  });

  it('ships one schema per contract', () => {
    expect(SCHEMA_NAMES).toEqual(['card', 'pack', 'dayplan', 'factory', 'packet', 'state', 'journal', 'verify_report', 'hash_manifest', 'audit_record', 'coreloop_candidates', 'lane_plan']);
  });

  it('every shipped schema is a valid JSON Schema (g7 skips this check at run time)', () => {
    const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule) as unknown as new (o: object) => { validateSchema(s: object): boolean; errors?: unknown };
    const ajv = new Ajv({ strict: true });
    for (const schema of [...Object.values(SCHEMAS), workerAnswers]) expect(ajv.validateSchema(schema as object), `${schema.$id}: ${JSON.stringify(ajv.errors)}`).toBe(true);
  });

  it('accepts a valid card and explains an invalid one field by field', () => {
    expect(isValid('card', card('L1_SCAN_000001', 'A'))).toBe(true);
    const problems = explain('card', { ...card('L1_SCAN_000001', 'A'), lane: 9, extra: 1, input: 5 }, { file: 'b.jsonl', line: 7 });
    expect(problems.map((p) => [p.line, p.field, p.rule])).toEqual([
      [7, 'extra', 'schema.unknown-field'],
      [7, 'lane', 'schema.maximum'],
      [7, 'input', 'schema.any-of'],
    ]);
  });

  it('counts lengths in characters, a surrogate pair as one (maxLength of a pack id: 64)', () => {
    const withPack = (pack: string) => isValid('card', { ...card('L1_PATCH_000001', 'A'), pack });
    expect(withPack('개'.repeat(64))).toBe(true);
    expect(withPack('😀'.repeat(64))).toBe(true);
    expect(withPack('😀'.repeat(65))).toBe(false);
    expect(withPack('a'.repeat(63) + '😀')).toBe(true);
    expect(withPack('a'.repeat(64) + '😀')).toBe(false);
  });

  it('accepts a minimal audit record v2', () => {
    const rec = {
      schema_version: 2, ts: '2026-11-21T00:00:00Z', request_id: 'r1', question: 'q', question_hash: 'sha256:abcdef12', category_hash: 'TAG', hint: null,
      provider: 'gemini', model: 'gemini-2.5-flash', tool_calls: [], tool_sequence_hash: 'seq:0', override_calls: [], rounds: 1, chunk_len: 10,
      error: null, violation: null, skill_used: null, duration_total_ms: 5, judgment: { verdict: null, judged_at: null, judged_by: null, pr_url: null },
    };
    expect(explain('audit_record', rec, { file: 'a.jsonl' })).toEqual([]);
  });
});
