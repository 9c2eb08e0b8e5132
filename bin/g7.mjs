#!/usr/bin/env node
// The g7 binary: the bundle that `npm ci` builds (scripts/build.mjs) from src/cli.
import module from 'node:module';

// V8 keeps the compiled code of g7's modules on disk (Node ≥ 22.1; in the system's temporary folder, one
// cache per Node version and file), so a command after the first skips parsing them. NODE_DISABLE_COMPILE_CACHE=1
// turns it off.
module.enableCompileCache?.();
import('../dist/g7.mjs').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/g7.mjs')) {
    process.stderr.write('g7: not built yet; run `npm ci` (or `npm run build`) in the repository first\n');
    process.exit(1);
  }
  throw err;
});
