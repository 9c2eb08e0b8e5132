// `g7 status` says what the next `g7 run` does; both ask the one function that decides it (next.ts
// decideNext), so they cannot disagree. Each case: status's `next`, then the run, then the two compared.
import { describe, expect, it } from 'vitest';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process, initGit, type CardSpec } from '../factory/fixture.js';
import { tempRepo } from '../helpers.js';

type Did = { kind: 'depart'; at: string } | { kind: 'nothing' | 'no-backlog' | 'refused' | 'waiting' | 'no-repo' };

function fromStatus(next: string): Did {
  const at = /(?:departs with |by itself: )(round \d+ truck [AB] of \d{8})/.exec(next)?.[1];
  if (at) return { kind: 'depart', at };
  if (/^the next `g7 run` refuses \(exit 2\): .* is not a git repository/.test(next)) return { kind: 'no-repo' };
  if (/has no backlog yet/.test(next)) return { kind: 'no-backlog' };
  if (/has nothing to run/.test(next)) return { kind: 'nothing' };
  if (/g7 resume.*refuses \(exit 6\)/.test(next)) return { kind: 'refused' };
  if (/^waits until /.test(next)) return { kind: 'waiting' };
  throw new Error(`status said: ${next}`);
}

function fromRun(r: { code: number | null; out: string; err: string }): Did {
  const all = r.out + r.err;
  const at = /run_\d+: (round \d+ truck [AB] of \d{8}) departs/.exec(all)?.[1];
  if (at) return { kind: 'depart', at };
  if (r.code === 2 && /is not a git repository, and g7 commits its evidence there/.test(all)) return { kind: 'no-repo' };
  if (r.code === 0 && /no backlog yet/.test(all)) return { kind: 'no-backlog' };
  if (r.code === 0 && /nothing to run/.test(all)) return { kind: 'nothing' };
  if (r.code === 6 && /FAIL_STOP since/.test(all)) return { kind: 'refused' };
  if (r.code === 0 && /RECOVERABLE until/.test(all)) return { kind: 'waiting' };
  throw new Error(`run exited ${r.code}: ${all}`);
}

async function agree(root: string, expected: Did['kind']): Promise<string> {
  const status = await g7Process(root, ['--json', 'status']);
  expect(status.code, status.err).toBe(0);
  const next = (JSON.parse(status.out) as { next: string }).next;
  const said = fromStatus(next);
  const did = fromRun(await g7Process(root, ['run']));
  expect(said.kind, next).toBe(expected);
  expect(did, next).toEqual(said);
  return next;
}

/** Every file under `root`: what a refused run must leave as it was. */
const listFiles = async (root: string) => (await readdir(root, { recursive: true, withFileTypes: true })).filter((d) => d.isFile()).map((d) => path.join(d.parentPath, d.name)).sort();

const cards: CardSpec[] = [
  { id: 'L3_TEST_000001', prio: 'B', input: 'printf ok', output: 'ssot/out/t1.txt', accept: 'exit==0' },
  { id: 'L3_TEST_000002', prio: 'B', input: 'test -f ssot/fixed', output: 'ssot/out/t2.txt', accept: 'exit==0' },
];

describe('status next == what g7 run then does', () => {
  it('no backlog', { timeout: 60_000 }, async () => {
    const t = await tempRepo();
    await t.write('ssot/factory.yaml', 'library: { root: library }\n');
    initGit(t.root);
    await agree(t.root, 'no-backlog');
  });

  it('outside a git repository with commits on: both say exit 2, and the run writes nothing; with git.commit off it runs', { timeout: 60_000 }, async () => {
    const f = await factory(cards.slice(0, 1));
    await rm(path.join(f.root, '.git'), { recursive: true, force: true });
    const before = await listFiles(f.root);
    await agree(f.root, 'no-repo');
    expect(await listFiles(f.root)).toEqual(before);
    await writeFile(path.join(f.ssot, 'factory.yaml'), 'library: { root: library }\ngit: { commit: false }\n');
    await agree(f.root, 'depart');
  });

  it('READY with cards, FAIL_STOP, RECOVERABLE before and after retry_after, day finished', { timeout: 120_000 }, async () => {
    const f = await factory(cards);
    // READY with a packed truck: it departs (and stops FAIL_STOP on card 2).
    await agree(f.root, 'depart');
    const stateFile = path.join(f.ssot, 'state', 'factory_state.json');
    const failStop = JSON.parse(await readFile(stateFile, 'utf8'));
    expect(failStop.state).toBe('FAIL_STOP');
    await agree(f.root, 'refused');
    // The same stop as RECOVERABLE, its retry_after ahead, then behind.
    const recoverable = (retryAfter: string) => writeFile(stateFile, JSON.stringify({ ...failStop, state: 'RECOVERABLE', last_stop: { ...failStop.last_stop, transient: true, retry_after: retryAfter } }));
    await recoverable('2999-01-01T00:00:00.000Z');
    await agree(f.root, 'waiting');
    await recoverable('2001-01-01T00:00:00.000Z');
    await writeFile(path.join(f.root, 'ssot', 'fixed'), '');
    const resumed = await agree(f.root, 'depart');
    expect(resumed).toMatch(/resumes at L3_TEST_000002 by itself/);
    // Every card passed: the day is done, and both say so.
    await agree(f.root, 'nothing');
  });
});
