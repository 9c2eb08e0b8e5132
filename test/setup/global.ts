// Runs once, in the main vitest process, before any test file; the forked test workers inherit what it sets.
// 1. The suite tests what the source says: the CLI bundle that tests start as `bin/g7.mjs` is built from the
//    current source first (a stale dist/ would let a broken change pass).
// 2. The suite is sealed from the developer's machine: no API key, endpoint, token, git identity or global
//    git configuration reaches the product under test unless a test sets it; HOME is a fresh folder.
// 3. Every temporary folder a test makes lands under one suite folder (TMPDIR), removed at the end.
import { buildClean, cliBuildOptions } from '../../scripts/build.mjs';
import { sealEnvironment } from './seal.js';

export default async function setup(): Promise<() => void> {
  await buildClean(cliBuildOptions);
  return sealEnvironment('g7-suite-');
}
