// Runs once, in the main vitest process, before any test file; the forked test workers inherit what it sets.
// 1. The suite tests what the source says: the CLI bundle that tests start as `bin/g7.mjs` is built from the
//    current source first (a stale dist/ would let a broken change pass).
// 2. The suite is sealed from the developer's machine: no API key, endpoint, token, git identity or global
//    git configuration reaches the product under test unless a test sets it; HOME is a fresh folder.
// 3. Every temporary folder a test makes lands under one suite folder (TMPDIR), removed at the end.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildClean, cliBuildOptions } from '../../scripts/build.mjs';

/** Variables the product or git reads that must come from a test, never from whoever runs the suite. */
export const SEALED = /^(GEMINI_|GOOGLE_|G7_|GIT_|GH_|GITHUB_|ACTIONS_|RUNNER_|INPUT_|XDG_CONFIG_HOME$|EMAIL$)|(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|_PAT)$/i;

export default async function setup(): Promise<() => void> {
  await buildClean(cliBuildOptions);
  for (const k of Object.keys(process.env)) if (SEALED.test(k)) delete process.env[k];
  const root = mkdtempSync(path.join(tmpdir(), 'g7-suite-'));
  const home = path.join(root, 'home');
  mkdirSync(home);
  // An empty global git configuration: test repositories set their own identity.
  writeFileSync(path.join(home, '.gitconfig'), '');
  Object.assign(process.env, { HOME: home, TMPDIR: root, GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig'), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' });
  return () => rmSync(root, { recursive: true, force: true });
}
