// Runs a benchmark written in TypeScript: builds the g7 CLI from the current source (benchmarks time `g7`
// as a user runs it), bundles bench/<name>.bench.ts with esbuild (dependencies stay in node_modules) and
// runs it with the same Node that runs this script (Node 24 under npm scripts). Arguments after the name
// go to the benchmark (`npm run bench:scan -- --full`).
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { buildClean, cliBuildOptions } from './build.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2];
if (!name) {
  console.error('usage: node scripts/bench.mjs <name> [args…]   (bench/<name>.bench.ts)');
  process.exit(2);
}
await buildClean(cliBuildOptions);
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
const r = spawnSync(process.execPath, [outfile, ...process.argv.slice(3)], { stdio: 'inherit', cwd: root, env: { ...process.env, NODE_PATH: path.join(root, 'node_modules') } });
process.exit(r.status ?? 1);
