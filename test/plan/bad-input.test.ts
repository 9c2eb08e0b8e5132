// The bad-input corpus: every case must be refused with a message that names the file, the line and
// (where the problem is about a field) the field, and never a stack trace.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { checkFile } from '../../src/plan/check.js';
import type { Problem } from '../../src/contracts/errors.js';
import { card, jsonl, tempRepo } from '../helpers.js';

const PLAN_HEAD = 'date: 2026-11-21\ngoal: test\nentries:\n';
const ENTRY = (extra = '') => `  - name: scan\n    lane: 1\n    prio: A\n    type: TEST\n    input: echo hi\n    output: out/x.txt\n${extra}`;
const plan = (entries: string) => PLAN_HEAD + entries;
const PACK = { id: 'p1', goal: 'g', files: { create: ['a.txt'], modify: [] }, forbidden: [], success: ['s'], evidence: ['e'] };

interface Case {
  name: string;
  file: string;
  content: string | Uint8Array;
  line: number;
  field?: string;
  rule?: string | RegExp;
  message?: RegExp;
  hint?: RegExp;
}

const C = (id: string, extra: Record<string, unknown> = {}) => card(id, 'A', [], extra);

const cases: Case[] = [
  // Day plans: YAML syntax and shape
  // The parser gives up past the end of the file; the problem names the bracket that was never closed.
  { name: 'broken YAML: unclosed flow map', file: 'plans/p.yaml', content: 'date: 2026-11-21\ngoal: x\nentries: [ { name: a\n', line: 3, rule: 'yaml.unclosed-flow', message: /never closed: the parser reached the end of the file/, hint: /add the closing [}\]]/ },
  { name: 'broken YAML: unclosed flow map before the next key', file: 'plans/p.yaml', content: 'date: 2026-11-21\ngit: { branch: main, note: "a } in quotes"\ngoal: x\n', line: 2, rule: 'yaml.unclosed-flow', message: /this \{ is never closed: the parser reached line 3/, hint: /add the closing \}/ },
  { name: 'broken YAML: bad indentation', file: 'plans/p.yaml', content: 'date: 2026-11-21\n goal: x\nentries: []\n', line: 1, rule: /^yaml\./ },
  { name: 'broken YAML: duplicate key', file: 'plans/p.yaml', content: 'date: 2026-11-21\ndate: 2026-11-22\ngoal: x\n', line: 2, rule: /^yaml\./ },
  { name: 'broken YAML: tab indentation', file: 'plans/p.yaml', content: 'date: 2026-11-21\ngoal: x\nentries:\n\t- name: a\n', line: 4, rule: /^yaml\./ },
  { name: 'empty plan', file: 'plans/p.yaml', content: '', line: 1, rule: 'plan.empty' },
  { name: 'plan is a list', file: 'plans/p.yaml', content: '- a\n- b\n', line: 1, field: '(document)', rule: 'schema.type' },
  { name: 'missing goal', file: 'plans/p.yaml', content: 'date: 2026-11-21\nentries:\n' + ENTRY(), line: 1, field: 'goal', rule: 'schema.required' },
  { name: 'bad date', file: 'plans/p.yaml', content: 'date: 2026-13-40\ngoal: g\nentries:\n' + ENTRY(), line: 1, field: 'date', rule: 'schema.pattern', message: /"2026-13-40" is not a real date/, hint: /month is 01-12/ },
  { name: 'a STRIKE entry whose input is not PATH#La-Lb', file: 'plans/p.yaml', content: PLAN_HEAD + '  - { name: s, lane: 3, prio: C, type: STRIKE, input: ssot/library_index/strike_list.jsonl, output: out/s.jsonl }\n', line: 4, field: 'entries[0].input', rule: 'plan.strike-input', message: /STRIKE input must be PATH#La-Lb \(lines a to b of a strike list\), got "ssot\/library_index\/strike_list.jsonl" for card L3_STRIKE_/, hint: /each: \{ lines: ssot\/library_index\/strike_list.jsonl/ },
  { name: 'a day the month does not have', file: 'plans/p.yaml', content: 'date: 2026-02-30\ngoal: g\nentries:\n' + ENTRY(), line: 1, field: 'date', rule: 'plan.date', message: /"2026-02-30" is not a real date: that month has no such day/, hint: /a day that exists/ },
  { name: 'a plan dated another day than its file name', file: 'plans/dayplan_20261122.yaml', content: 'goal: g\ndate: 2026-11-21\nentries:\n' + ENTRY(), line: 2, field: 'date', rule: 'plan.date-file', message: /dated 2026-11-21 but its file is named for 2026-11-22/, hint: /rename the file to dayplan_20261121\.yaml, or fix the date/ },
  { name: 'date not written YYYY-MM-DD', file: 'plans/p.yaml', content: 'date: 21.11.2026\ngoal: g\nentries:\n' + ENTRY(), line: 1, field: 'date', rule: 'schema.pattern', message: /does not have the required form/, hint: /YYYY-MM-DD/ },
  { name: 'no entries', file: 'plans/p.yaml', content: PLAN_HEAD.replace('entries:\n', 'entries: []\n'), line: 3, field: 'entries', rule: 'schema.min-items' },
  { name: 'lane 9', file: 'plans/p.yaml', content: plan(ENTRY().replace('lane: 1', 'lane: 9')), line: 5, field: 'entries[0].lane', rule: 'schema.maximum', hint: /^use a number ≤ 8$/ },
  { name: 'lane 0', file: 'plans/p.yaml', content: plan(ENTRY().replace('lane: 1', 'lane: 0')), line: 5, field: 'entries[0].lane', rule: 'schema.minimum' },
  { name: 'lane as text', file: 'plans/p.yaml', content: plan(ENTRY().replace('lane: 1', 'lane: one')), line: 5, field: 'entries[0].lane', rule: 'schema.type' },
  { name: 'prio E', file: 'plans/p.yaml', content: plan(ENTRY().replace('prio: A', 'prio: E')), line: 6, field: 'entries[0].prio', rule: 'schema.enum', hint: /^write one of A, B, C, D$/ },
  { name: 'unknown type', file: 'plans/p.yaml', content: plan(ENTRY().replace('type: TEST', 'type: BUILD')), line: 7, field: 'entries[0].type', rule: 'schema.enum' },
  { name: 'unknown field', file: 'plans/p.yaml', content: plan(ENTRY('    colour: red\n')), line: 10, field: 'entries[0].colour', rule: 'schema.unknown-field' },
  { name: 'bad entry name', file: 'plans/p.yaml', content: plan(ENTRY().replace('name: scan', 'name: Scan Step')), line: 4, field: 'entries[0].name', rule: 'schema.pattern' },
  { name: 'bad cost hint', file: 'plans/p.yaml', content: plan(ENTRY('    cost_hint: CHEAP\n')), line: 10, field: 'entries[0].cost_hint', rule: 'schema.enum' },
  { name: '31-line plan', file: 'plans/p.yaml', content: plan(ENTRY()) + '# filler\n'.repeat(31 - 9), line: 31, rule: 'plan.max-lines' },
  { name: 'duplicate entry names', file: 'plans/p.yaml', content: plan(ENTRY() + ENTRY()), line: 10, field: 'entries[1].name', rule: 'plan.duplicate-entry' },
  { name: 'after names an unknown entry', file: 'plans/p.yaml', content: plan(ENTRY('    after: ghost\n')), line: 10, field: 'entries[0].after', rule: 'plan.unknown-entry' },
  { name: 'entries in a cycle', file: 'plans/p.yaml', content: plan(ENTRY('    after: two\n') + ENTRY('    after: scan\n').replace('name: scan', 'name: two')), line: 10, field: 'entries[0].after', rule: 'plan.cycle', message: /scan → two → scan/ },
  { name: 'entry waits for itself', file: 'plans/p.yaml', content: plan(ENTRY('    after: scan\n')), line: 10, field: 'entries[0].after', rule: 'plan.self-dependency' },
  { name: 'unknown accept predicate', file: 'plans/p.yaml', content: plan(ENTRY('    accept: exit==0 && smells_ok\n')), line: 10, field: 'entries[0].accept', rule: 'rule.unknown-predicate', message: /smells_ok.*column 12/ },
  { name: 'unknown failfast predicate', file: 'plans/p.yaml', content: plan(ENTRY('    failfast: price>3\n')), line: 10, field: 'entries[0].failfast', rule: 'rule.unknown-predicate' },
  { name: 'known failfast predicate, wrong operator', file: 'plans/p.yaml', content: plan(ENTRY('    failfast: cost>>0.20\n')), line: 10, field: 'entries[0].failfast', rule: 'rule.bad-form', message: /"cost>>0\.20" is not a form of cost/, hint: /^write cost>X \(operators/ },
  { name: 'duration without unit', file: 'plans/p.yaml', content: plan(ENTRY('    failfast: duration>300\n')), line: 10, field: 'entries[0].failfast', rule: 'rule.duration-unit' },
  { name: 'never as accept rule', file: 'plans/p.yaml', content: plan(ENTRY('    accept: never\n')), line: 10, field: 'entries[0].accept', rule: 'rule.never-accept' },
  { name: 'bad regex in rule', file: 'plans/p.yaml', content: plan(ENTRY('    accept: "stdout~/a(/"\n')), line: 10, field: 'entries[0].accept', rule: 'rule.bad-regex' },
  { name: 'unknown schema in rule', file: 'plans/p.yaml', content: plan(ENTRY('    accept: schema:nope:out/x.txt\n')), line: 10, field: 'entries[0].accept', rule: 'rule.unknown-schema' },
  { name: '../ output path', file: 'plans/p.yaml', content: plan(ENTRY().replace('out/x.txt', '../outside.txt')), line: 9, field: 'entries[0].output', rule: 'plan.path-escape' },
  { name: 'absolute output path', file: 'plans/p.yaml', content: plan(ENTRY().replace('out/x.txt', '/etc/passwd')), line: 9, field: 'entries[0].output', rule: 'plan.path-escape' },
  { name: 'Windows absolute output path', file: 'plans/p.yaml', content: plan(ENTRY().replace('out/x.txt', '"C:\\\\temp\\\\x.txt"')), line: 9, field: 'entries[0].output', rule: 'plan.path-escape' },
  { name: 'output into .git', file: 'plans/p.yaml', content: plan(ENTRY().replace('out/x.txt', '.git/hooks/pre-commit')), line: 9, field: 'entries[0].output', rule: 'plan.path-escape' },
  { name: '../ path inside an accept rule', file: 'plans/p.yaml', content: plan(ENTRY('    accept: exists:../../secret\n')), line: 10, field: 'entries[0].accept', rule: 'rule.path-escape' },
  { name: 'unknown template variable', file: 'plans/p.yaml', content: plan(ENTRY().replace('out/x.txt', 'out/{nn}.txt')), line: 9, field: 'entries[0].output', rule: 'plan.unknown-template-var' },
  { name: 'each with two sources', file: 'plans/p.yaml', content: plan(ENTRY('    each: { count: 2, lines: a.txt }\n')), line: 10, field: 'entries[0].each', rule: 'plan.each-source' },
  { name: 'each count zero', file: 'plans/p.yaml', content: plan(ENTRY('    each: { count: 0 }\n')), line: 10, field: 'entries[0].each.count', rule: 'schema.minimum' },
  { name: 'PATCH without a pack', file: 'plans/p.yaml', content: plan(ENTRY().replace('type: TEST', 'type: PATCH')), line: 4, field: 'entries[0].pack', rule: 'plan.patch-needs-pack' },
  { name: 'pack that does not exist', file: 'plans/p.yaml', content: plan(ENTRY('    pack: 개집999\n')), line: 10, field: 'entries[0].pack', rule: 'plan.pack-missing' },
  { name: 'two entries write one output', file: 'plans/p.yaml', content: plan(ENTRY() + ENTRY().replace('name: scan', 'name: two')), line: 15, field: 'entries[1].output', rule: 'plan.output-collision', message: /entry "scan" \(card L1_TEST_000001, line 9\) and entry "two" \(card L1_TEST_100001\) both write "out\/x.txt"/, hint: /its own output path/ },
  { name: 'the cards of one entry write one output', file: 'plans/p.yaml', content: plan(ENTRY('    each: { count: 2 }\n')), line: 9, field: 'entries[0].output', rule: 'plan.output-collision', message: /cards L1_TEST_000001 and L1_TEST_000002 of entry "scan" both write "out\/x.txt"/ },
  { name: 'each counts that do not pair', file: 'plans/p.yaml', content: plan(ENTRY('    each: { count: 2 }\n') + ENTRY('    each: { count: 3 }\n    after: { entry: scan, mode: each }\n').replace('name: scan', 'name: two')), line: 18, field: 'entries[1].after', rule: 'plan.each-count' },
  { name: 'invalid UTF-8 byte', file: 'plans/p.yaml', content: Buffer.concat([Buffer.from('date: 2026-11-21\ngoal: caf'), Buffer.from([0xe9]), Buffer.from('\n')]), line: 2, rule: 'text.encoding' },

  // Backlogs (JSONL)
  { name: 'empty backlog', file: 'backlog/backlog_20261121.jsonl', content: '', line: 1, rule: 'backlog.empty' },
  { name: 'truncated last JSONL line', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001')]) + '{"id":"L1_TEST_000002","lane":1,"pr', line: 2, rule: 'jsonl.torn-tail' },
  { name: 'invalid JSON in the middle', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001')]) + '{"id": oops}\n' + jsonl([C('L1_TEST_000003')]), line: 2, rule: 'json.syntax' },
  { name: 'card lane 9', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { lane: 9 })]), line: 1, field: 'lane', rule: 'schema.maximum' },
  { name: 'card lane as text', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { lane: '1' })]), line: 1, field: 'lane', rule: 'schema.type', hint: /whole number/ },
  { name: 'card prio E', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001'), C('L1_TEST_000002', { prio: 'E' })]), line: 2, field: 'prio', rule: 'schema.enum' },
  { name: 'card unknown type', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { type: 'DEPLOY' })]), line: 1, field: 'type', rule: 'schema.enum' },
  { name: 'card missing accept', file: 'backlog/backlog_20261121.jsonl', content: jsonl([{ ...C('L1_TEST_000001'), accept: undefined }]), line: 1, field: 'accept', rule: 'schema.required' },
  { name: 'card deps not a list', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { deps: 'L1_TEST_000002' })]), line: 1, field: 'deps', rule: 'schema.type' },
  { name: 'card with a malformed id', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { id: 'scan-1' })]), line: 1, field: 'id', rule: 'schema.pattern' },
  { name: 'id lane disagrees with lane', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { lane: 2 })]), line: 1, field: 'id', rule: 'card.id-lane' },
  { name: 'duplicate ids', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001'), C('L1_TEST_000002'), C('L1_TEST_000001')]), line: 3, field: 'id', rule: 'backlog.duplicate-id', message: /first on line 1/ },
  { name: 'unknown dep', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { deps: ['L1_TEST_000404'] })]), line: 1, field: 'deps', rule: 'backlog.unknown-dep' },
  { name: 'dependency cycle', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { deps: ['L1_TEST_000003'] }), C('L1_TEST_000002', { deps: ['L1_TEST_000001'] }), C('L1_TEST_000003', { deps: ['L1_TEST_000002'] })]), line: 1, field: 'deps', rule: 'backlog.cycle', message: /L1_TEST_000001 → L1_TEST_000003 → L1_TEST_000002 → L1_TEST_000001/ },
  { name: 'card output ../', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { output: '../../x' })]), line: 1, field: 'output', rule: 'card.path-escape' },
  { name: 'card output absolute', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { output: '/tmp/x' })]), line: 1, field: 'output', rule: 'card.path-escape' },
  { name: 'card unknown predicate', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { accept: 'vibes:good' })]), line: 1, field: 'accept', rule: 'rule.unknown-predicate' },
  { name: 'card referencing a missing pack', file: 'backlog/backlog_20261121.jsonl', content: jsonl([C('L1_TEST_000001', { pack: 'nope' })]), line: 1, field: 'pack', rule: 'backlog.pack-missing' },

  // Work packs (JSON)
  { name: 'pack broken JSON', file: 'backlog/packs/p1.json', content: '{\n  "id": "p1",\n  "goal": \n}\n', line: 4, rule: 'json.syntax' },
  { name: 'pack trailing comma', file: 'backlog/packs/p1.json', content: '{\n  "id": "p1",\n}\n', line: 3, rule: 'json.syntax' },
  { name: 'pack missing files', file: 'backlog/packs/p1.json', content: JSON.stringify({ ...PACK, files: undefined }, null, 2), line: 1, field: 'files', rule: 'schema.required' },
  { name: 'pack create is not a list', file: 'backlog/packs/p1.json', content: JSON.stringify({ ...PACK, files: { create: 'a.txt', modify: [] } }, null, 2), line: 5, field: 'files.create', rule: 'schema.type' },
  { name: 'pack allows a path outside the repository', file: 'backlog/packs/p1.json', content: JSON.stringify({ ...PACK, files: { create: ['ok.txt', '../../etc/cron.d/x'], modify: [] } }, null, 2), line: 7, field: 'files.create[1]', rule: 'pack.path-escape' },
  { name: 'pack id does not match its file', file: 'backlog/packs/p1.json', content: JSON.stringify({ ...PACK, id: 'p2' }, null, 2), line: 2, field: 'id', rule: 'pack.id-file' },
  { name: 'empty pack file', file: 'backlog/packs/p1.json', content: '', line: 1, rule: 'json.syntax' },

  // factory.yaml
  { name: 'factory: 130-slot truck', file: 'factory.yaml', content: 'trucks:\n  slots: 130\n', line: 2, field: 'trucks.slots', rule: 'ops.120plus120' },
  { name: 'factory: three trucks a round', file: 'factory.yaml', content: 'trucks: { per_round: 3 }\n', line: 1, field: 'trucks.per_round', rule: 'ops.120plus120' },
  { name: 'factory: quota change', file: 'factory.yaml', content: 'library: { root: lib }\ntrucks:\n  quotas: { A: 70, B: 26, C: 18, D: 6 }\n', line: 3, field: 'trucks.quotas.A', rule: 'ops.120plus120' },
  { name: 'factory: rpm as text', file: 'factory.yaml', content: 'limits: { rpm: x }\n', line: 1, field: 'limits.rpm', rule: 'schema.type', hint: /whole number/ },
  { name: 'factory: negative budget', file: 'factory.yaml', content: 'budget:\n  per_truck_usd: -1\n', line: 2, field: 'budget.per_truck_usd', rule: 'schema.minimum' },
  // factory.yaml: what it names must be there (the schema alone passed these; g7 run refused them later)
  { name: 'factory: a model without a price', file: 'factory.yaml', content: 'library: { root: ssot }\nmodels: { HIGH: gemini-9-pro }\nprices_per_mtok:\n  gemini-2.5-pro: { in: 1.25, out: 10 }\n', line: 2, field: 'models.HIGH', rule: 'config.no-price', message: /"gemini-9-pro" has no price/ },
  { name: 'factory: a skill file that does not exist', file: 'factory.yaml', content: 'library: { root: ssot }\nskills:\n  TAG: ssot/skills/TAG.md\n', line: 3, field: 'skills.TAG', rule: 'config.skill-missing', message: /"ssot\/skills\/TAG\.md" does not exist/ },
  { name: 'factory: a library root that does not exist', file: 'factory.yaml', content: 'library: { root: libary }\n', line: 1, field: 'library.root', rule: 'config.library-missing', message: /"libary" does not exist/ },
  { name: 'the journal is not a backlog', file: 'state/journal.jsonl', content: '{"ts":"t","event":"resume","day":"20261121","state":"READY"}\n', line: 1, rule: 'check.journal', message: /this is the journal/ },
  { name: 'a day of the journal is not a backlog', file: 'state/journal/20261121.2.jsonl', content: '{"ts":"t","event":"resume","day":"20261121","state":"READY"}\n', line: 1, rule: 'check.journal', message: /this is the journal/ },
  { name: 'factory: unknown key', file: 'factory.yaml', content: 'libary: { root: lib }\n', line: 1, field: 'libary', rule: 'schema.unknown-field' },
];

describe('bad-input corpus', () => {
  it.each(cases)('$name', async (c) => {
    const repo = await tempRepo();
    const abs = await repo.write(path.join('ssot', c.file), c.content);
    const result = await checkFile(abs, repo.layout, (p) => path.relative(repo.root, p));
    expect(result.ok).toBe(false);
    const shown = path.join('ssot', c.file);
    const match = result.problems.find((p: Problem) => (c.rule === undefined ? true : typeof c.rule === 'string' ? p.rule === c.rule : c.rule.test(p.rule)));
    expect(match, `problems were: ${JSON.stringify(result.problems, null, 1)}`).toBeDefined();
    expect(match!.file).toBe(shown);
    expect(match!.line).toBe(c.line);
    if (c.field) expect(match!.field).toBe(c.field);
    if (c.message) expect(match!.message).toMatch(c.message);
    expect(match!.message).not.toMatch(/\n\s+at /); // no stack traces
    expect(match!.hint, `${match!.rule}: every problem says what to do (a → line)`).toMatch(/\S/);
    if (c.hint) expect(match!.hint).toMatch(c.hint);
  });

  it('reports every bad line of a backlog, bounded, not just the first', async () => {
    const repo = await tempRepo();
    const rows = Array.from({ length: 300 }, (_, i) => C(`L1_TEST_${String(i + 1).padStart(6, '0')}`, { prio: i % 2 ? 'E' : 'A' }));
    const abs = await repo.write('ssot/backlog/backlog_20261121.jsonl', jsonl(rows));
    const r = await checkFile(abs, repo.layout, (p) => p);
    expect(r.problems.filter((p) => p.rule === 'schema.enum').map((p) => p.line)).toEqual(Array.from({ length: 50 }, (_, i) => 2 * i + 2));
    expect(r.problems.at(-1)!.message).toBe('… and 100 more problems not shown');
  });
});

describe('YAML syntax errors', () => {
  it('shows the first few and says what usually causes a cascade inside { … }', async () => {
    const repo = await tempRepo();
    const abs = await repo.write('ssot/plans/p.yaml', 'date: 2026-11-22\ngoal: x\nentries:\n  - { name: a, lane: 1, prio: A, type: TEST, input: x, output: out/{n}.jsonl, accept: "exists:x" }\n');
    const r = await checkFile(abs, repo.layout, (p) => p);
    expect(r.problems.length).toBeLessThanOrEqual(4);
    expect(r.problems[0]).toMatchObject({ line: 4, rule: expect.stringMatching(/^yaml\./), hint: expect.stringMatching(/must be quoted/) });
  });
});
