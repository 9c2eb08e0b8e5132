// Where the wasm files of tree-sitter (its runtime and the Python grammar) are on disk: in node_modules for the
// CLI and the tests; beside the action's bundle (action/dist/wasm/, copied there by scripts/build.mjs) for the
// action, which a runner downloads without any node_modules. The action's entry says so once, at start.
import { createRequire } from 'node:module';
import path from 'node:path';

let bundled: string | undefined;

/** The action's entry: the wasm files are in `dir`, not in node_modules. */
export function useBundledWasm(dir: string): void {
  bundled = dir;
}

/** The file `spec` (`package/file.wasm`) names: resolved in node_modules, or its copy in the bundle's folder. */
export function wasmFile(spec: string): string {
  return bundled ? path.join(bundled, path.basename(spec)) : createRequire(import.meta.url).resolve(spec);
}
