// A failed change never stays: a PATCH card that ends FAIL leaves every file exactly as it was (bytes, mode,
// created files gone with their folders, files its test removed written again), keeps the change it proposed
// as a patch in the evidence and the rework pack, and no commit ever holds it. A process killed with the
// change in the working tree leaves its backup in the state folder; the next run puts the files back first.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chmod, lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process, geminiAt, type Factory } from './fixture.js';
import { fakeGemini, type FakeGemini } from '../fakes/gemini-server.js';
import { childEnv } from '../helpers.js';

const KEY = 'patch-key';
const PACK = { id: 'p1', goal: 'greet in French', forbidden: [], success: ['greets in French'], evidence: ['the diff'], files: { create: ['src/new/deep/fr.txt'], modify: ['src/greet.sh', 'src/notes.txt'] } };
const CARD = 'L3_PATCH_000001';

/** Every file outside the SSOT (and .git), with its bytes and mode: what the change must leave as it was. */
async function tree(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (rel: string) => {
    for (const e of await readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (r === '.git' || r === 'ssot') continue;
      if (e.isDirectory()) {
        out.set(`${r}/`, 'dir');
        await walk(r);
      } else out.set(r, `${((await lstat(path.join(root, r))).mode & 0o777).toString(8)} ${(await readFile(path.join(root, r))).toString('base64')}`);
    }
  };
  await walk('');
  return out;
}

/** A PATCH card whose accept runs check.sh. */
async function patchFactory(fake: FakeGemini, check: string): Promise<Factory> {
  const f = await factory([{ id: CARD, prio: 'A', input: 'greet', output: 'out/patch.json', pack: 'p1', accept: 'cmd:sh check.sh' }], {
    files: { 'src/greet.sh': '#!/bin/sh\necho hello\n', 'src/notes.txt': 'keep me\n', 'check.sh': check, 'ssot/backlog/packs/p1.json': JSON.stringify(PACK) },
  });
  await chmod(path.join(f.root, 'src/greet.sh'), 0o755);
  await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\n${geminiAt(fake.url)}`);
  f.git('add', '-A');
  f.git('commit', '-qm', 'executable greeting, the fake worker');
  fake.answer = () => ({ edits: [{ path: 'src/greet.sh', content: '#!/bin/sh\necho bonjour\n' }, { path: 'src/new/deep/fr.txt', content: 'bonjour\n' }] });
  return f;
}

/** Commits that touched anything outside the SSOT since the fixture's own. */
const changesOutsideSsot = (f: Factory) => f.git('log', '--format=%s', 'HEAD', '--', '.', ':!ssot').trim().split('\n');

describe('a PATCH card that ends FAIL leaves the repository as it was', () => {
  it('tests fail twice: the working tree byte-identical, the patch in the evidence and the rework pack, no commit holding it', { timeout: 120_000 }, async () => {
    const fake = await fakeGemini({ keys: [KEY] });
    try {
      // The test removes the file the patch changed, then fails.
      const f = await patchFactory(fake, 'rm -f src/greet.sh\nexit 1\n');
      const before = await tree(f.root);
      const run = await g7Process(f.root, ['run'], { GEMINI_API_KEY: KEY });
      expect(run.code, run.out + run.err).toBe(4);
      const said = run.out + run.err;
      expect(said).toMatch(new RegExp(`${CARD}: its change is undone, 3 file\\(s\\) put back as they were; the proposed change is kept in attempt-1.patch`));
      expect(said).toMatch(/attempt-2.patch/);
      expect(await tree(f.root)).toEqual(before);
      expect(changesOutsideSsot(f)).toEqual(['executable greeting, the fake worker', 'factory fixture']);
      expect(f.git('log', '-1', '--format=%s')).toMatch(/^g7: run_0001 round 1 truck A stop: FAIL_STOP/);
      expect(f.git('status', '--porcelain', '--', '.', ':!ssot')).toBe('');

      // The change, whole, as a patch git applies to the tree as it is.
      const card = path.join(f.ssot, 'runs/run_0001/cards/001_L3_PATCH_000001');
      const patch = await readFile(path.join(card, 'attempt-2.patch'), 'utf8');
      expect(patch).toContain('--- a/src/greet.sh\n+++ b/src/greet.sh\n');
      expect(patch).toContain('-echo hello\n+echo bonjour\n');
      expect(patch).toContain('--- /dev/null\n+++ b/src/new/deep/fr.txt\n');
      execFileSync('git', ['apply', '--check', path.join(card, 'attempt-2.patch')], { cwd: f.root, env: childEnv() });
      const reworks = await readdir(path.join(f.ssot, 'rework'));
      const rework = JSON.parse(await readFile(path.join(f.ssot, 'rework', reworks[0]!), 'utf8'));
      expect(rework.attempts.map((a: { attempt: number; patch: string }) => [a.attempt, a.patch])).toEqual([[1, await readFile(path.join(card, 'attempt-1.patch'), 'utf8')], [2, patch]]);
      // The rework attempt was shown the files as they were, and the change that failed.
      const asked = fake.requests.filter((q) => q.verb === 'generateContent').map((q) => JSON.stringify(q.body));
      expect(asked).toHaveLength(2);
      expect(asked[1]).toContain('echo hello');
      expect(asked[1]).toContain('The change that failed');
      expect((await g7Process(f.root, ['verify'])).code).toBe(0);
    } finally {
      await fake.close();
    }
  });

  it('killed with the change in the working tree: the backup is in the state folder, and the next run puts the files back before the card runs again', { timeout: 120_000 }, async () => {
    const fake = await fakeGemini({ keys: [KEY] });
    try {
      const f = await patchFactory(fake, 'grep -q bonjour src/greet.sh && exit 1\nexit 0\n');
      const before = await tree(f.root);
      // SIGKILL right after the edits are written, before the accept rule runs.
      const killed = await g7Process(f.root, ['run'], { GEMINI_API_KEY: KEY, G7_FAULT: 'card.executed@1' });
      expect(killed.signal).toBe('SIGKILL');
      expect(await readFile(path.join(f.root, 'src/greet.sh'), 'utf8')).toContain('bonjour');
      expect(await readdir(path.join(f.ssot, 'state/backup'))).toEqual([`${CARD}.json`]);

      const again = await g7Process(f.root, ['run'], { GEMINI_API_KEY: KEY });
      expect(again.code, again.out + again.err).toBe(4);
      expect(again.err).toMatch(new RegExp(`${CARD} was interrupted with its change in the working tree: put back 3 file\\(s\\) as they were`));
      expect(await tree(f.root)).toEqual(before);
      expect(await readdir(path.join(f.ssot, 'state/backup')).catch(() => [])).toEqual([]);
      expect(changesOutsideSsot(f)).toEqual(['executable greeting, the fake worker', 'factory fixture']);
      expect(f.git('log', '-1', '--format=%s')).toMatch(/^g7: run_0001 round 1 truck A stop: FAIL_STOP/);
      // The answer recorded before the kill was not paid for again.
      expect(fake.requests.filter((q) => q.verb === 'generateContent' && q.status === 200)).toHaveLength(2);
    } finally {
      await fake.close();
    }
  });
});
