// `npm run night`: builds the CLI and the action from the current source (the night's jobs run the action
// bundle as a runner would), bundles the scripted night (test/night/main.ts: the loopback remote, the fakes,
// the jobs, the checks, the morning report) with esbuild, dependencies left in node_modules, and runs it with
// this Node (24 under npm). Arguments go to the night (`npm run night -- --keep`).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const built = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs')], { stdio: 'inherit', cwd: root });
if (built.status !== 0) process.exit(built.status ?? 1);
// In dist/, one folder below the root as test/ is: test/helpers.ts finds the repository from its own URL.
const outfile = path.join(root, 'dist', 'night.mjs');
await build({ entryPoints: [path.join(root, 'test/night/main.ts')], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile, logLevel: 'warning' });
const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') } });
process.exit(r.status ?? 1);
