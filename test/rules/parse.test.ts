import { describe, expect, it } from 'vitest';
import { parseRule } from '../../src/rules/parse.js';

describe('accept/failfast rule language', () => {
  it('parses every documented predicate into a typed form', () => {
    const { rule, problems } = parseRule(
      'exit==0 && exists:out/a.txt && lines>=3:out/a.jsonl && bytes<100:x && json:out/a.json && schema:card:out/c.jsonl && cmd:node -e "1" && stdout~/ok \\/ done/i && stderr!~/WARN/ && tokens<=5000 && cost<0.5 && duration<2m && attempts<2',
      'accept',
    );
    expect(problems).toEqual([]);
    expect(rule!.predicates.map((p) => p.kind)).toEqual(['exit', 'exists', 'count', 'count', 'json', 'schema', 'cmd', 'match', 'match', 'figure', 'figure', 'figure', 'figure']);
    expect(rule!.predicates[2]).toMatchObject({ unit: 'lines', op: '>=', value: 3, path: 'out/a.jsonl', col: 32 });
    expect(rule!.predicates[6]).toMatchObject({ command: 'node -e "1"' });
    expect(rule!.predicates[7]).toMatchObject({ stream: 'stdout', negate: false, source: 'ok \\/ done', flags: 'i' });
    expect(rule!.predicates[8]).toMatchObject({ stream: 'stderr', negate: true });
    expect(rule!.predicates[11]).toMatchObject({ figure: 'duration', op: '<', value: 120_000 });
  });

  it('keeps && inside a regex literal', () => {
    const { rule } = parseRule('stdout~/a && b/ && exit==0', 'accept');
    expect(rule!.predicates).toHaveLength(2);
    expect(rule!.predicates[0]).toMatchObject({ source: 'a && b' });
  });

  it('allows never only for failfast', () => {
    expect(parseRule('never', 'failfast').rule!.predicates).toEqual([]);
    expect(parseRule('never', 'accept').problems[0]!.rule).toBe('rule.never-accept');
  });

  it('reports the column of an unknown predicate and lists the known forms', () => {
    const { problems } = parseRule('exit==0 && looks_good', 'accept');
    expect(problems).toEqual([expect.objectContaining({ col: 12, rule: 'rule.unknown-predicate' })]);
    expect(problems[0]!.hint).toMatch(/exists:PATH/);
  });

  it.each(['exists:../x', 'json:/etc/passwd', 'lines>=1:a/../../b', 'exists:.git/config', 'schema:card:C:\\x'])('refuses a path outside the repository: %s', (src) => {
    expect(parseRule(src, 'accept').problems[0]!.rule).toBe('rule.path-escape');
  });

  it('refuses an empty predicate from a stray &&', () => {
    expect(parseRule('exit==0 &&', 'accept').problems[0]!.rule).toBe('rule.empty');
  });
});

describe('ruleProblems (fast path) agrees with the full parser', () => {
  const samples = [
    'exit==0', 'exit!=2', 'exit==', 'exit=0', 'exists:a/b.txt', 'exists:', 'exists:../x', 'exists:/abs', 'exists:a\\b', 'exists:.git/x', 'exists:a/.git/x',
    'lines>=1:x.jsonl', 'lines>=1:', 'lines>=:x', 'lines=>1:x', 'bytes<10:a && json:b.json', 'json:', 'cost>0.20', 'cost>0.', 'cost>.5', 'tokens>5000',
    'attempts>=2', 'duration>300s', 'duration>5m', 'duration>20ms', 'duration>300', 'duration>3h', 'never', 'exit==0 && ', 'exit==0 &&  exists:a',
    'schema:card:x.jsonl', 'cmd:true', 'stdout~/x/', 'lines>=1:a/../../b', 'exists:C:\\x', 'exists:a&&b', 'foo',
  ];
  it.each(samples.flatMap((s) => [[s, 'accept'], [s, 'failfast']] as const))('%s (%s)', async (src, kind) => {
    const { ruleProblems } = await import('../../src/rules/parse.js');
    expect(ruleProblems(src, kind).map((p) => p.rule)).toEqual(parseRule(src, kind).problems.map((p) => p.rule));
  });
});
