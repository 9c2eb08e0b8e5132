// Builds the two entry points with esbuild: the CLI (dist/g7.mjs, dependencies resolved from node_modules)
// and the GitHub Action (action/dist/: index.mjs plus lazily loaded chunks, self-contained, minified and
// committed; a test checks that it is what this build produces from the current source).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';

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
  // Nothing is external: a runner downloads the action folder alone, with no node_modules above it, and a
  // card whose skill is `file.py::name` or `file.ts::name` loads tree-sitter or ts-morph (each in a chunk of
  // its own, loaded only then). tree-sitter's two wasm files are copied beside the bundle (actionAssets).
  // Prefer packages' ESM builds: jsonc-parser's `main` is a UMD build whose dynamic requires do not bundle.
  mainFields: ['module', 'main'],
  // Some CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);" },
  // TypeScript (inside ts-morph) reads CommonJS's __filename and __dirname: Node 24 has both on import.meta.
  define: { __filename: 'import.meta.filename', __dirname: 'import.meta.dirname' },
};

/** Files the action's bundle reads at run time, copied from node_modules into action/dist (src/host/assets.ts). */
export const actionAssets = [
  { from: 'web-tree-sitter/web-tree-sitter.wasm', to: 'wasm/web-tree-sitter.wasm' },
  { from: 'tree-sitter-python/tree-sitter-python.wasm', to: 'wasm/tree-sitter-python.wasm' },
].map((a) => ({ from: createRequire(import.meta.url).resolve(a.from), to: path.join(actionBuildOptions.outdir, a.to) }));

export const cliBuildOptions = {
  ...common,
  // The binary, and the worker thread that checks the cards of a large backlog beside the main thread's read.
  entryPoints: { g7: path.join(root, 'src/cli/index.ts'), 'backlog-check': path.join(root, 'src/plan/backlog-check.ts') },
  target: 'node20',
  // A command loads only the chunks it imports (`g7 status` never loads the run loop, the Gemini SDK or the
  // compiler). Chunks sit beside the entries: code in a chunk finds backlog-check.mjs next to itself.
  splitting: true,
  chunkNames: '[name]-[hash]',
  // Dependencies are bundled too: resolving and reading a package's hundred small files cost more start-up
  // than the code in them. Coreloop's parsers and secret scanner stay in node_modules (large, and loaded only
  // by `g7 coreloop`).
  external: ['ts-morph', 'web-tree-sitter', 'tree-sitter-python', '@secretlint/*'],
  mainFields: ['module', 'main'],
  banner: actionBuildOptions.banner,
  outdir: path.join(root, 'dist'),
  outExtension: { '.js': '.mjs' },
  sourcemap: 'linked',
};

/** Builds, then removes what an earlier build left in the folder that this one did not write (chunk names
 * carry content hashes). Removing after writing: a g7 started meanwhile finds every file it imports. */
export async function buildClean(options, assets = []) {
  const r = await build({ ...options, metafile: true });
  for (const a of assets) {
    await mkdir(path.dirname(a.to), { recursive: true });
    await copyFile(a.from, a.to);
  }
  const written = new Set([...Object.keys(r.metafile.outputs).map((o) => path.resolve(root, o)), ...assets.map((a) => a.to)]);
  for (const name of await readdir(options.outdir, { recursive: true })) {
    const file = path.join(options.outdir, name);
    if (!written.has(file) && (await stat(file)).isFile()) await rm(file);
  }
  return r;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const only = process.argv[2];
  if (only !== 'action') await buildClean(cliBuildOptions);
  if (only !== 'cli') await buildClean(actionBuildOptions, actionAssets);
}
