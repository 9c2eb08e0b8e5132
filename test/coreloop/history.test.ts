// Status, the stability gate and propose-axis read git history: merge commits, squashes and rebases of
// coreloop branches, reverts, and docstrings whose shape got worse.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { mkdtemp, readFile, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { Git } from '../../src/git/git.js';
import { initRepo } from './repo.js';
import { pullMarker, readHistory, readPulls, stabilityGate, withPulls } from '../../src/coreloop/history.js';
import { OctokitForge } from '../../src/forge/octokit.js';
import { fakeGitHub, testPatience } from '../fakes/github-server.js';
import { judgeAxis } from '../../src/coreloop/axis.js';
import { tempRepo } from '../helpers.js';

const DAY = 86400e3;
const iso = (daysAgo: number) => new Date(Date.now() - daysAgo * DAY).toISOString();

async function repo() {
  const root = await mkdtemp(path.join(tmpdir(), 'g7-hist-'));
  const git = await initRepo(root);
  await mkdir(path.join(root, 'ssot/skills'), { recursive: true });
  const skill = await readFile(path.join(import.meta.dirname, '../../ssot/skills/TAG.md'), 'utf8');
  await writeFile(path.join(root, 'ssot/skills/TAG.md'), skill);
  await git.run(['add', '-A']);
  await git.run(['commit', '-qm', 'init']);
  let n = 0;
  const at = (daysAgo: number) => new Git(root, { ...process.env, GIT_AUTHOR_DATE: iso(daysAgo), GIT_COMMITTER_DATE: iso(daysAgo) });
  /** A coreloop commit on its own branch, merged into main as a merge commit, a squash or a rebase. */
  async function coreloop(phase: 'R' | 'F', axis: string, daysAgo: number, how: 'merge' | 'squash' | 'ff', content?: string): Promise<string> {
    n++;
    const g = at(daysAgo);
    const branch = `skill/docstring-tag-x-${n}`;
    await g.run(['checkout', '-q', '-b', branch, 'main']);
    const file = path.join(root, 'ssot/skills/TAG.md');
    await writeFile(file, content ?? (await readFile(file, 'utf8')).replace('## Caveats', `- bullet ${n}\n  [g7 G-0000000${n} | c | rec r | m | d]\n\n## Caveats`));
    const msg = [`[CORELOOP-${phase}] TAG.md ${phase === 'R' ? 'Guide' : 'Caveats'}: bullet ${n}`, `bullet ${n} text`, `G7-Coreloop: ${phase}\nG7-Candidate-Key: ${String(n).padStart(16, '0')}\nG7-Target: ssot/skills/TAG.md\nG7-Engine: tag\nG7-Axis: ${axis}\nG7-Action: append\nG7-Bullet: G-0000000${n}`];
    await g.run(['commit', '-qam', msg[0]!, '-m', msg[1]!, '-m', msg[2]!]);
    const sha = (await g.run(['rev-parse', 'HEAD'])).stdout.trim();
    await g.run(['checkout', '-q', 'main']);
    if (how === 'merge') await g.run(['merge', '-q', '--no-ff', '-m', `Merge pull request #${n} from o/${branch}`, branch]);
    else if (how === 'ff') await g.run(['merge', '-q', '--ff-only', branch]);
    else {
      await g.run(['merge', '-q', '--squash', branch]);
      await g.run(['commit', '-qm', `${msg[0]} (#${n})`, '-m', msg[1]!, '-m', msg[2]!]);
    }
    return how === 'squash' ? (await g.run(['rev-parse', 'HEAD'])).stdout.trim() : sha;
  }
  return { root, git, at, coreloop };
}

describe('coreloop history from git', () => {
  it('counts R and F merges however they were merged, and the open branches', async () => {
    const r = await repo();
    await r.coreloop('R', '수익성', 40, 'merge');
    await r.coreloop('R', '수익성', 35, 'squash');
    await r.coreloop('F', '수익성', 20, 'ff');
    await r.git.run(['branch', 'skill/docstring-tag-open-1', 'main']);
    await r.at(1).run(['checkout', '-q', 'skill/docstring-tag-open-1']);
    await r.at(1).run(['commit', '-q', '--allow-empty', '-m', '[CORELOOP-R] open', '-m', 'G7-Coreloop: R\nG7-Candidate-Key: ffffffffffffffff']);
    await r.git.run(['checkout', '-q', 'main']);
    const h = await readHistory(r.git);
    expect(h.merged.map((c) => [c.phase, c.text])).toEqual([['R', 'bullet 1 text'], ['R', 'bullet 2 text'], ['F', 'bullet 3 text']]);
    expect(h.merged[0]!.mergedAt.slice(0, 10)).toBe(iso(40).slice(0, 10));
    expect(h.open).toEqual([expect.objectContaining({ branch: 'skill/docstring-tag-open-1', key: 'ffffffffffffffff', phase: 'R' })]);
    expect(h.shapeRegressions).toEqual([]);
    const gate = stabilityGate(h, new Date());
    expect(gate).toMatchObject({ consecutiveCleanR: 2, revertsLast3Months: 0, shapeRegressions: 0, tier: 1 });
  });

  it('a revert breaks the streak and closes tier 2; a shape regression is found from the blobs', async () => {
    const r = await repo();
    const first = await r.coreloop('R', 'a', 50, 'merge');
    await r.at(10).run(['revert', '--no-edit', first]);
    await r.coreloop('R', 'a', 5, 'ff', '# TAG\n\n## Summary\nonly a summary now\n');
    const h = await readHistory(r.git);
    expect(h.reverts).toEqual([expect.objectContaining({ reverted: first })]);
    expect(h.shapeRegressions).toEqual([expect.objectContaining({ target: 'ssot/skills/TAG.md' })]);
    expect(h.shapeRegressions[0]!.after).toBeGreaterThan(h.shapeRegressions[0]!.before);
    expect(stabilityGate(h, new Date())).toMatchObject({ consecutiveCleanR: 0, revertsLast3Months: 1, shapeRegressions: 1, tier: 1 });
  });

  it('a revert of the merge commit (git revert -m 1) resets the streak and names the commits it counted', async () => {
    const r = await repo();
    const first = await r.coreloop('R', 'a', 50, 'merge');
    const second = await r.coreloop('R', 'a', 40, 'merge');
    const clean = await r.git.run(['log', '-1', '--format=%H', 'HEAD']);
    const before = stabilityGate(await readHistory(r.git), new Date());
    expect(before).toMatchObject({ consecutiveCleanR: 2, revertsLast3Months: 0 });
    expect(before.counted.cleanR).toEqual([second, first]);
    const merge = clean.stdout.trim();
    await r.at(10).run(['revert', '--no-edit', '-m', '1', merge]);
    const revert = (await r.git.run(['rev-parse', 'HEAD'])).stdout.trim();
    expect((await r.git.run(['log', '-1', '--format=%s'])).stdout).toMatch(/^Revert "Merge pull request #2/);
    const third = await r.coreloop('R', 'a', 5, 'merge');
    const h = await readHistory(r.git);
    expect(h.reverts).toEqual([expect.objectContaining({ sha: revert, reverted: second, how: 'revert-merge' })]);
    const gate = stabilityGate(h, new Date());
    expect(gate).toMatchObject({ consecutiveCleanR: 1, revertsLast3Months: 1, tier: 1 });
    expect(gate.counted.cleanR).toEqual([third]);
    expect(judgeAxis(h, 'tag', 'a', { minRMerges: 0, minFCaveats: 0, minAgeDays: 0 }, new Date()).r.map((c) => c.sha)).toEqual([first, third]);
  });

  it('a later commit that removes the bullet id counts as the bullet leaving', async () => {
    const r = await repo();
    const first = await r.coreloop('R', 'a', 50, 'merge');
    const file = path.join(r.root, 'ssot/skills/TAG.md');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/- bullet 1\n {2}\[g7 G-00000001[^\n]*\n/, ''));
    await r.at(30).run(['commit', '-qam', 'tidy the TAG skill by hand']);
    const removal = (await r.git.run(['rev-parse', 'HEAD'])).stdout.trim();
    await r.coreloop('R', 'a', 20, 'ff');
    const h = await readHistory(r.git);
    expect(h.reverts).toEqual([expect.objectContaining({ sha: removal, reverted: first, how: 'removed' })]);
    expect(stabilityGate(h, new Date())).toMatchObject({ consecutiveCleanR: 1, revertsLast3Months: 1 });
  });

  it('propose-axis writes a proposal only when R ≥ 3, F ≥ 2 and the first R merge is 30 days old', async () => {
    const r = await repo();
    for (const d of [45, 40, 31]) await r.coreloop('R', '수익성', d, 'merge');
    await r.coreloop('F', '수익성', 20, 'merge');
    const t = { minRMerges: 3, minFCaveats: 2, minAgeDays: 30 };
    expect(judgeAxis(await readHistory(r.git), 'tag', '수익성', t, new Date()).missing).toEqual(['merged F caveats: 1 < 2']);
    await r.coreloop('F', 'suikseong', 10, 'squash'); // the same axis, written as its slug
    expect(judgeAxis(await readHistory(r.git), 'tag', '수익성', t, new Date()).missing).toEqual([]);
    expect(judgeAxis(await readHistory(r.git), 'tag', '수익성', { ...t, minAgeDays: 60 }, new Date()).missing).toEqual(['first R merge is 45 days old < 60']);
  });

  it('g7 coreloop propose-axis and status through the CLI', async () => {
    const t = await tempRepo({ example: true });
    const git = await initRepo(t.root);
    await git.run(['add', '-A']);
    await git.run(['commit', '-qm', 'init']);
    const no = await t.g7('coreloop', 'propose-axis', '--engine', 'tag', '--axis', '수익성');
    expect(no.code).toBe(6);
    expect(no.out).toBe('no proposal for tag/수익성: merged R bullets: 0 < 3; merged F caveats: 0 < 2; no R merge yet');
    const s = await t.g7('coreloop', 'status');
    expect(s.code).toBe(0);
    expect(s.out).toContain('R promote   0 merged, 0 open (skill/docstring-* branches and draft PRs), 0 candidate(s) rejected, 0 PR(s) closed without merging');
    expect(s.out).toContain('forge       GitHub not consulted: there is no origin remote and GITHUB_REPOSITORY is not set; from git alone');
    expect(s.out).toContain('tier        0 (everything by hand)');
    const yes = await t.g7('coreloop', 'propose-axis', '--engine', 'tag', '--axis', '수익성', '--min-r-merges', '0', '--min-f-caveats', '0', '--min-age-days', '0');
    expect(yes.code).toBe(0);
    const file = yes.out.match(/wrote (\S+?): /)![1]!;
    expect(file).toMatch(/ssot\/audit\/proposals\/\d{4}-\d{2}-\d{2}-tag-suikseong\.md$/);
    expect(await readFile(path.resolve(file), 'utf8')).toContain('# Proposal: a "수익성" axis for the tag engine');
  });
});

describe('history with the forge', () => {
  it('merges only GitHub knows of count for propose-axis; open and closed pull requests are told apart', async () => {
    const gh = await fakeGitHub({ repo: 'g7-factory/factory', token: 'ghs_historytoken0000000001' });
    try {
      const mark = (phase: 'R' | 'F', n: number) => pullMarker({ phase, key: `k${n}`.padEnd(16, '0'), bullet: `${phase === 'R' ? 'G' : 'C'}-0000000${n}`, engine: 'tag', axis: '수익성', action: 'append', target: 'ssot/skills/TAG.md' });
      const pr = (n: number, phase: 'R' | 'F', state: 'merged' | 'open' | 'closed', daysAgo: number) =>
        gh.addPullRequest({ number: n, title: `[CORELOOP-${phase}] TAG.md ${n}`, head: `skill/docstring-tag-x-${n}`, state: state === 'open' ? 'open' : 'closed', merged_at: state === 'merged' ? iso(daysAgo) : null, body: `evidence\n\n${mark(phase, n)}` });
      pr(1, 'R', 'merged', 40);
      pr(2, 'R', 'merged', 20);
      pr(3, 'R', 'merged', 10);
      pr(4, 'F', 'merged', 9);
      pr(5, 'F', 'merged', 8);
      pr(6, 'R', 'open', 1);
      pr(7, 'R', 'closed', 2);
      gh.addPullRequest({ number: 8, title: 'Fix a typo', head: 'fix/typo' });
      gh.expect('search/issues-and-pull-requests', { q: 'repo:g7-factory/factory is:pr head:skill/docstring-' });
      const forge = new OctokitForge({ repo: { owner: 'g7-factory', repo: 'factory' }, token: 'ghs_historytoken0000000001', baseUrl: gh.url, patience: testPatience });
      const { git } = await repo();
      const h = withPulls(await readHistory(git), await readPulls(forge));
      gh.verify();
      expect(h.merged.map((c) => c.sha)).toEqual(['#1', '#2', '#3', '#4', '#5']);
      expect(h.open.map((o) => o.url)).toEqual(['https://github.com/g7-factory/factory/pull/6']);
      expect(h.closed.map((c) => c.number)).toEqual([7]);
      const v = judgeAxis(h, 'tag', '수익성', { minRMerges: 3, minFCaveats: 2, minAgeDays: 30 }, new Date());
      expect(v.missing).toEqual([]);
      expect(v.r).toHaveLength(3);
    } finally {
      await gh.close();
    }
  });
});
