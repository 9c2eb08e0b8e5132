import { build } from 'esbuild';
import path from 'node:path';
const name = process.argv[2];
await build({ entryPoints: [path.resolve('bench', `${name}.bench.ts`)], bundle: true, platform: 'node', format: 'esm', packages: 'external', outfile: path.resolve('bench/.data', `${name}.bench.mjs`), logLevel: 'warning' });
