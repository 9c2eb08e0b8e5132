// `npm run factory`: the main job on a fresh copy of the example SSOT, so that trying it never commits
// into this repository. demo/ becomes its own git repository; g7 compiles the day plan, packs the trucks,
// runs truck A (offline worker without GEMINI_API_KEY), commits the evidence, then verifies it and shows
// the history rebuilt from git.
import { cpSync, rmSync, mkdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const demo = path.join(root, 'demo');
rmSync(demo, { recursive: true, force: true });
mkdirSync(demo);
cpSync(path.join(root, 'ssot'), path.join(demo, 'ssot'), { recursive: true });
cpSync(path.join(root, 'examples'), path.join(demo, 'examples'), { recursive: true });

const sh = (cmd, args) => spawnSync(cmd, args, { cwd: demo, stdio: 'inherit' }).status ?? 1;
const quiet = (args) => spawnSync('git', args, { cwd: demo, stdio: 'ignore' });
quiet(['init', '-q', '-b', 'main']);
quiet(['config', 'user.email', 'g7-demo@example.invalid']);
quiet(['config', 'user.name', 'G7 demo']);
quiet(['add', '-A']);
quiet(['commit', '-q', '-m', 'example SSOT']);

const g7 = (...args) => {
  console.log(`\n$ g7 ${args.join(' ')}`);
  return sh(process.execPath, [path.join(root, 'bin/g7.mjs'), ...args]);
};
let code = g7('plan', 'compile', 'ssot/plans/dayplan_20261121.yaml');
if (code === 0) code = g7('pack');
if (code === 0) code = g7('run');
if (code === 0 || code === 4 || code === 5) {
  g7('status');
  g7('verify');
  g7('log');
  console.log(`\nevidence: ${path.relative(process.cwd(), path.join(demo, 'ssot/runs'))}/  (git history: git -C ${path.relative(process.cwd(), demo) || '.'} log)`);
}
process.exit(code);
