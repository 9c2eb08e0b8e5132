#!/usr/bin/env node
// The g7 binary: the bundle that `npm ci` builds (scripts/build.mjs) from src/cli.
import('../dist/g7.mjs').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/g7.mjs')) {
    process.stderr.write('g7: not built yet; run `npm ci` (or `npm run build`) in the repository first\n');
    process.exit(1);
  }
  throw err;
});
