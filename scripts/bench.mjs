// Runs a benchmark written in TypeScript: bundles bench/<name>.bench.ts with esbuild (dependencies stay in
// node_modules) and runs it with the same Node that runs this script (Node 24 under npm scripts).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2];
if (!name) {
  console.error('usage: node scripts/bench.mjs <name> [args…]   (bench/<name>.bench.ts)');
  process.exit(2);
}
const outfile = path.join(root, 'bench/.data', `${name}.bench.mjs`);
await build({
  entryPoints: [path.join(root, 'bench', `${name}.bench.ts`)],
  bundle: true,
  platform: 'node',
  format: 'esm',
  packages: 'external',
  outfile,
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['--expose-gc', outfile, ...process.argv.slice(3)], { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') } });
process.exit(r.status ?? 1);
