// Seals a process (and the children it starts) from the developer's machine: no API key, endpoint, token, git
// identity or global git configuration gets through; HOME is a fresh folder and every temporary folder lands
// under one root, removed by the function this returns. The test suite (global.ts) and the scripted night
// (test/night/main.ts) both run sealed.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Variables the product or git reads that must come from a test, never from whoever runs the suite. */
export const SEALED = /^(GEMINI_|GOOGLE_|G7_|GIT_|GH_|GITHUB_|ACTIONS_|RUNNER_|INPUT_|XDG_CONFIG_HOME$|EMAIL$)|(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|_PAT)$/i;

export function sealEnvironment(prefix: string): () => void {
  for (const k of Object.keys(process.env)) if (SEALED.test(k)) delete process.env[k];
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  const home = path.join(root, 'home');
  mkdirSync(home);
  // An empty global git configuration: test repositories set their own identity.
  writeFileSync(path.join(home, '.gitconfig'), '');
  Object.assign(process.env, { HOME: home, TMPDIR: root, GIT_CONFIG_GLOBAL: path.join(home, '.gitconfig'), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' });
  return () => rmSync(root, { recursive: true, force: true });
}
