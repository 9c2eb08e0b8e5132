// The loop as a person drives it, through the g7 command line on a real git repository: mine, look at the
// diff, commit on a branch, merge or revert, mine again; reject; refine; status; propose an axis.
import { afterEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { Git } from '../../src/git/git.js';
import { initRepo } from './repo.js';
import { tempRepo, type TempRepo } from '../helpers.js';
import { planted, rec, REFLECTED, withReflector, writeDay } from './mining.js';

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const today = () => new Date().toISOString().slice(0, 10);
const recent = () => new Date(Date.now() - 3600e3).toISOString();

async function factoryRepo(): Promise<{ repo: TempRepo; git: Git; mine: (...args: string[]) => Promise<{ code: number; out: string; err: string }> }> {
  const repo = await tempRepo({ example: true });
  const git = await initRepo(repo.root);
  const planted1 = planted().map((r) => ({ ...r, ts: recent() }));
  // Failures of another kind of work: a failure of TAG:tag itself would keep its Guide from being proposed.
  planted1.push(...[1, 2, 3].map((i) => rec('TAG:tagbad', 'seq:9999', `tag fail-${i}.md`, { error: 'answer did not match the schema: tags must be taxonomy names', ts: recent() })));
  await writeDay(repo.layout.auditDir, today(), planted1);
  // The reflector writes each bullet from the cases: without a model, nothing is proposed.
  const reflector = await withReflector(repo);
  open.push(reflector);
  await git.run(['add', '-A']);
  await git.run(['commit', '-qm', 'the example factory with a day of audit records']);
  return { repo, git, mine: reflector.mine };
}

const TAG = 'ssot/skills/TAG.md';

describe('coreloop through the CLI, on a real git repository', () => {
  it('pattern → promote shows the diff and changes nothing → --confirm commits on a branch → git revert restores the bytes', async () => {
    const { repo, git, mine } = await factoryRepo();
    const original = await readFile(path.join(repo.root, TAG));
    const p = await mine('coreloop', 'pattern');
    expect(p.code).toBe(0);
    const file = path.join(repo.layout.auditDir, 'candidates', `${today()}-candidates.json`);
    const cands = JSON.parse(await readFile(file, 'utf8'));
    expect(cands.candidates.map((c: { category_hash: string }) => c.category_hash)).toEqual(['TAG:tag']);
    const id = cands.candidates[0].id;
    await git.run(['add', '-A']);
    await git.run(['commit', '-qm', 'candidates']);

    // Offline the worker never reads the skill: the check cannot say anything, so it is refused, never "passed".
    const offline = await repo.g7('coreloop', 'promote', '--candidate', file, '--id', id, '--confirm');
    expect(offline.code).toBe(6);
    expect(offline.err).toMatch(/not checkable: the offline worker answers from its rules and never reads the skill/);
    expect(offline.out + offline.err).not.toMatch(/passed/);
    const dry = await repo.g7('coreloop', 'promote', '--candidate', file, '--id', id, '--no-replay');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain(`+++ b/${TAG}`);
    expect(dry.out).toContain(`\n+- ${REFLECTED.Guide}\n`);
    expect(dry.out).toMatch(new RegExp(`would commit on branch skill/docstring-tag-tag-${today().replace(/-/g, '')} \\(from main\\): \\[CORELOOP-R\\] TAG\\.md Guide:`));
    expect(dry.out).toContain('would push it and open a draft PR labelled coreloop into main');
    expect((await git.run(['branch', '--list', 'skill/*'])).stdout).toBe('');

    const ok = await repo.g7('coreloop', 'promote', '--candidate', file, '--id', id, '--confirm', '--no-replay');
    expect(ok.code).toBe(0);
    const branch = `skill/docstring-tag-tag-${today().replace(/-/g, '')}`;
    expect(ok.out).toContain(`on branch ${branch}`);
    // The person's checkout is untouched: same branch, same file, clean tree.
    expect(await git.currentBranch()).toBe('main');
    expect((await readFile(path.join(repo.root, TAG))).equals(original)).toBe(true);
    expect((await git.run(['status', '--porcelain'])).stdout).toBe('');
    const commit = (await git.run(['log', '-1', '--format=%s%n%(trailers:only)', branch])).stdout;
    expect(commit).toMatch(/^\[CORELOOP-R\] TAG\.md Guide: /);
    expect(commit).toContain(`G7-Candidate: ${id}`);
    // The commit carries the skill change and the evidence it cites: the candidate and the reproduction table.
    const evidence = `ssot/audit/reproductions/${today()}-${cands.candidates[0].key}.json`;
    expect((await git.run(['diff', '--name-only', `main..${branch}`])).stdout.trim().split('\n').sort()).toEqual([evidence, TAG].sort());
    const carried = JSON.parse((await git.run(['show', `${branch}:${evidence}`])).stdout);
    expect(carried).toMatchObject({ candidate_file: expect.stringContaining('candidates.json'), candidate: { id, key: cands.candidates[0].key, bullet: cands.candidates[0].bullet }, reproduction: { ran: false } });
    // Again: nothing new.
    expect((await repo.g7('coreloop', 'promote', '--candidate', file, '--id', id, '--confirm', '--no-replay')).out).toContain('already committed on branch');
    // Mined again while the branch is open: not proposed again.
    const again = await mine('--json', 'coreloop', 'pattern');
    expect(JSON.parse(again.out)).toMatchObject({ found: 0, skipped: 1, kept: 1 });
    // The file the pull request cites was merged into, not overwritten: the candidate is still there as it was.
    expect(JSON.parse(await readFile(file, 'utf8')).candidates).toEqual(cands.candidates);

    await git.run(['checkout', '-q', branch]);
    const changed = await readFile(path.join(repo.root, TAG));
    expect(changed.equals(original)).toBe(false);
    await git.run(['revert', '--no-edit', 'HEAD']);
    expect((await readFile(path.join(repo.root, TAG))).equals(original)).toBe(true);
  });

  it('offline there is nothing to learn: pattern proposes nothing, and says why there and in status', async () => {
    const repo = await tempRepo({ example: true });
    await initRepo(repo.root);
    await writeDay(repo.layout.auditDir, today(), planted().map((r) => ({ ...r, ts: recent() })));
    const p = await repo.g7('coreloop', 'pattern');
    expect(p.code).toBe(0);
    expect(p.out).toContain('  no candidates');
    expect(p.err).toMatch(/note: cand-\S+ not proposed: nothing to learn without a model: the offline rules are the skill/);
    const file = JSON.parse(await readFile(path.join(repo.layout.auditDir, 'candidates', `${today()}-candidates.json`), 'utf8'));
    expect(file.candidates).toEqual([]);
    const status = await repo.g7('coreloop', 'status');
    expect(status.out).toMatch(/^P pattern .* holds 0; 1 not proposed: nothing to learn without a model/m);
  });

  it('refuses what it cannot do cleanly: a dirty target, a bullet over budget, an unknown id', async () => {
    const { repo, git, mine } = await factoryRepo();
    await mine('coreloop', 'pattern');
    const file = path.join(repo.layout.auditDir, 'candidates', `${today()}-candidates.json`);
    const cands = JSON.parse(await readFile(file, 'utf8'));
    const id = cands.candidates[0].id;
    expect((await repo.g7('coreloop', 'promote', '--candidate', file, '--id', 'cand-2000-01-01-009')).err).toMatch(/no candidate cand-2000-01-01-009 in .* it has cand-/);
    await writeFile(path.join(repo.root, TAG), (await readFile(path.join(repo.root, TAG), 'utf8')) + '\nlocal edit\n');
    const dirty = await repo.g7('coreloop', 'promote', '--candidate', file, '--id', id, '--confirm', '--no-replay');
    expect(dirty.code).toBe(2);
    expect(dirty.err).toMatch(/ssot\/skills\/TAG\.md has changes that are not committed/);
    await git.run(['checkout', '--', TAG]);
    cands.candidates[0].bullet.text = 'x'.repeat(3100);
    await writeFile(file, JSON.stringify(cands));
    const big = await repo.g7('coreloop', 'promote', '--candidate', file, '--id', id, '--confirm', '--no-replay');
    expect(big.code).toBe(3);
    expect(big.err).toMatch(/cannot be applied to ssot\/skills\/TAG\.md; nothing was changed/);
    expect(big.err).toMatch(/Guide: Guide would hold \d+ characters, over its budget of 3000; nothing was changed \[skill\.over-budget\]/);
    expect((await git.run(['branch', '--list', 'skill/*'])).stdout).toBe('');
    cands.candidates[0].bullet.text = 'A short bullet.';
    await writeFile(file, JSON.stringify(cands));
    await git.run(['config', '--unset', 'user.email']);
    await git.run(['config', '--unset', 'user.name']);
    const nobody = await repo.g7('coreloop', 'promote', '--candidate', file, '--id', id, '--confirm', '--no-replay');
    expect(nobody.code).toBe(2);
    expect(nobody.err).toMatch(/git does not know who commits: set git config user\.name and user\.email/);
    expect((await git.run(['branch', '--list', 'skill/*'])).stdout).toBe('');
  });

  it('a rejected candidate is remembered and not proposed again', async () => {
    const { repo, mine } = await factoryRepo();
    await mine('coreloop', 'pattern');
    const file = path.join(repo.layout.auditDir, 'candidates', `${today()}-candidates.json`);
    const id = JSON.parse(await readFile(file, 'utf8')).candidates[0].id;
    const r = await repo.g7('coreloop', 'reject', '--candidate', file, '--id', id, '--reason', 'too generic');
    expect(r.code).toBe(0);
    const again = JSON.parse((await mine('--json', 'coreloop', 'pattern')).out);
    expect(again).toMatchObject({ found: 0, skipped: 1 });
    const decided = JSON.parse(await readFile(file, 'utf8'));
    expect(decided.skipped[0].reason).toBe('rejected');
  });

  it('refine writes counterexamples and commits a [CORELOOP-F] Caveat on its branch', async () => {
    const { repo, git, mine } = await factoryRepo();
    const r = await mine('coreloop', 'refine', '--min-failures', '3');
    expect(r.code).toBe(0);
    const file = path.join(repo.layout.auditDir, 'counterexamples', `${today()}-counterexamples.json`);
    const cx = JSON.parse(await readFile(file, 'utf8'));
    expect(cx.candidates.map((c: { section: string; evidence: { signal: { cause: string } } }) => [c.section, c.evidence.signal.cause])).toEqual([['Caveats', 'short_chunk'], ['Caveats', 'schema']]);
    const schema = cx.candidates[1];
    await git.run(['add', '-A']);
    await git.run(['commit', '-qm', 'counterexamples']);
    const wrong = await repo.g7('coreloop', 'promote', '--candidate', file, '--id', schema.id);
    expect(wrong.err).toMatch(/is a Caveats append: use g7 coreloop refine/);
    const ok = await repo.g7('coreloop', 'refine', '--candidate', file, '--id', schema.id, '--confirm', '--no-replay');
    expect(ok.code).toBe(0);
    const log = (await git.run(['log', '--all', '--format=%s', '--grep', 'CORELOOP-F'])).stdout;
    expect(log).toMatch(/^\[CORELOOP-F\] TAG\.md Caveats: Give only tag names the taxonomy lists/);
  });
});

describe('g7 coreloop shape', () => {
  it('checks the skills of factory.yaml by default and names each missing section; exits 3 on a bad shape', async () => {
    const repo = await tempRepo({ example: true });
    const ok = await repo.g7('coreloop', 'shape');
    expect(ok.code).toBe(0);
    expect(ok.out).toBe('ok   ssot/skills/TAG.md\nok   ssot/skills/STRIKE.md');
    await repo.write('src/engine/strike.py', 'def evaluate(item):\n    """Evaluate.\n\n    Args:\n        item: x\n    """\n');
    const bad = await repo.g7('coreloop', 'shape', 'src/engine/strike.py::evaluate', 'nope.md');
    expect(bad.code).toBe(3);
    expect(bad.out).toBe('FAIL src/engine/strike.py::evaluate: 7 problem(s)\nFAIL nope.md: 1 problem(s)');
    expect(bad.err).toContain('src/engine/strike.py::evaluate: When: no When section [shape.missing]');
    expect(bad.err).toContain('nope.md: file not found [file.missing]');
  });

  it('refuses to mine in a folder without an SSOT instead of creating one there', async () => {
    const repo = await tempRepo();
    const r = await repo.g7('--ssot', path.join(repo.root, 'elsewhere'), 'coreloop', 'pattern');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/no SSOT folder at .*elsewhere: run g7 from the repository root, or pass --ssot DIR/);
    await expect(readFile(path.join(repo.root, 'elsewhere', 'audit', 'candidates'))).rejects.toThrow();
  });
});
