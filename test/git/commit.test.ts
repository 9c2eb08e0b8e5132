// Git.commitFiles, the checkpoint's commit: exactly the files it is named (new, changed and deleted), built
// in a temporary index so that a person's staged change is neither committed nor unstaged, files git ignores
// left out, HEAD moved only from where the tree was built. Git.commitPaths, the action's commit of a folder: exactly the paths it is given (new, changed and deleted files),
// never the run lock or an interrupted temp file, nothing else a person staged, and "nothing to commit" told
// apart from a commit that failed.
import { describe, expect, it } from 'vitest';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { Git, GitError } from '../../src/git/git.js';
import { childEnv, tempRepo } from '../helpers.js';
import { git } from '../factory/fixture.js';

async function repo() {
  const r = await tempRepo();
  git(r.root, 'init', '-q', '-b', 'main');
  git(r.root, 'config', 'user.email', 'test@example.invalid');
  git(r.root, 'config', 'user.name', 'test');
  await r.write('ssot/kept.txt', 'kept\n');
  await r.write('ssot/gone.txt', 'gone\n');
  await r.write('notes.txt', 'a person\'s file\n');
  git(r.root, 'add', '-A');
  git(r.root, 'commit', '-q', '-m', 'setup');
  return { ...r, g: new Git(r.root, childEnv()) };
}

describe('Git.commitPaths', () => {
  it('commits new, changed and deleted files under its paths, with trailers, and nothing else', async () => {
    const r = await repo();
    await r.write('ssot/kept.txt', 'changed\n');
    await rm(path.join(r.root, 'ssot/gone.txt'));
    await r.write('ssot/runs/run_0001/new.txt', 'new\n');
    await r.write('ssot/state/run.lock', '{"pid":1}\n');
    await r.write('ssot/.x.json.tmp-1-abcd', 'torn');
    await r.write('notes.txt', 'staged by a person\n');
    git(r.root, 'add', 'notes.txt');
    expect(await r.g.commitPaths(['ssot'], 'g7: checkpoint', { 'G7-Run': 'run_0001' }, { maintenance: false })).toBe(true);
    expect(git(r.root, 'show', '--name-status', '--format=%s%n%(trailers:only)', 'HEAD').trim().split('\n').filter(Boolean)).toEqual([
      'g7: checkpoint',
      'G7-Run: run_0001',
      'D\tssot/gone.txt',
      'M\tssot/kept.txt',
      'A\tssot/runs/run_0001/new.txt',
    ]);
    // The person's staged change stays staged, not committed.
    expect(git(r.root, 'diff', '--cached', '--name-only').trim()).toBe('notes.txt');
  });

  it('says false when nothing under its paths changed, and throws when the commit itself fails', async () => {
    const r = await repo();
    expect(await r.g.commitPaths(['ssot'], 'g7: nothing', {})).toBe(false);
    expect(git(r.root, 'log', '--format=%s').trim()).toBe('setup');
    await r.write('ssot/kept.txt', 'changed\n');
    // A commit git refuses (here: no author identity) is an error, not "nothing to commit".
    git(r.root, 'config', '--unset', 'user.email');
    git(r.root, 'config', 'user.useConfigOnly', 'true');
    await expect(r.g.commitPaths(['ssot'], 'g7: refused', {})).rejects.toBeInstanceOf(GitError);
  });
});

describe('Git.commitFiles', () => {
  it("commits exactly the named files, leaves a person's staged and unstaged changes as they were", async () => {
    const r = await repo();
    await r.write('.gitignore', 'ssot/store/\n');
    git(r.root, 'add', '.gitignore');
    git(r.root, 'commit', '-q', '-m', 'ignore the store');
    await r.write('ssot/kept.txt', 'changed\n');
    await rm(path.join(r.root, 'ssot/gone.txt'));
    await r.write('ssot/runs/run_0001/new.txt', 'new\n');
    await r.write('ssot/store/cache/a.json', '{}\n');
    await r.write('ssot/state/run.lock', '{"pid":1}\n');
    await r.write('ssot/plans/dayplan_20261122.yaml', 'a person\'s plan\n');
    await r.write('notes.txt', 'staged by a person\n');
    git(r.root, 'add', 'notes.txt');
    const named = ['ssot/kept.txt', 'ssot/gone.txt', 'ssot/runs/run_0001/new.txt', 'ssot/store/cache/a.json', 'ssot/state/run.lock', 'ssot/never-written.txt'];
    expect(await r.g.commitFiles(named, 'g7: checkpoint', { 'G7-Run': 'run_0001' }, { maintenance: false })).toEqual(['ssot/kept.txt', 'ssot/gone.txt', 'ssot/runs/run_0001/new.txt', 'ssot/never-written.txt']);
    expect(git(r.root, 'show', '--name-status', '--format=%s%n%(trailers:only)', 'HEAD').trim().split('\n').filter(Boolean)).toEqual([
      'g7: checkpoint',
      'G7-Run: run_0001',
      'D\tssot/gone.txt',
      'M\tssot/kept.txt',
      'A\tssot/runs/run_0001/new.txt',
    ]);
    // The person's work is exactly where it was: staged stays staged, new stays untracked; ours shows clean.
    expect(git(r.root, 'status', '--porcelain', '--untracked-files=all').trim().split('\n')).toEqual(['M  notes.txt', '?? ssot/plans/dayplan_20261122.yaml', '?? ssot/state/run.lock']);
    // Named again, unchanged: nothing to commit.
    expect(await r.g.commitFiles(named, 'g7: again', {})).toEqual([]);
    expect(git(r.root, 'log', '-1', '--format=%s').trim()).toBe('g7: checkpoint');
  });

  it('throws when git refuses the commit, and leaves HEAD and the index alone', async () => {
    const r = await repo();
    await r.write('ssot/kept.txt', 'changed\n');
    git(r.root, 'config', '--unset', 'user.email');
    git(r.root, 'config', 'user.useConfigOnly', 'true');
    const head = git(r.root, 'rev-parse', 'HEAD');
    await expect(r.g.commitFiles(['ssot/kept.txt'], 'g7: refused', {})).rejects.toBeInstanceOf(GitError);
    expect(git(r.root, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(r.root, 'status', '--porcelain').trim()).toBe('M ssot/kept.txt');
  });
});
