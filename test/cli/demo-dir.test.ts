// `npm run factory` starts from a fresh demo/: it deletes what its last night left there, and moves aside
// (never deletes) a demo/ a person has worked in since: a resume's commits, a coreloop branch, an edit.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { clearDemo, markDemoEnd } from '../../scripts/demo-dir.mjs';

async function demoAfterItsNight(): Promise<{ root: string; demo: string; git: (...a: string[]) => string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'g7-demo-dir-'));
  const demo = path.join(root, 'demo');
  await mkdir(path.join(demo, 'ssot'), { recursive: true });
  const git = (...a: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...a], { cwd: demo, encoding: 'utf8' });
  git('init', '-q', '-b', 'main');
  await writeFile(path.join(demo, 'ssot/factory.yaml'), 'library: { root: library }\n');
  git('add', '-A');
  git('commit', '-q', '-m', 'example SSOT');
  await writeFile(path.join(demo, 'ssot/untracked-by-the-night.txt'), 'x\n'); // what the night left uncommitted is its own too
  markDemoEnd(demo);
  return { root, demo, git };
}

const stamp = new Date('2026-12-06T01:30:00Z');

describe('npm run factory and an existing demo/', () => {
  it('deletes a demo/ exactly as its last night left it', async () => {
    const { root, demo } = await demoAfterItsNight();
    expect(clearDemo(demo, stamp)).toEqual({ action: 'deleted' });
    expect(await readdir(root)).toEqual([]);
  });

  it.each([
    ['a commit since (g7 resume, g7 run)', async (d: string, git: (...a: string[]) => string) => { await writeFile(path.join(d, 'ssot/more.txt'), 'y\n'); git('add', '-A'); git('commit', '-q', '-m', 'resume'); }],
    ['a branch (coreloop promote)', async (_d: string, git: (...a: string[]) => string) => void git('branch', 'coreloop/tag-guide')],
    ['an edited file', async (d: string) => writeFile(path.join(d, 'ssot/factory.yaml'), 'library: { root: elsewhere }\n')],
  ])('moves aside, with everything in it, a demo/ with %s', async (_what, work) => {
    const { root, demo, git } = await demoAfterItsNight();
    await work(demo, git);
    const r = clearDemo(demo, stamp);
    expect(r).toEqual({ action: 'moved', to: path.join(root, 'demo-20261206-013000') });
    expect(existsSync(demo)).toBe(false);
    expect(await readFile(path.join(root, 'demo-20261206-013000/ssot/untracked-by-the-night.txt'), 'utf8')).toBe('x\n');
  });

  it('moves aside a demo/ it cannot vouch for (no mark: an older script, or a night cut short), and never overwrites an earlier one', async () => {
    const { root, demo } = await demoAfterItsNight();
    await writeFile(path.join(demo, '.git/g7-demo-end'), 'something else');
    await mkdir(path.join(root, 'demo-20261206-013000'));
    expect(clearDemo(demo, stamp)).toEqual({ action: 'moved', to: path.join(root, 'demo-20261206-013000-2') });
  });

  it('leaves alone a place with no demo/ or an empty one', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'g7-demo-dir-'));
    expect(clearDemo(path.join(root, 'demo'))).toEqual({ action: 'none' });
    await mkdir(path.join(root, 'demo'));
    expect(clearDemo(path.join(root, 'demo'))).toEqual({ action: 'none' });
  });
});
