// promote/refine below the CLI: the reproduction check's seam refuses a regressing change, and a bullet
// whose records turned harmful is proposed for retirement and removed by its own [CORELOOP-F] commit.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { initRepo } from './repo.js';
import { promoteCandidate, pullRequestsNotAvailable, type ReproductionCheck } from '../../src/coreloop/promote.js';
import { tempRepo } from '../helpers.js';
import { rec, withReflector, writeDay } from './mining.js';

const today = () => new Date().toISOString().slice(0, 10);
const TAG = 'ssot/skills/TAG.md';
const BULLET = '- Always add the strike tag.\n  [g7 G-0badc0de | cand-2026-10-01-001 | rec a,b,c | gemini-2.5-flash | 2026-10-01]\n';

async function repoWithBullet() {
  const repo = await tempRepo({ example: true });
  const file = path.join(repo.root, TAG);
  await writeFile(file, (await readFile(file, 'utf8')).replace('## Guide\n', `## Guide\n${BULLET}`));
  const git = await initRepo(repo.root);
  await git.run(['add', '-A']);
  await git.run(['commit', '-qm', 'a skill with a promoted bullet']);
  return { repo, git, original: await readFile(file) };
}

describe('promote and refine: the seams and retirement', () => {
  it('refuses a change whose reproduction check fails, with the table, and commits nothing', async () => {
    const { repo, git } = await repoWithBullet();
    const recent = new Date(Date.now() - 3600e3).toISOString();
    await writeDay(repo.layout.auditDir, today(), [1, 2, 3, 4].map((i) => rec('TAG:tag', 'seq:1', `tag ok-${i}.md`, { ts: recent })));
    const reflector = await withReflector(repo);
    await reflector.mine('coreloop', 'pattern').finally(() => reflector.close());
    await git.run(['commit', '-qam', 'the reflector\'s model']);
    const file = path.join(repo.layout.auditDir, 'candidates', `${today()}-candidates.json`);
    const cand = JSON.parse(await readFile(file, 'utf8')).candidates[0];
    const table = '| case | A | B |\n|---|---|---|\n| pinned-1 | pass | FAIL |';
    const regressing: ReproductionCheck = { run: async () => ({ ran: true, passed: false, table, note: 'B regressed the pinned set' }) };
    const deps = { repoRoot: repo.root, git, env: process.env, now: new Date().toISOString(), reproduction: regressing, allowUnreplayed: false, evidenceDir: 'ssot/audit/reproductions', pullRequests: pullRequestsNotAvailable('test') };
    const err = await promoteCandidate(deps, cand, 'x.json', 'R', true).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(String((err as { problems?: { message: string }[] }).problems?.[0]?.message)).toContain(table);
    expect((err as Error).message).toMatch(/refused by the reproduction check; nothing was committed/);
    expect((await git.run(['branch', '--list', 'skill/*'])).stdout).toBe('');
  });

  it('a bullet named in failing records is proposed for retirement; the F commit removes exactly its lines', async () => {
    const { repo, git, original } = await repoWithBullet();
    const recent = new Date(Date.now() - 3600e3).toISOString();
    const rs = [
      ...[1, 2, 3].map((i) => rec('TAG:tag', 'seq:1', `tag bad-${i}.md`, { ts: recent, skill_bullets: ['G-0badc0de'], violation: 'tagged strike without evidence' })),
      rec('TAG:tag', 'seq:1', 'tag good.md', { ts: recent, skill_bullets: ['G-0badc0de'] }),
    ];
    await writeDay(repo.layout.auditDir, today(), rs);
    expect((await repo.g7('coreloop', 'refine')).code).toBe(0);
    const file = path.join(repo.layout.auditDir, 'counterexamples', `${today()}-counterexamples.json`);
    const retire = JSON.parse(await readFile(file, 'utf8')).candidates.find((c: { action: string }) => c.action === 'retire');
    expect(retire).toMatchObject({ section: 'Guide', target: TAG, bullet: { id: 'G-0badc0de' }, evidence: { helpful: 1, harmful: 3 } });
    const r = await repo.g7('coreloop', 'refine', '--candidate', file, '--id', retire.id, '--confirm', '--no-replay');
    expect(r.code, r.err).toBe(0);
    const branch = r.out.match(/on branch (\S+):/)![1]!;
    expect((await git.run(['log', '-1', '--format=%s', branch])).stdout.trim()).toBe('[CORELOOP-F] TAG.md retire G-0badc0de');
    const after = (await git.run(['show', `${branch}:${TAG}`])).stdout;
    expect(after).toBe(original.toString('utf8').replace(BULLET, ''));
  });
});
