// A real `g7 run` with GEMINI_API_KEY set to a canary, against the fake: model cards go through Gemini,
// and a TEST card even prints the key. The canary must not appear in any file the run wrote, in any
// committed content, or in what g7 printed.
import { describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { factory } from '../factory/fixture.js';
import { fakeGemini } from '../fakes/gemini-server.js';
import { REPO, childEnv } from '../helpers.js';

const CANARY = 'canary-AIzaSyG7-0d1e2f3a4b5c6d7e8f9';

async function allFiles(dir: string, out: string[] = []): Promise<string[]> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await allFiles(p, out);
    else out.push(p);
  }
  return out;
}

function g7(ssot: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(REPO, 'bin/g7.mjs'), '--ssot', ssot, 'run'], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.stderr.on('data', (b) => (out += b));
    p.on('close', (code) => resolve({ code, out }));
  });
}

describe('secrets', () => {
  it('never writes the Gemini key anywhere: evidence, audit, state, cache, commits, output', async () => {
    const fake = await fakeGemini({ keys: [CANARY] });
    try {
      const f = await factory(
        [
          { id: 'L1_SCAN_000001', prio: 'A', input: ['doc001.md'], output: 'ssot/library_index/scan/1.jsonl' },
          { id: 'L2_TAG_000001', prio: 'A', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', deps: ['L1_SCAN_000001'], accept: 'json:ssot/library_index/tags/1.jsonl' },
          { id: 'L3_STRIKE_000001', prio: 'B', input: 'ssot/library_index/strike_list.jsonl#L1-L2', output: 'ssot/library_index/strikes/1.jsonl', deps: ['L2_TAG_000001'], cost_hint: 'HIGH' },
          { id: 'L4_TEST_000001', prio: 'C', input: 'echo "the key is $GEMINI_API_KEY"; echo "stderr $GEMINI_API_KEY" >&2', output: 'ssot/out/leak.txt', accept: 'exit==0' },
        ],
        { files: {} },
      );
      await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\ngemini: { base_url: "${fake.url}" }\nprices_per_mtok: { gemini-2.5-flash-lite: { in: 0.1, out: 0.4 }, gemini-2.5-pro: { in: 1.25, out: 10 } }\n`);
      f.git('add', '-A');
      f.git('commit', '-q', '-m', 'point at the fake');
      const r = await g7(f.ssot, { GEMINI_API_KEY: CANARY });
      expect(r.code, r.out).toBe(0);
      const calls = fake.requests.filter((q) => q.verb === 'generateContent');
      expect(calls.length).toBeGreaterThan(1);
      expect(calls.every((q) => q.key === CANARY && q.status === 200)).toBe(true);
      expect(new Set(calls.map((q) => q.model))).toEqual(new Set(['gemini-2.5-flash-lite', 'gemini-2.5-pro']));

      const report = JSON.parse(await readFile(path.join(f.ssot, 'runs/run_0001/verify_report.json'), 'utf8'));
      expect(report.cards.map((c: { status: string }) => c.status)).toEqual(['PASS', 'PASS', 'PASS', 'PASS']);
      expect(report.cost_usd).toBeGreaterThan(0);
      // The key never reaches the TEST card's shell: a card's child processes get an environment without secrets.
      expect(JSON.parse(await readFile(path.join(f.ssot, 'runs/run_0001/cards/004_L4_TEST_000001/attempt-1.json'), 'utf8')).files['stdout.txt'].text).toBe('the key is \n');
      expect(await readFile(path.join(f.ssot, 'out/leak.txt'), 'utf8')).toBe('the key is \n');

      const leaks: string[] = [];
      for (const file of await allFiles(f.root)) {
        if (file.includes(`${path.sep}.git${path.sep}`)) continue;
        if ((await readFile(file)).includes(CANARY)) leaks.push(path.relative(f.root, file));
      }
      expect(leaks).toEqual([]);
      const history = execFileSync('git', ['log', '-p', '--all'], { cwd: f.root, encoding: 'utf8', maxBuffer: 1 << 28, env: childEnv() });
      expect(history.includes(CANARY)).toBe(false);
      expect(r.out.includes(CANARY)).toBe(false);
      const audit = await allFiles(path.join(f.ssot, 'store', 'audit'));
      expect(audit.length).toBeGreaterThan(0);
    } finally {
      await fake.close();
    }
  });
});
