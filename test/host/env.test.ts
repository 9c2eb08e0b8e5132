// Secrets never reach a card's child processes: a TEST card that prints its whole environment, and a cmd:
// accept rule that looks for a token, run under g7 with keys and tokens set, see none of them.
import { describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process } from '../factory/fixture.js';

const SECRETS = {
  GEMINI_API_KEY: 'gemini-canary-0123456789',
  GOOGLE_API_KEY: 'google-canary-0123456789',
  GITHUB_TOKEN: 'ghs_canary0123456789',
  ACTIONS_ID_TOKEN_REQUEST_URL: 'https://token.invalid/oidc-canary',
  ACTIONS_RUNTIME_TOKEN: 'runtime-canary-0123456789',
  'INPUT_GEMINI-API-KEY': 'input-canary-0123456789',
  DEPLOY_PASSWORD: 'password-canary-0123456789',
  AWS_SECRET_ACCESS_KEY: 'aws-canary-0123456789',
  GOOGLE_APPLICATION_CREDENTIALS: '/secret/canary.json',
};

describe("a card's child processes", () => {
  it('get the environment without any secret: names and values are both absent, the rest is there', async () => {
    const f = await factory([
      { id: 'L1_TEST_000001', prio: 'A', input: 'env', output: 'ssot/out/env.txt', accept: 'exit==0 && cmd:test -z "$GITHUB_TOKEN$GEMINI_API_KEY"' },
    ]);
    const r = await g7Process(f.root, ['run'], { ...SECRETS, G7_VISIBLE: 'plain-value' });
    expect(r.code, r.err).toBe(0);
    const env = await readFile(path.join(f.ssot, 'out/env.txt'), 'utf8');
    expect(env).toMatch(/^G7_VISIBLE=plain-value$/m);
    expect(env).toMatch(/^PATH=/m);
    for (const [name, value] of Object.entries(SECRETS)) {
      expect(env, name).not.toContain(`${name}=`);
      expect(env, name).not.toContain(value);
    }
    // The cmd: predicate ran in the same clean environment (it would fail with a token present).
    const report = JSON.parse(await readFile(path.join(f.ssot, 'runs/run_0001/verify_report.json'), 'utf8'));
    expect(report.cards[0].accept).toEqual([expect.objectContaining({ rule: 'exit==0', ok: true }), expect.objectContaining({ ok: true })]);
  });
});
