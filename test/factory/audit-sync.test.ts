// The audit log off main: a truck's records go to the store and travel on the data branch g7/audit, main's
// history never holds them, and coreloop on a fresh clone (a GitHub-hosted job) reads what earlier jobs
// recorded. Real clones of a real HTTP remote, the g7 binary.
import { describe, expect, it } from 'vitest';
import { cloneRemote, factory, g7Process, gitAsync, type CardSpec } from './fixture.js';
import { httpRemote } from '../git/http-remote.js';

const cards: CardSpec[] = [
  ...[1, 2, 3].map((i) => ({ id: `L1_SCAN_00000${i}`, prio: 'A' as const, input: [`doc00${i}.md`], output: `ssot/library_index/scan/${i}.jsonl`, accept: `lines>=1:ssot/library_index/scan/${i}.jsonl` })),
  ...[1, 2, 3].map((i) => ({ id: `L2_TAG_00000${i}`, prio: 'B' as const, input: `ssot/library_index/scan/${i}.jsonl`, output: `ssot/library_index/tags/${i}.jsonl`, accept: `json:ssot/library_index/tags/${i}.jsonl`, deps: [`L1_SCAN_00000${i}`] })),
];

const lines = (s: string) => s.split('\n').filter(Boolean);

describe('the audit log on the data branch g7/audit', () => {
  it('a truck pushes its records to g7/audit and none to main; coreloop pattern on a fresh clone reads them', { timeout: 120_000 }, async () => {
    const f = await factory(cards);
    const remote = await httpRemote(f.root);
    try {
      const work = await cloneRemote(remote.url);
      const run = await g7Process(work, ['run', '--push']);
      expect(run.code, run.err).toBe(0);

      const segments = lines(await gitAsync(remote.bare, 'ls-tree', '-r', '--name-only', 'g7/audit'));
      expect(segments.length).toBeGreaterThan(0);
      expect(segments.every((p) => /^\d{4}-\d{2}-\d{2}\/\d{2}-.+-\d+\.jsonl$/.test(p))).toBe(true);
      let onBranch = 0;
      for (const p of segments) onBranch += lines(await gitAsync(remote.bare, 'cat-file', 'blob', `g7/audit:${p}`)).length;
      expect(onBranch).toBeGreaterThan(2);
      // Nothing of the audit log, nor of the store, in any commit of main.
      const touched = lines(await gitAsync(remote.bare, 'log', 'main', '--name-only', '--format=', '--', 'ssot/audit/ai-ask', 'ssot/store'));
      expect(touched).toEqual([]);

      // A fresh clone, as a hosted coreloop job starts: its store is empty, the records come from g7/audit.
      const fresh = await cloneRemote(remote.url);
      const p = await g7Process(fresh, ['--json', 'coreloop', 'pattern', '--since', '1d']);
      expect(p.code, p.err).toBe(0);
      expect(JSON.parse(p.out).scanned).toMatchObject({ records: onBranch });
      expect(p.err).toMatch(/took \d+ audit records? of earlier jobs from origin g7\/audit/);
      // The records it took stay in its store: never committed.
      expect(await gitAsync(fresh, 'status', '--porcelain', '--untracked-files=all', '--', 'ssot/store')).toBe('');
    } finally {
      await remote.close();
    }
  });
});
