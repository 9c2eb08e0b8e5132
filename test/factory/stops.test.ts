// Transient means transient: a cause that cannot clear by itself stops FAIL_STOP with a rework pack that says
// what to fix; a RECOVERABLE stop waits for its retry_after without writing anything, and escalates to
// FAIL_STOP after three resumes in a row without progress. All through the g7 binary, as a scheduled job runs it.
import { describe, expect, it } from 'vitest';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { geminiAt, factory, g7Process, timePasses, type CardSpec } from './fixture.js';
import { fakeGemini } from '../fakes/gemini-server.js';
import { jsonl } from '../helpers.js';
import { cardLine } from './fixture.js';

const json = async (p: string) => JSON.parse(await readFile(p, 'utf8'));
const runs = async (ssot: string) => (await readdir(path.join(ssot, 'runs'))).sort();

describe('stops that cannot clear by themselves', () => {
  it('no key: FAIL_STOP with a rework pack naming GEMINI_API_KEY; after g7 resume --skip the next day departs', async () => {
    const strikeItem = JSON.stringify({ key: 'doc001.md#0:x', path: 'doc001.md', offset: 0, length: 60, sha256: '0'.repeat(64), tags: ['risk'] });
    const cards: CardSpec[] = [
      { id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'out/1.txt', accept: 'exit==0' },
      { id: 'L2_STRIKE_000001', prio: 'A', input: 'ssot/library_index/strike_list.jsonl#L1-L1', output: 'ssot/library_index/strikes/1.jsonl', cost_hint: 'HIGH' },
      { id: 'L3_TEST_000001', prio: 'A', input: 'printf after', output: 'out/3.txt', deps: ['L2_STRIKE_000001'] },
    ];
    const f = await factory(cards, { files: { 'ssot/library_index/strike_list.jsonl': strikeItem + '\n' } });
    const r = await g7Process(f.root, ['run']);
    expect(r.code, r.err).toBe(4);
    expect(r.err).toMatch(/FAIL_STOP: L2_STRIKE_000001 failed twice: API: no key: card L2_STRIKE_000001 \(STRIKE\) needs a model and GEMINI_API_KEY is not set/);
    const state = await json(path.join(f.ssot, 'state/factory_state.json'));
    expect(state).toMatchObject({ state: 'FAIL_STOP', last_stop: { card: 'L2_STRIKE_000001', triage: 'API', transient: false, retry_after: null, hint: expect.stringMatching(/^set GEMINI_API_KEY/) } });
    const reworkFile = state.last_stop.files.find((x: string) => x.includes('/rework/'));
    const rework = await json(path.join(f.root, reworkFile));
    expect(rework.look_at).toMatch(/^Fix: set GEMINI_API_KEY \(on GitHub: a repository secret, passed to the action as gemini-api-key\)\. .*g7 resume/);
    expect(rework.attempts).toHaveLength(2);
    expect(rework.look_at).toMatch(/Nothing refused: no key was set/);
    expect(rework.look_at).not.toMatch(/refused\. Check the key/);

    // Every later scheduled job refuses without writing a run, until a person acts; status says what to set.
    const again = await g7Process(f.root, ['run']);
    expect(again.code).toBe(6);
    expect(again.err).toMatch(/fix: set GEMINI_API_KEY/);
    expect(await runs(f.ssot)).toEqual(['run_0001']);
    expect((await g7Process(f.root, ['status'])).out).toMatch(/fix: set GEMINI_API_KEY[^\n]*\nread:[\s\S]*next: fix: set GEMINI_API_KEY .*; then run `g7 resume` \(or `g7 resume --skip L2_STRIKE_000001 --reason "…"` to drop the card\)/);

    // The next day's plan is compiled; the person drops the card that needs a key.
    await f.write('ssot/backlog/backlog_20261122.jsonl', jsonl([cardLine({ id: 'L1_TEST_000002', prio: 'A', input: 'printf next-day', output: 'out/next.txt' })]));
    expect((await g7Process(f.root, ['resume', '--skip', 'L2_STRIKE_000001'])).code).toBe(2); // a reason is required
    const resumed = await g7Process(f.root, ['resume', '--skip', 'L2_STRIKE_000001', '--reason', 'no key on this runner; strike it tomorrow']);
    expect(resumed.out).toMatch(/FAIL_STOP → READY; L2_STRIKE_000001 skipped \(its dependents are held back\)/);
    expect((await json(path.join(f.root, reworkFile))).status).toBe('skipped');
    const rest = await g7Process(f.root, ['run']);
    expect(rest.code, rest.err).toBe(0);
    expect(rest.out).toMatch(/L2_STRIKE_000001 SKIP: skipped by a person: no key on this runner; strike it tomorrow/);
    expect(rest.out).toMatch(/L3_TEST_000001 SKIP: dep L2_STRIKE_000001 was skipped by a person/);
    const nextDay = await g7Process(f.root, ['run']);
    expect(nextDay.code, nextDay.err).toBe(0);
    expect(nextDay.out).toMatch(/run_0003: round 1 truck A of 20261122 departs/);
    expect((await json(path.join(f.ssot, 'runs/run_0003/verify_report.json'))).counts.passed).toBe(1);

    // The history keeps the stop, and says a person resumed it.
    const log = (await g7Process(f.root, ['log'])).out;
    expect(log).toMatch(/run_0001 {2}20261121 round 1 truck A {2}FAIL_STOP .*\n {4}then FAIL_STOP → READY by g7 resume \(skipped L2_STRIKE_000001\)/);
  });
});

describe('RECOVERABLE', () => {
  it('waits for retry_after without a run or a commit, and escalates to FAIL_STOP after three resumes without progress', async () => {
    const fake = await fakeGemini({ keys: ['k-123456'] });
    try {
      const f = await factory([
        { id: 'L1_SCAN_000001', prio: 'A', input: ['doc001.md'], output: 'ssot/library_index/scan/1.jsonl' },
        { id: 'L2_TAG_000001', prio: 'A', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', deps: ['L1_SCAN_000001'] },
      ], { libraryFiles: 1 });
      await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nscan: { chunk_bytes: 100000 }\n${geminiAt(fake.url)}`);
      f.git('commit', '-qam', 'point at the fake');
      fake.script(...Array.from({ length: 4 }, () => ({ error: 'quota-day' as const })));
      const env = { GEMINI_API_KEY: 'k-123456' };

      const first = await g7Process(f.root, ['run'], env);
      expect(first.code, first.err).toBe(5);
      const head = f.git('rev-parse', 'HEAD');
      const stateFile = path.join(f.ssot, 'state/factory_state.json');
      const stopped = await readFile(stateFile, 'utf8');
      expect(JSON.parse(stopped).last_stop.retry_after).toEqual(expect.any(String));

      // Before retry_after: no run directory, no commit, no state change; it says why and exits 0.
      const early = await g7Process(f.root, ['run'], env);
      expect(early.code).toBe(0);
      expect(early.out).toMatch(/^RECOVERABLE until \S+: L2_TAG_000001: API \(transient\): daily quota exhausted[^\n]*\n {2}nothing to do before then \(no run, no commit\); the first g7 run after it resumes at L2_TAG_000001/);
      expect(await runs(f.ssot)).toEqual(['run_0001']);
      expect(f.git('rev-parse', 'HEAD')).toBe(head);
      expect(await readFile(stateFile, 'utf8')).toBe(stopped);
      expect((await g7Process(f.root, ['status'])).out).toMatch(/next: waits until \S+; the first `g7 run` after that resumes at L2_TAG_000001 by itself/);

      // Three resumes in a row that get no card further: the third stops FAIL_STOP with a rework pack.
      const codes = [];
      for (let i = 0; i < 3; i++) {
        await timePasses(f);
        codes.push((await g7Process(f.root, ['run'], env)).code);
      }
      expect(codes).toEqual([5, 5, 4]);
      const state = JSON.parse(await readFile(stateFile, 'utf8'));
      expect(state.state).toBe('FAIL_STOP');
      expect(state.last_stop.reason).toMatch(/^no progress on 3 resumes in a row: L2_TAG_000001: API \(transient\): daily quota exhausted/);
      const rework = await json(path.join(f.root, state.last_stop.files.find((x: string) => x.includes('/rework/'))));
      expect(rework.look_at).toMatch(/^Stopped RECOVERABLE 3 times in a row without a card getting further/);
      // The quota's own fix stays; "resumes by itself" does not, and status says a person must resume.
      expect(state.last_stop.hint).toBe('per-day quotas reset at midnight Pacific time; it did not clear over 3 runs, so the factory waits for a person');
      expect((await g7Process(f.root, ['status'])).out).not.toMatch(/resumes at this card/);
      expect((await g7Process(f.root, ['status'])).out).toMatch(/next: fix: per-day quotas reset at midnight Pacific time; it did not clear over 3 runs, so the factory waits for a person; then run `g7 resume`/);
      expect(await runs(f.ssot)).toEqual(['run_0001', 'run_0002', 'run_0003', 'run_0004']);
      expect(fake.requests.filter((q) => q.verb === 'generateContent')).toHaveLength(4);
    } finally {
      await fake.close();
    }
  });
});
