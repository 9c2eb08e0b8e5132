// Which candidates were decided already, so that the miners do not propose them again: rejected (the
// decisions store, or its pull request closed without merging), merged (a coreloop commit or pull request
// with its key was merged, or its bullet is in the target docstring) or proposed (an open skill/docstring-*
// branch or pull request carries its key).
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { readDecisions } from './candidates.js';
import type { History } from './history.js';
import type { Known } from './pattern.js';
import { bulletIds } from './skill/bullets.js';
import { parseTarget } from './skill/doc.js';

export async function knownCandidates(auditDir: string, repoRoot: string, h: History): Promise<Known> {
  const decisions = await readDecisions(auditDir);
  const closed = new Set(h.closed.map((p) => p.marker?.key).filter(Boolean));
  const merged = new Set(h.merged.map((c) => c.trailers['G7-Candidate-Key']).filter(Boolean));
  const open = new Set(h.open.map((o) => o.key).filter(Boolean));
  const present = new Map<string, Promise<string[]>>();
  const idsIn = (target: string) => {
    let p = present.get(target);
    if (!p) present.set(target, (p = readFile(path.resolve(repoRoot, parseTarget(target).file), 'utf8').then(bulletIds, () => [])));
    return p;
  };
  return async (key, bulletId, target) => {
    if (decisions.has(key) || closed.has(key)) return 'rejected';
    if (merged.has(key)) return 'merged';
    if (open.has(key)) return 'proposed';
    if (target && (await idsIn(target)).includes(bulletId)) return 'merged';
    return undefined;
  };
}
