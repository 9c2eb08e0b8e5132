// demo/ before `npm run factory` starts again: what the last `npm run factory` left there is deleted, but
// anything a person did since (a resume, a run, a coreloop branch, an edit) is moved aside, never lost.
// At the end of its night the script writes a fingerprint of demo/'s git (every ref and the working
// tree's status) into demo/.git/g7-demo-end; a demo/ whose fingerprint still matches is the demo's own.
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const MARK = 'g7-demo-end';

function fingerprint(demo) {
  const git = (...args) => spawnSync('git', args, { cwd: demo, encoding: 'utf8' });
  const refs = git('for-each-ref', '--format=%(refname) %(objectname)');
  const status = git('status', '--porcelain', '--untracked-files=all');
  if (refs.status !== 0 || status.status !== 0) return undefined;
  return `${refs.stdout}--\n${status.stdout}`;
}

/** Called when the demo's night is over: what demo/ looks like now is the demo's own. */
export function markDemoEnd(demo) {
  const print = fingerprint(demo);
  if (print !== undefined) writeFileSync(path.join(demo, '.git', MARK), print);
}

/** Empties the place for a new demo/; returns what it did, for the script to say. */
export function clearDemo(demo, now = new Date()) {
  if (!existsSync(demo)) return { action: 'none' };
  if (readdirSync(demo).length === 0) return { action: 'none' };
  const markFile = path.join(demo, '.git', MARK);
  const own = existsSync(markFile) && fingerprint(demo) === readFileSync(markFile, 'utf8');
  if (own) {
    rmSync(demo, { recursive: true, force: true });
    return { action: 'deleted' };
  }
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  let aside = `${demo}-${stamp}`;
  for (let n = 2; existsSync(aside); n++) aside = `${demo}-${stamp}-${n}`;
  renameSync(demo, aside);
  return { action: 'moved', to: aside };
}
