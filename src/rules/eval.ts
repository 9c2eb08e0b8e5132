// Evaluating accept/failfast rules against a card's result and the files it wrote.
import { stat, readFile } from 'node:fs/promises';
import type { RuleResult } from '../contracts/types.gen.js';
import { isValid, explain } from '../contracts/validate.js';
import { resolveInRepo } from '../ssot/paths.js';
import { forEachLine } from '../ssot/jsonl.js';
import { decodeText } from '../ssot/text.js';
import type { Shell } from '../host/shell.js';
import { compare, type Predicate, type Rule } from './parse.js';

export interface RunFigures {
  exit: number;
  stdout: string;
  stderr: string;
  tokens: number;
  cost: number;
  durationMs: number;
  attempts: number;
}

export interface RuleEnv {
  repoRoot: string;
  figures: RunFigures;
  shell: Shell;
  timeoutMs: number;
}

async function countLines(abs: string): Promise<number> {
  let n = 0;
  await forEachLine(abs, (t) => {
    if (t.trim() !== '') n++;
  });
  return n;
}

async function jsonProblem(abs: string, schema?: Parameters<typeof isValid>[0]): Promise<string | undefined> {
  const check = (value: unknown, where: string) => {
    if (schema && !isValid(schema, value)) {
      const p = explain(schema, value, { file: where })[0];
      return `${where}: ${p?.field ?? ''} ${p?.message ?? 'does not match'} (${schema})`;
    }
    return undefined;
  };
  if (abs.endsWith('.jsonl')) {
    let bad: string | undefined;
    await forEachLine(abs, (t, line) => {
      if (t.trim() === '') return;
      try {
        bad = check(JSON.parse(t), `line ${line}`);
      } catch {
        bad = `line ${line} is not valid JSON`;
      }
      return bad ? 'stop' : undefined;
    });
    return bad;
  }
  try {
    return check(JSON.parse(decodeText(await readFile(abs), abs)), 'document');
  } catch {
    return 'not valid JSON';
  }
}

async function evalPredicate(p: Predicate, env: RuleEnv): Promise<RuleResult> {
  const f = env.figures;
  const r = (ok: boolean, detail: string): RuleResult => ({ rule: p.text, ok, detail });
  const file = 'path' in p ? resolveInRepo(env.repoRoot, p.path) : '';
  const missing = async () => {
    try {
      return (await stat(file)).isFile() || (await stat(file)).isDirectory() ? undefined : 'not a file';
    } catch {
      return `${'path' in p ? p.path : ''} does not exist`;
    }
  };
  switch (p.kind) {
    case 'exit':
      return r(compare(p.op, f.exit, p.value), `exit ${f.exit}`);
    case 'exists': {
      const m = await missing();
      return r(!m, m ?? 'exists');
    }
    case 'count': {
      const m = await missing();
      if (m) return r(false, m);
      const n = p.unit === 'bytes' ? (await stat(file)).size : await countLines(file);
      return r(compare(p.op, n, p.value), `${n} ${p.unit}`);
    }
    case 'json':
    case 'schema': {
      const m = await missing();
      if (m) return r(false, m);
      const bad = await jsonProblem(file, p.kind === 'schema' ? p.schema : undefined);
      return r(!bad, bad ?? (p.kind === 'schema' ? `matches ${p.schema}` : 'valid JSON'));
    }
    case 'cmd': {
      const res = await env.shell.run(p.command, { cwd: env.repoRoot, timeoutMs: env.timeoutMs });
      const tail = (res.stderr || res.stdout).trim().split('\n').slice(-3).join(' | ');
      return r(res.exit === 0, `exit ${res.exit}${tail ? `: ${tail.slice(0, 300)}` : ''}`);
    }
    case 'match': {
      const text = p.stream === 'stdout' ? f.stdout : f.stderr;
      const hit = new RegExp(p.source, p.flags).test(text);
      return r(p.negate ? !hit : hit, `${p.stream} ${hit ? 'matches' : 'does not match'}`);
    }
    case 'figure': {
      const v = p.figure === 'tokens' ? f.tokens : p.figure === 'cost' ? f.cost : p.figure === 'attempts' ? f.attempts : f.durationMs;
      const shown = p.figure === 'duration' ? `${Math.round(v)} ms` : p.figure === 'cost' ? `$${v.toFixed(4)}` : String(v);
      return r(compare(p.op, v, p.value), `${p.figure} ${shown}`);
    }
  }
}

/** Every predicate's result. An accept rule passes when all hold; a failfast rule fires when all hold. */
export async function evaluateRule(rule: Rule, env: RuleEnv): Promise<RuleResult[]> {
  const out: RuleResult[] = [];
  for (const p of rule.predicates) out.push(await evalPredicate(p, env));
  return out;
}

export function allHold(results: RuleResult[]): boolean {
  return results.length > 0 && results.every((r) => r.ok);
}
