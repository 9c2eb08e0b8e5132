import { describe, expect, it } from 'vitest';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, runDir, timePasses, DAY, type CardSpec } from './fixture.js';
import { DEFAULT_RETRY_AFTER_MS } from '../../src/factory/run.js';
import type { Worker, WorkerRequest } from '../../src/worker/worker.js';
import { WorkerError } from '../../src/worker/worker.js';
import { tagByRules } from '../../src/worker/offline.js';

const scanAndTag = (n: number): CardSpec[] => [
  ...Array.from({ length: n }, (_, i) => ({ id: `L1_SCAN_${String(i + 1).padStart(6, '0')}`, prio: 'A' as const, input: [`doc${String(i + 1).padStart(3, '0')}.md`], output: `ssot/library_index/scan/${i + 1}.jsonl`, accept: `lines>=1:ssot/library_index/scan/${i + 1}.jsonl` })),
  ...Array.from({ length: n }, (_, i) => ({ id: `L2_TAG_${String(i + 1).padStart(6, '0')}`, prio: 'B' as const, input: `ssot/library_index/scan/${i + 1}.jsonl`, output: `ssot/library_index/tags/${i + 1}.jsonl`, accept: `json:ssot/library_index/tags/${i + 1}.jsonl`, deps: [`L1_SCAN_${String(i + 1).padStart(6, '0')}`] })),
];

const json = async (p: string) => JSON.parse(await readFile(p, 'utf8'));

describe('g7 run', () => {
  it('runs a truck end to end: every card PASS, evidence sealed and verifying, committed with trailers', async () => {
    const f = await factory([...scanAndTag(3), { id: 'L5_TEST_000001', prio: 'C', input: 'printf "all good"', output: 'out/test.txt', accept: 'exit==0 && stdout~/good/' }]);
    const r = await f.g7('run');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = await json(path.join(runDir(f, 'run_0001'), 'verify_report.json'));
    expect(report).toMatchObject({ run_id: 'run_0001', day: DAY, truck: 'A', state: 'READY', counts: { passed: 7, failed: 0, skipped: 0, pending: 0 } });
    expect(report.cards.map((c: { id: string }) => c.id)).toEqual(['L1_SCAN_000001', 'L1_SCAN_000002', 'L1_SCAN_000003', 'L2_TAG_000001', 'L2_TAG_000002', 'L2_TAG_000003', 'L5_TEST_000001']);
    expect(report.cards[6].accept).toEqual([{ rule: 'exit==0', ok: true, detail: 'exit 0' }, { rule: 'stdout~/good/', ok: true, detail: 'stdout matches' }]);
    expect(report.cards[0].outputs[0]).toMatchObject({ path: 'ssot/library_index/scan/1.jsonl', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect((await readFile(path.join(runDir(f, 'run_0001'), 'exitcode.txt'), 'utf8')).trim()).toBe('0');
    expect((await f.g7('verify', 'run_0001')).code).toBe(0);
    const manifest = await json(path.join(runDir(f, 'run_0001'), 'hash_manifest.json'));
    expect(manifest._type).toBe('https://in-toto.io/Statement/v1');
    expect(manifest.subject.map((s: { name: string }) => s.name)).toContain('ssot/library_index/tags/2.jsonl');
    expect(manifest.subject.map((s: { name: string }) => s.name)).toContain('ssot/runs/run_0001/cards/001_L1_SCAN_000001/attempt-1.json');
    // The audit trail: one commit for the bundle and one for the stop, trailers naming the run.
    const log = f.git('log', '--format=%s%n%(trailers:only,unfold)%n--');
    expect(log).toMatch(/g7: run_0001 round 1 truck A stop: READY, 7 passed, 0 failed\nG7-Run: run_0001\nG7-Day: 20261121\nG7-Round: 1\nG7-Truck: A\nG7-Bundle: 1\nG7-State: READY\nG7-Passed: 7\nG7-Failed: 0\nG7-Manifest: sha256:[0-9a-f]{64}/);
    expect(f.git('status', '--porcelain', '--', 'ssot')).toBe('');
    const hist = JSON.parse((await f.g7('--json', 'log')).out);
    expect(hist).toEqual([expect.objectContaining({ run: 'run_0001', state: 'READY', passed: 7, failed: 0, commits: 2 })]);
    // A strike list was built from the tags, one line per chunk marked strike.
    const strikes = (await readFile(path.join(f.ssot, 'library_index/strike_list.jsonl'), 'utf8')).trim().split('\n');
    expect(strikes.length).toBeGreaterThan(0);
    expect(new Set(strikes.map((l) => JSON.parse(l).key)).size).toBe(strikes.length);
  });

  it('FAIL → one rework with the failure in it → FAIL again → FAIL_STOP and a rework pack; resume requeues', async () => {
    const f = await factory([
      { id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'out/1.txt', accept: 'exit==0' },
      { id: 'L1_TEST_000002', prio: 'A', input: 'echo "Error: Cannot find module \'left-pad\'" >&2; exit 3', output: 'out/2.txt', accept: 'exit==0' },
      { id: 'L1_TEST_000003', prio: 'A', input: 'printf never-reached', output: 'out/3.txt', accept: 'exit==0' },
    ]);
    const r = await f.g7('run');
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/FAIL_STOP: L1_TEST_000002 failed twice: IMPORT/);
    const report = await json(path.join(runDir(f, 'run_0001'), 'verify_report.json'));
    expect(report.state).toBe('FAIL_STOP');
    expect(report.counts).toEqual({ passed: 1, failed: 1, skipped: 0, pending: 1 });
    expect(report.cards[1]).toMatchObject({ id: 'L1_TEST_000002', status: 'FAIL', attempts: 2, triage: { class: 'IMPORT', transient: false } });
    const dir = path.join(runDir(f, 'run_0001'), 'cards', '002_L1_TEST_000002');
    expect((await readdir(dir)).sort()).toEqual(['attempt-1.json', 'attempt-2.json', 'card.json', 'summary.json']);
    const rework = (await readdir(path.join(f.ssot, 'rework'))).filter((n) => n.endsWith('.json'));
    expect(rework).toEqual([`${DAY}_L1_TEST_000002_run_0001.json`]);
    const pack = await json(path.join(f.ssot, 'rework', rework[0]!));
    expect(pack).toMatchObject({ status: 'open', card: { id: 'L1_TEST_000002' }, triage: { class: 'IMPORT' }, evidence: ['ssot/runs/run_0001/cards/002_L1_TEST_000002'] });
    expect(pack.attempts).toHaveLength(2);
    expect(pack.attempts[0].excerpt).toMatch(/Cannot find module 'left-pad'/);
    expect(pack.look_at).toMatch(/module or dependency/);

    const st = await f.g7('status');
    expect(st.out).toMatch(/state: FAIL_STOP/);
    expect(st.out).toMatch(/ssot\/rework\/20261121_L1_TEST_000002_run_0001\.json/);
    const again = await f.g7('run');
    expect(again.code).toBe(6);
    expect(again.err).toMatch(/FAIL_STOP since .*\n.*read: .*rework.*\n.*g7 resume/);

    // The person fixes the cause (here: the command), then resumes; the next run continues the truck.
    const packet = path.join(f.ssot, 'packets', DAY, 'round_01', 'packet_A.jsonl');
    await writeFile(packet, (await readFile(packet, 'utf8')).replace(/echo \\"Error: Cannot find module 'left-pad'\\" >&2; exit 3/, 'printf fixed'));
    expect((await f.g7('resume')).code).toBe(0);
    const fixed = await f.g7('run');
    expect(fixed.code).toBe(0);
    const r2 = await json(path.join(runDir(f, 'run_0002'), 'verify_report.json'));
    expect(r2.cards.map((c: { id: string; status: string }) => `${c.id}:${c.status}`)).toEqual(['L1_TEST_000002:PASS', 'L1_TEST_000003:PASS']);
    expect((await json(path.join(f.ssot, 'rework', rework[0]!))).status).toBe('requeued');
  });

  it('a transient worker failure stops RECOVERABLE without using the rework, and the next run resumes by itself', async () => {
    let failures = 1;
    const calls: WorkerRequest[] = [];
    const flaky: Worker = {
      provider: 'flaky',
      async call(req) {
        calls.push(req);
        if (failures-- > 0) throw new WorkerError('503 UNAVAILABLE: the model is overloaded', { transient: true });
        if (req.task.kind !== 'TAG') throw new Error('unexpected');
        return { json: tagByRules(req.task.chunk.text, req.task.taxonomy), provider: 'flaky', model: 'm', tokens: { in: 10, out: 2 }, cost_usd: 0.0001, finish_reason: 'STOP', duration_ms: 1 };
      },
    };
    const f = await factory(scanAndTag(1));
    const { main } = await import('../../src/cli/main.js');
    const out: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
    expect(await main(['--ssot', f.ssot, 'run'], io, flaky)).toBe(5);
    const state = await json(path.join(f.ssot, 'state/factory_state.json'));
    expect(state).toMatchObject({ state: 'RECOVERABLE', last_stop: { card: 'L2_TAG_000001', triage: 'API', transient: true } });
    const first = await json(path.join(runDir(f, 'run_0001'), 'verify_report.json'));
    expect(first.counts).toEqual({ passed: 1, failed: 0, skipped: 0, pending: 1 });
    // A 503 says nothing about when it clears: the default backoff holds the next job off.
    expect(Date.parse(state.last_stop.retry_after) - Date.parse(state.last_stop.at)).toBe(DEFAULT_RETRY_AFTER_MS);
    expect(await main(['--ssot', f.ssot, 'run'], io, flaky)).toBe(0);
    expect(out.at(-1)).toMatch(/^RECOVERABLE until .*: L2_TAG_000001: API \(transient\): 503 UNAVAILABLE.*\n  nothing to do before then \(no run, no commit\)/);
    expect(await readdir(path.join(f.ssot, 'runs'))).toEqual(['run_0001']);
    await timePasses(f);
    expect(await main(['--ssot', f.ssot, 'run'], io, flaky)).toBe(0);
    const second = await json(path.join(runDir(f, 'run_0002'), 'verify_report.json'));
    expect(second.cards).toEqual([expect.objectContaining({ id: 'L2_TAG_000001', status: 'PASS', attempts: 1 })]);
    expect(second.tokens).toEqual({ in: calls.length * 10 - 10, out: calls.length * 2 - 2 });
    expect((await json(path.join(f.ssot, 'state/factory_state.json'))).state).toBe('READY');
  });

  it('refuses to depart when the previous evidence pack does not verify, and says why', async () => {
    const f = await factory([{ id: 'L1_TEST_000001', prio: 'A', input: 'printf a', output: 'out/1.txt' }, ...Array.from({ length: 120 }, (_, i) => ({ id: `L2_TEST_${String(i + 1).padStart(6, '0')}`, prio: 'A' as const, input: 'true', output: `out/b${i}.txt` }))]);
    expect((await f.g7('run', '--no-commit')).code).toBe(0);
    await writeFile(path.join(runDir(f, 'run_0001'), 'stdout.txt'), 'edited by hand\n');
    const r = await f.g7('run', '--no-commit');
    expect(r.code).toBe(6);
    expect(r.err).toMatch(/the evidence pack of run_0001 does not verify .*stdout\.txt: sha256 is .*\n.*g7 verify run_0001/);
  });

  it('lets exactly one of two concurrent runs work; the other exits 7', async () => {
    // The first run's card holds it until the test lets go: the second starts while the lock is surely held.
    const f = await factory([{ id: 'L1_TEST_000001', prio: 'A', input: 'while [ ! -e release ]; do sleep 0.05; done; printf done', output: 'out/1.txt' }]);
    const { spawn } = await import('node:child_process');
    const { access } = await import('node:fs/promises');
    const { REPO, childEnv } = await import('../helpers.js');
    const start = () =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn(process.execPath, [path.join(REPO, 'bin/g7.mjs'), '--ssot', f.ssot, 'run', '--no-commit'], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
        let err = '';
        p.stderr.on('data', (b) => (err += b));
        p.on('close', (code) => resolve({ code, err }));
      });
    const a = start();
    const lock = path.join(f.ssot, 'state/run.lock');
    while (!(await access(lock).then(() => true, () => false))) await new Promise((r) => setTimeout(r, 20));
    const b = await start();
    await writeFile(path.join(f.root, 'release'), '');
    expect(b.code).toBe(7);
    expect(b.err).toMatch(/BUSY: another g7 run holds .*run\.lock \(pid \d+/);
    expect((await a).code).toBe(0);
  });
});

describe('git hygiene', () => {
  it('never commits the run lock or temp files, even in an SSOT without a .gitignore', async () => {
    const f = await factory([{ id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'ssot/out/1.txt' }]);
    const { rm } = await import('node:fs/promises');
    await rm(path.join(f.ssot, '.gitignore'));
    await writeFile(path.join(f.ssot, 'state', '.x.json.tmp-1-abcd'), 'partial');
    expect((await f.g7('run')).code).toBe(0);
    const tracked = f.git('ls-files', 'ssot');
    expect(f.git('log', '--all', '--name-only', '--format=')).not.toMatch(/run\.lock/);
    expect(tracked).not.toMatch(/run\.lock/);
    expect(tracked).not.toMatch(/\.tmp-/);
    expect(tracked).toMatch(/ssot\/runs\/run_0001\/verify_report\.json/);
  });

  it("counts the bundles of each run from none: a run that stops in bundle 1 says G7-Bundle 0, whatever the run before reached", { timeout: 60_000 }, async () => {
    const f = await factory(Array.from({ length: 21 }, (_, i) => ({ id: `L3_TEST_${String(i + 1).padStart(6, '0')}`, prio: 'A' as const, input: 'printf ok', output: `ssot/out/t${i + 1}.txt`, accept: 'exit==0' })));
    expect((await f.g7('run')).code).toBe(0); // bundles 1 and 2 done
    await f.write('ssot/backlog/backlog_20261122.jsonl', JSON.stringify({ id: 'L3_TEST_000001', lane: 3, prio: 'A', type: 'TEST', input: 'exit 1', output: 'ssot/out/d2.txt', accept: 'exit==0', failfast: 'never', cost_hint: 'LOW', deps: [] }) + '\n');
    expect((await f.g7('run')).code).toBe(4);
    const stops = f.git('log', '--format=%s|%(trailers:key=G7-Bundle,valueonly,separator=)').split('\n').filter((l) => / stop: /.test(l));
    expect(stops).toEqual(['g7: run_0002 round 1 truck A stop: FAIL_STOP, 0 passed, 1 failed|0', 'g7: run_0001 round 1 truck A stop: READY, 21 passed, 0 failed|2']);
    expect((await json(path.join(f.ssot, 'state', 'factory_state.json'))).bundle).toBeNull();
  });
});
