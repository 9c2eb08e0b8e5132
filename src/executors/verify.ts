// VERIFY: the outputs of the card's deps still exist, still parse, and still have the sha256 journaled
// when those cards passed; then a seal listing them is written to the card's output.
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { PathError, SchemaError, type Problem } from '../contracts/errors.js';
import { writeFileAtomic } from '../ssot/atomic.js';
import { resolveInRepo, normalizeRepoPath } from '../ssot/paths.js';
import { emptyResult, type ExecContext, type ExecResult } from './types.js';

function parses(path: string, bytes: Buffer): boolean {
  try {
    if (path.endsWith('.jsonl')) bytes.toString('utf8').split('\n').filter((l) => l.trim()).forEach((l) => JSON.parse(l));
    else if (path.endsWith('.json')) JSON.parse(bytes.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

export async function verify(ctx: ExecContext): Promise<ExecResult> {
  const missing: Problem[] = [];
  const bad: Problem[] = [];
  const sealed: { card: string; path: string; sha256: string }[] = [];
  for (const o of ctx.depOutputs) {
    let bytes: Buffer;
    try {
      bytes = await readFile(resolveInRepo(ctx.layout.repoRoot, o.path));
    } catch {
      missing.push({ file: o.path, rule: 'verify.missing', message: `output of ${o.card} is missing` });
      continue;
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (sha !== o.sha256) bad.push({ file: o.path, rule: 'verify.hash', message: `output of ${o.card} changed since it passed (sha256 ${sha.slice(0, 12)}…, recorded ${o.sha256.slice(0, 12)}…)` });
    else if (!parses(o.path, bytes)) bad.push({ file: o.path, rule: 'verify.parse', message: `output of ${o.card} does not parse` });
    else sealed.push(o);
  }
  if (missing.length) throw new PathError([...missing, ...bad]);
  if (bad.length) throw new SchemaError(bad);
  await writeFileAtomic(resolveInRepo(ctx.layout.repoRoot, ctx.card.output), JSON.stringify({ sealed_by: ctx.card.id, outputs: sealed }, null, 2) + '\n');
  const r = emptyResult();
  r.stdout = `verified ${sealed.length} outputs of ${new Set(sealed.map((s) => s.card)).size} cards\n`;
  r.outputs = [normalizeRepoPath(ctx.card.output)];
  return r;
}
