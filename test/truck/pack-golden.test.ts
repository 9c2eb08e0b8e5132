// `g7 pack` of a large backlog gives the same bytes as the packer before its loader was split across threads:
// the packets and the report of a 60,000-card backlog (10.6 MB) (past the size at which the built CLI checks in worker
// threads) with done, failed and skipped cards, deps across classes and a dep on a card done and dropped,
// pinned by their sha256 as the single-threaded packer wrote them. The same packing, in-process from the
// source (no worker bundle there), gives the same bytes too.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { build } from 'esbuild';
import { appendJournal } from '../../src/ssot/journal.js';
import { packetFile, packReportFile } from '../../src/ssot/layout.js';
import { cliBuildOptions } from '../../scripts/build.mjs';
import { card, childEnv, tempRepo, REPO, type TempRepo } from '../helpers.js';

const DAY = '20261121';
const N = 60_000;

function backlog(): string {
  const prios = ['A', 'A', 'B', 'B', 'C', 'D'] as const;
  const types = { A: 'SCAN', B: 'TAG', C: 'STRIKE', D: 'TRIAGE' } as const;
  const lanes = { A: 1, B: 2, C: 3, D: 4 } as const;
  const counters = { A: 0, B: 0, C: 0, D: 0 };
  const id = (p: keyof typeof types, n: number) => `L${lanes[p]}_${types[p]}_${String(n).padStart(6, '0')}`;
  let text = '';
  for (let i = 0; i < N; i++) {
    // D cards only in the last quarter of the file, so that the trucks load cards from both halves.
    const prio = i < (N * 3) / 4 ? prios[i % 5]! : prios[i % prios.length]!;
    const n = ++counters[prio];
    // TAG n waits for SCAN n; every 7th STRIKE waits for a TAG and the STRIKE before it; TRIAGE 3 waits for a
    // SCAN that is done and no longer in the backlog (number 999,999, never generated); every D card waits
    // for a STRIKE of the first quarter.
    const deps = prio === 'B' && n <= counters.A ? [id('A', n)] : prio === 'C' && n % 7 === 0 ? [id('B', n), id('C', n - 1)] : prio === 'D' && n === 3 ? ['L1_SCAN_999999'] : prio === 'D' ? [id('C', n)] : [];
    const output = `out/${types[prio].toLowerCase()}/${n}.txt`;
    text += JSON.stringify(card(id(prio, n), prio, deps, { input: `in/${n}.txt`, output, accept: `lines>=1:${output}`, failfast: 'cost>0.20' })) + '\n';
  }
  return text;
}

async function seed(repo: TempRepo): Promise<void> {
  const text = backlog();
  expect(text.length).toBeGreaterThan(9 << 20); // past the size from which the built CLI reads in two halves
  await repo.write(`ssot/backlog/backlog_${DAY}.jsonl`, text);
  const result = (card: string, status: 'PASS' | 'FAIL' | 'SKIP') => ({ ts: '2026-11-21T01:00:00Z', event: 'card_result' as const, run: 'run_0001', day: DAY, round: 1, truck: 'A' as const, card, slot: 1, bundle: 1, status });
  await appendJournal(repo.layout, [
    ...Array.from({ length: 30 }, (_, k) => result(`L1_SCAN_${String(k + 1).padStart(6, '0')}`, 'PASS')),
    result('L1_SCAN_999999', 'PASS'),
    result('L1_SCAN_000031', 'FAIL'),
    result('L2_TAG_000040', 'SKIP'),
  ]);
}

async function packedDigest(repo: TempRepo): Promise<string> {
  const h = createHash('sha256');
  for (const f of [packetFile(repo.layout, DAY, 1, 'A'), packetFile(repo.layout, DAY, 1, 'B')]) h.update(await readFile(f));
  // The report names the backlog as the process shows it (relative to its working folder): the one field
  // that differs between two temporary repositories.
  const report = await readFile(packReportFile(repo.layout, DAY, 1), 'utf8');
  h.update(report.replace(/^  "backlog": ".*",$/m, '  "backlog": "",'));
  return h.digest('hex');
}

// The digest of what the packer wrote before the loader changed (taken from that code, on this backlog).
const BEFORE = '4fb05f31f71a414d871e08288593b192338b3a31eff32728d225523f9d75a72a';

describe('g7 pack of a large backlog', () => {
  it('writes the same packets and report as the single-threaded packer did', async () => {
    const dist = path.join(REPO, 'node_modules/.cache/g7-test-pack-golden');
    await build({ ...cliBuildOptions, outdir: dist, sourcemap: false, logLevel: 'silent' });
    const repo = await tempRepo();
    await seed(repo);
    const pack = () => spawnSync(process.execPath, [path.join(dist, 'g7.mjs'), '--ssot', repo.ssot, '--json', 'pack', '--day', DAY], { cwd: repo.root, encoding: 'utf8', env: childEnv() });
    const r = pack();
    expect(r.status, r.stderr).toBe(0);
    const viaWorkers = await packedDigest(repo);
    // Packed again, the backlog is read without the checks (its stamp vouches for the bytes): same packets.
    const again = pack();
    expect(again.status, again.stderr).toBe(0);
    expect(await packedDigest(repo)).toBe(viaWorkers);

    const inProcess = await tempRepo();
    await seed(inProcess);
    const own = await inProcess.g7('--json', 'pack', '--day', DAY);
    expect(own.code, own.err).toBe(0);
    expect(await packedDigest(inProcess)).toBe(viaWorkers);
    expect(viaWorkers).toBe(BEFORE);
  }, 120_000);
});
