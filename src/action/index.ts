// The file GitHub runs (action.yml `main`, bundled to action/dist/index.mjs).
import module from 'node:module';
import { fileURLToPath } from 'node:url';
import { useBundledWasm } from '../host/assets.js';

// The compiled code of the action's chunks is kept on disk (Node ≥ 22.1, the runner's temporary folder):
// every g7 step of a job after the first starts without parsing them again.
module.enableCompileCache?.();
// A runner downloads the action folder alone: tree-sitter's wasm files are copied beside this bundle.
useBundledWasm(fileURLToPath(new URL('./wasm/', import.meta.url)));
const { run } = await import('./main.js');
await run();
