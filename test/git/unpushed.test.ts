// Evidence survives a discarded runner. A ruleset (here a pre-receive hook) refuses the factory's push to
// main: the commits go to the side branch g7/unpushed/<run> of the same remote, the runner is thrown away,
// and the next job, a fresh clone, lands the side branch on main before it departs, deletes it, and goes on
// with the truck: nothing lost, and no card (no model call) paid for twice. A forge that answers 503 once is
// tried again, not counted as a refusal.
import { describe, expect, it } from 'vitest';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cloneRemote, factory, g7Process, geminiAt, git, gitAsync, type CardSpec } from '../factory/fixture.js';
import { fakeGemini } from '../fakes/gemini-server.js';
import { httpRemote, type HttpRemote } from './http-remote.js';

/** A ruleset on main only, as GitHub's: every other branch takes pushes. Counts the refusals. */
async function protectMain(remote: HttpRemote): Promise<{ refusals: () => Promise<number>; lift: () => Promise<void> }> {
  const hook = path.join(remote.bare, 'hooks', 'pre-receive');
  const count = path.join(remote.bare, 'refusals');
  await writeFile(hook, `#!/bin/sh\nwhile read old new ref; do\n  if [ "$ref" = refs/heads/main ]; then\n    echo refused >> "${count}"\n    echo "error: GH013: Repository rule violations found for refs/heads/main." >&2\n    echo "- Changes must be made through a pull request." >&2\n    exit 1\n  fi\ndone\nexit 0\n`);
  await chmod(hook, 0o755);
  return { refusals: async () => (await readFile(count, 'utf8').catch(() => '')).split('\n').filter(Boolean).length, lift: () => rm(hook) };
}

// 12 SCAN cards, then a TAG card (one model call each: one chunk per file) per scanned file. Bundle 1 holds
// the 12 SCANs and 8 TAGs, bundle 2 the last 4 TAGs.
const pad = (i: number) => String(i).padStart(6, '0');
const cards: CardSpec[] = [
  ...Array.from({ length: 12 }, (_, i): CardSpec => ({ id: `L1_SCAN_${pad(i + 1)}`, prio: 'A', input: [`doc${String(i + 1).padStart(3, '0')}.md`], output: `ssot/library_index/scan/${i + 1}.jsonl` })),
  ...Array.from({ length: 12 }, (_, i): CardSpec => ({ id: `L2_TAG_${pad(i + 1)}`, prio: 'A', input: `ssot/library_index/scan/${i + 1}.jsonl`, output: `ssot/library_index/tags/${i + 1}.jsonl`, deps: [`L1_SCAN_${pad(i + 1)}`] })),
];
const branches = (remote: HttpRemote) => git(remote.bare, 'for-each-ref', '--format=%(refname:short)', 'refs/heads').split('\n').filter(Boolean).sort();
const subjects = (remote: HttpRemote, ref: string) => git(remote.bare, 'log', '--format=%s', ref);

describe('a push the ruleset refuses, on a runner that is discarded', () => {
  it('parks the evidence on g7/unpushed/<run>; the next job, a fresh clone, lands it, deletes the side branch, and pays for nothing twice', { timeout: 120_000 }, async () => {
    const fake = await fakeGemini({ keys: ['k-unpushed'] });
    const f = await factory(cards, { libraryFiles: 12 });
    await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 100000 }\n${geminiAt(fake.url)}`);
    f.git('commit', '-qam', 'point at the fake');
    const remote = await httpRemote(f.root);
    const env = { GEMINI_API_KEY: 'k-unpushed' };
    const calls = () => fake.requests.filter((q) => q.verb === 'generateContent').length;
    try {
      const ruleset = await protectMain(remote);
      // Job 1: refused on main after bundle 1, parked on the side branch, then the runner is gone.
      const job1 = await cloneRemote(remote.url);
      const r1 = await g7Process(job1, ['run', '--push'], env);
      expect(r1.code, r1.err).toBe(8);
      expect(r1.err).toMatch(/git push to origin main was refused: pre-receive hook declined; error: GH013: Repository rule violations found for refs\/heads\/main/);
      expect(r1.err).toMatch(/it is parked on origin g7\/unpushed\/run_0001: the next g7 run --push, from any clone of origin, lands it before it departs/);
      expect(calls()).toBe(8);
      expect(branches(remote)).toEqual(['g7/audit', 'g7/cache', 'g7/unpushed/run_0001', 'main']);
      expect(subjects(remote, 'main')).not.toMatch(/g7:/);
      expect(subjects(remote, 'g7/unpushed/run_0001').split('\n')[0]).toMatch(/^g7: run_0001 round 1 truck A stop: RECOVERABLE, 20 passed/);
      await rm(path.dirname(job1), { recursive: true, force: true });

      // Job 2: still refused. It lands the parked commits locally, departs no truck, parks again, pays nothing.
      const job2 = await cloneRemote(remote.url);
      const r2 = await g7Process(job2, ['run', '--push'], env);
      expect(r2.code, r2.err).toBe(8);
      expect(r2.out).toMatch(/landed the evidence parked on origin g7\/unpushed\/run_0001/);
      expect(r2.err).toMatch(/no truck departs/);
      expect(calls()).toBe(8);
      expect(git(job2, 'log', '--format=%s')).not.toMatch(/run_0002/);
      expect(branches(remote)).toEqual(['g7/audit', 'g7/cache', 'g7/unpushed/run_0001', 'main']);
      await rm(path.dirname(job2), { recursive: true, force: true });

      // Job 3, once the factory may push: lands run_0001 on main, deletes the side branch, runs the last 4 TAGs.
      await ruleset.lift();
      const job3 = await cloneRemote(remote.url);
      const r3 = await g7Process(job3, ['run', '--push'], env);
      expect(r3.code, r3.err).toBe(0);
      expect(r3.out).toMatch(/landed the evidence parked on origin g7\/unpushed\/run_0001/);
      expect(calls()).toBe(12); // one model call per TAG card, over three jobs
      expect(branches(remote)).toEqual(['g7/audit', 'g7/cache', 'main']); // the data branches (answers, audit records) stay; the side branch is gone
      const main = subjects(remote, 'main');
      expect(main.split('\n')[0]).toMatch(/^g7: run_0002 round 1 truck A stop: READY, 4 passed/);
      expect(main).toMatch(/g7: run_0001 round 1 truck A stop: RECOVERABLE, 20 passed/);
      expect(await ruleset.refusals()).toBe(2); // job 1's checkpoint, job 2's departure; job 3 pushed

      // Every card once, from the remote alone.
      const fresh = await cloneRemote(remote.url);
      for (const id of ['run_0001', 'run_0002']) expect((await g7Process(fresh, ['verify', id])).code).toBe(0);
      const journal = (await readFile(path.join(fresh, 'ssot/state/journal/20261121.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const results = journal.filter((e) => e.event === 'card_result');
      expect(results.map((e) => e.card).sort()).toEqual(cards.map((c) => c.id).sort());
      expect(results.every((e) => e.status === 'PASS')).toBe(true);
    } finally {
      await remote.close();
      await fake.close();
    }
  });

  it('tries a push again when the forge answers 503, and does not count it as a refusal', { timeout: 60_000 }, async () => {
    const f = await factory(Array.from({ length: 3 }, (_, i): CardSpec => ({ id: `L1_TEST_${pad(i + 1)}`, prio: 'A', input: `printf ${i}`, output: `ssot/out/${i}.txt`, accept: 'exit==0' })));
    const remote = await httpRemote(f.root, { unavailable: 2 });
    try {
      const work = await cloneRemote(remote.url);
      const r = await g7Process(work, ['run', '--push']);
      expect(r.code, r.err).toBe(0);
      expect(r.err).not.toMatch(/refused/);
      await gitAsync(work, 'fetch', '-q', 'origin');
      expect(git(work, 'rev-parse', 'HEAD')).toBe(git(work, 'rev-parse', 'origin/main'));
      expect(branches(remote)).toEqual(['main']);
    } finally {
      await remote.close();
    }
  });
});
