// Builds the two entry points with esbuild: the CLI (dist/g7.mjs, dependencies resolved from node_modules)
// and the GitHub Action (action/dist/: index.mjs plus lazily loaded chunks, self-contained, minified and
// committed; a test checks that it is what this build produces from the current source).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { rm } from 'node:fs/promises';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const common = { bundle: true, platform: 'node', format: 'esm', logLevel: 'warning' };

// @actions/core imports its HTTP client (and undici, 400 KB) only for getIDToken (OIDC), which g7 never
// calls: the action bundle gets a stand-in that refuses, so starting the action does not load undici.
const noOidcClient = {
  name: 'no-oidc-client',
  setup(b) {
    b.onResolve({ filter: /^@actions\/http-client(\/lib\/auth)?$/ }, (args) => (/@actions[\\/]core[\\/]/.test(args.importer) ? { path: args.path, namespace: 'no-oidc' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'no-oidc' }, () => ({
      contents: "const no = () => { throw new Error('g7 does not use OIDC tokens (core.getIDToken)'); }; export class HttpClient { constructor() { no(); } } export class BearerCredentialHandler { constructor() { no(); } }",
      loader: 'js',
    }));
  },
};

export const actionBuildOptions = {
  ...common,
  // One entry and a chunk per command path, loaded when the command needs it: the first log line comes
  // before the factory, the forge or the Gemini SDK is loaded.
  entryPoints: { index: path.join(root, 'src/action/index.ts') },
  target: 'node24',
  outdir: path.join(root, 'action/dist'),
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  minify: true,
  legalComments: 'none',
  plugins: [noOidcClient],
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
  // The binary, and the worker thread that checks the cards of a large backlog beside the main thread's read.
  entryPoints: { g7: path.join(root, 'src/cli/index.ts'), 'backlog-check': path.join(root, 'src/plan/backlog-check.ts') },
  target: 'node20',
  packages: 'external',
  outdir: path.join(root, 'dist'),
  outExtension: { '.js': '.mjs' },
  sourcemap: 'linked',
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const only = process.argv[2];
  if (only !== 'action') await build(cliBuildOptions);
  if (only !== 'cli') {
    // Chunk names carry content hashes: clear the old ones so action/dist holds exactly one build.
    await rm(actionBuildOptions.outdir, { recursive: true, force: true });
    await build(actionBuildOptions);
  }
}
