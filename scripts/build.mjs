// Builds the two entry points with esbuild: the CLI (dist/g7.mjs, dependencies resolved from node_modules)
// and the GitHub Action (action/dist/index.mjs, one self-contained file, committed; a test checks that it
// is what this build produces from the current source).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const common = { bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' };

export const actionBuildOptions = {
  ...common,
  entryPoints: [path.join(root, 'src/action/main.ts')],
  target: 'node24',
  outfile: path.join(root, 'action/dist/index.mjs'),
  legalComments: 'none',
  // Coreloop's parsers and secret scanner (TypeScript, tree-sitter's wasm, secretlint) are loaded only by
  // `g7 coreloop`, which the action does not run: keep them out of its bundle.
  external: ['ts-morph', 'web-tree-sitter', 'tree-sitter-python', '@secretlint/*'],
  // Prefer packages' ESM builds: jsonc-parser's `main` is a UMD build whose dynamic requires do not bundle.
  mainFields: ['module', 'main'],
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);" },
};

export const cliBuildOptions = {
  ...common,
  entryPoints: [path.join(root, 'src/cli/index.ts')],
  target: 'node20',
  packages: 'external',
  outfile: path.join(root, 'dist/g7.mjs'),
  sourcemap: 'linked',
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const only = process.argv[2];
  if (only !== 'action') await build(cliBuildOptions);
  if (only !== 'cli') await build(actionBuildOptions);
}
