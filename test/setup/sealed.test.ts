// The suite is sealed from the machine that runs it (test/setup/global.ts): these hold in every test worker.
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { build } from 'esbuild';
import { cliBuildOptions } from '../../scripts/build.mjs';
import { REPO, childEnv } from '../helpers.js';

describe('the sealed test environment', () => {
  it('carries no key, endpoint, token or git identity from outside', () => {
    const leaked = Object.keys(process.env).filter((k) => /^(GEMINI_|GOOGLE_|G7_|GIT_AUTHOR|GIT_COMMITTER|GH_|GITHUB_)|(KEY|TOKEN|SECRET)$/i.test(k));
    expect(leaked).toEqual([]);
    expect(execFileSync('git', ['config', '--global', '--list'], { encoding: 'utf8', env: childEnv() })).toBe('');
  });

  it('puts temporary folders under one suite folder that is removed after the run', () => {
    expect(path.basename(tmpdir())).toMatch(/^g7-suite-/);
    expect(process.env.HOME!.startsWith(tmpdir())).toBe(true);
  });

  it('runs a CLI bundle built from the current source, not an older one', async () => {
    const fresh = await build({ ...cliBuildOptions, write: false });
    const dist = path.join(REPO, 'dist');
    const built = fresh.outputFiles.filter((f) => f.path.endsWith('.mjs'));
    expect(readdirSync(dist).filter((n) => n.endsWith('.mjs')).sort(), 'dist/ holds other files than the source builds').toEqual(built.map((f) => path.relative(dist, f.path)).sort());
    for (const f of built) expect(readFileSync(f.path, 'utf8') === f.text, `${path.relative(REPO, f.path)} differs from what the source builds`).toBe(true);
  });
});
