// Cancellation is a clean stop: GitHub cancels a job with SIGINT, then SIGTERM about 7.5 s later, then
// SIGKILL. On SIGINT, g7 starts no new card and no new model call, lets the calls in flight land in the
// cache, seals, commits and pushes; the next job resumes there and pays for no request twice.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cloneRemote, geminiAt, factory, g7Process, git, type CardSpec } from './fixture.js';
import { fakeGemini } from '../fakes/gemini-server.js';
import { httpRemote } from '../git/http-remote.js';
import { REPO, childEnv } from '../helpers.js';
import { journalText } from '../ssot/journal-lines.js';

const pad = (n: number) => String(n).padStart(6, '0');

describe('cancellation', () => {
  it('SIGINT with model calls in flight: sealed, committed and pushed before GitHub would kill it; nothing paid twice across the resume', { timeout: 120_000 }, async () => {
    const fake = await fakeGemini({ keys: ['cancel-key'] });
    // Answers take 0.5 s, every other one 3 s more: when the stop comes, some lanes of a TAG card are idle
    // (they learn of it first) while others still wait for an answer that is paid for.
    fake.latencyMs = 500;
    fake.script(...Array.from({ length: 8 }, (_, i) => ({ latencyMs: i % 2 ? 3000 : 0 })));
    const cards: CardSpec[] = [];
    for (let n = 1; n <= 3; n++) cards.push({ id: `L1_SCAN_${pad(n)}`, prio: 'A', input: [1, 2, 3].map((k) => `doc00${3 * (n - 1) + k}.md`), output: `ssot/library_index/scan/${n}.jsonl` });
    for (let n = 1; n <= 3; n++) cards.push({ id: `L2_TAG_${pad(n)}`, prio: 'A', input: `ssot/library_index/scan/${n}.jsonl`, output: `ssot/library_index/tags/${n}.jsonl`, deps: [`L1_SCAN_${pad(n)}`], accept: `json:ssot/library_index/tags/${n}.jsonl` });
    const f = await factory(cards, { libraryFiles: 9 });
    await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 1024 }\n${geminiAt(fake.url)}`);
    f.git('commit', '-qam', 'point at the fake');
    const remote = await httpRemote(f.root);
    try {
      const work = await cloneRemote(remote.url);
      const child = spawn(process.execPath, [path.join(REPO, 'bin/g7.mjs'), 'run', '--push'], { cwd: work, env: childEnv({ GEMINI_API_KEY: 'cancel-key' }), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (b) => (out += b));
      child.stderr.on('data', (b) => (out += b));
      let gone = false;
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => ((gone = true), resolve({ code, signal }))));

      // Wait for model calls in flight (received by the fake, not answered yet), then cancel as GitHub does.
      const inFlight = () => fake.requests.filter((q) => q.verb === 'generateContent' && q.status === 0).length;
      for (let waited = 0; inFlight() < 2; waited += 20) {
        if (gone || waited > 60_000) throw new Error(`no model call in flight; g7 said:\n${out}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      const answeredBefore = fake.requests.filter((q) => q.verb === 'generateContent' && q.status === 200).length;
      const signalled = performance.now();
      child.kill('SIGINT');
      // GitHub's SIGTERM comes ~7.5 s after SIGINT, SIGKILL soon after: a clean stop must be done before then.
      const deadline = setTimeout(() => child.kill('SIGKILL'), 7000);
      const end = await exited;
      clearTimeout(deadline);
      console.log(`cancellation: g7 exited ${Math.round(performance.now() - signalled)} ms after SIGINT`);
      expect(end, out).toEqual({ code: 130, signal: null });
      expect(out).toMatch(/SIGINT: stopping cleanly at L2_TAG_\d+ \(slot \d\): no new card, no new model call/);
      // The calls in flight landed (answered, recorded), and no call started after the signal.
      const answered = fake.requests.filter((q) => q.verb === 'generateContent' && q.status === 200);
      expect(answered.length).toBeGreaterThan(answeredBefore);
      expect(fake.requests.filter((q) => q.verb === 'generateContent' && q.status === 0)).toEqual([]);

      // Sealed, committed and pushed: a fresh clone of the remote verifies it and knows where the truck stopped.
      const fresh = await cloneRemote(remote.url);
      expect((await g7Process(fresh, ['verify', 'run_0001'])).code).toBe(0);
      const state = JSON.parse(await readFile(path.join(fresh, 'ssot/state/factory_state.json'), 'utf8'));
      expect(state).toMatchObject({ state: 'RECOVERABLE', last_stop: { reason: expect.stringMatching(/^stopped by SIGINT at L2_TAG_\d+ \(slot \d\); the next g7 run resumes there/) } });
      expect(git(remote.bare, 'log', '-1', '--format=%s', 'main')).toMatch(/^g7: run_0001 round 1 truck A stop: RECOVERABLE/);

      // The next job, on a fresh runner (a clone of the remote), resumes at once and finishes; across both,
      // every distinct request was paid for once: the answers that landed were committed and pushed with the stop.
      const resumed = await g7Process(fresh, ['run', '--push'], { GEMINI_API_KEY: 'cancel-key' });
      expect(resumed.code, resumed.err).toBe(0);
      const paid = fake.requests.filter((q) => q.verb === 'generateContent' && q.status === 200).map((q) => JSON.stringify(q.body));
      expect(paid.length).toBeGreaterThan(answered.length);
      expect(new Set(paid).size).toBe(paid.length);
      const report = JSON.parse(await readFile(path.join(fresh, 'ssot/runs/run_0002/verify_report.json'), 'utf8'));
      expect(report.state).toBe('READY');
    } finally {
      await remote.close();
      await fake.close();
    }
  });

  it('a TEST card cut by SIGINT is logged as cancelled, not as a TEST failure, and runs again on resume', { timeout: 60_000 }, async () => {
    const gate = await mkdtemp(path.join(tmpdir(), 'g7-gate-'));
    const cards: CardSpec[] = [
      { id: 'L3_TEST_000001', prio: 'B', input: 'printf ok-1', output: 'ssot/out/t1.txt', accept: 'exit==0' },
      { id: 'L3_TEST_000002', prio: 'B', input: `touch ${gate}/started; while [ ! -f ${gate}/go ]; do sleep 0.05; done; printf ok-2`, output: 'ssot/out/t2.txt', accept: 'exit==0' },
    ];
    const f = await factory(cards);
    const child = spawn(process.execPath, [path.join(REPO, 'bin/g7.mjs'), 'run'], { cwd: f.root, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let waited = 0; !existsSync(path.join(gate, 'started')); waited += 20) {
      if (waited > 30_000) throw new Error(`the card never started; g7 said:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    child.kill('SIGINT');
    expect(await exited, out).toBe(130);
    expect(out).toMatch(/L3_TEST_000002 attempt 1 cancelled by SIGINT: not a result/);
    expect(out).not.toMatch(/L3_TEST_000002 attempt \d failed/);
    expect(out.indexOf('cancelled by SIGINT')).toBeLessThan(out.indexOf('SIGINT: stopping cleanly at L3_TEST_000002'));
    const journal = await journalText(f.ssot);
    expect(journal).not.toContain('"card":"L3_TEST_000002"');
    // The resume runs it again, to a pass.
    await writeFile(path.join(gate, 'go'), '');
    const again = await g7Process(f.root, ['run']);
    expect(again.code, again.err).toBe(0);
    expect(again.out + again.err).toMatch(/L3_TEST_000002 PASS/);
  });
});
