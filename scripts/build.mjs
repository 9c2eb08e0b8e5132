// Builds the two entry points with esbuild: the CLI (dist/g7.mjs, dependencies resolved from node_modules)
// and the GitHub Action (action/dist/index.mjs, one self-contained file, committed and checked in CI).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { existsSync } from 'node:fs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];

export const actionBuildOptions = {
  entryPoints: [path.join(root, 'src/action/main.ts')],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  outfile: path.join(root, 'action/dist/index.mjs'),
  legalComments: 'none',
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);" },
  logLevel: 'warning',
};

if (only !== 'action') {
  await build({
    entryPoints: [path.join(root, 'src/cli/index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile: path.join(root, 'dist/g7.mjs'),
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}
if (only === 'action' || (only === undefined && existsSync(actionBuildOptions.entryPoints[0]))) {
  await build(actionBuildOptions);
}
