// A model id the Gemini API does not know (it answers 404), or one without a price, stops the truck before
// it departs: exit 3, the factory.yaml line named, no run directory, nothing asked of the model.
import { describe, expect, it, beforeEach, afterEach } from 'vitest';
import { readdir, access } from 'node:fs/promises';
import path from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { factory, timePasses, type Factory } from '../factory/fixture.js';
import { fakeGemini, type FakeGemini } from '../fakes/gemini-server.js';
import { main } from '../../src/cli/main.js';
import { geminiOn } from './support.js';

let fake: FakeGemini;
let f: Factory;
beforeEach(async () => {
  fake = await fakeGemini({ keys: ['k'] });
  f = await factory([
    { id: 'L1_SCAN_000001', prio: 'A', input: ['doc001.md'], output: 'ssot/library_index/scan/1.jsonl' },
    { id: 'L2_TAG_000001', prio: 'A', input: 'ssot/library_index/scan/1.jsonl', output: 'ssot/library_index/tags/1.jsonl', deps: ['L1_SCAN_000001'] },
    { id: 'L3_STRIKE_000001', prio: 'B', input: 'ssot/library_index/strike_list.jsonl#L1-L2', output: 'ssot/out/s.jsonl', deps: ['L2_TAG_000001'], cost_hint: 'HIGH' },
  ]);
});
afterEach(async () => fake.close());

async function run(yaml: string, over: Parameters<typeof geminiOn>[1] = {}) {
  await f.write('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\n${yaml}`);
  const err: string[] = [];
  const code = await main(['--ssot', f.ssot, 'run', '--no-commit'], { out: () => {}, err: (s) => err.push(s) }, await geminiOn(fake, over));
  return { code, err: err.join('\n') };
}
const nothingRan = async () => {
  expect(fake.requests.filter((r) => r.route === 'generateContent')).toHaveLength(0);
  await expect(access(path.join(f.ssot, 'runs'))).rejects.toThrow();
};

describe('preflight: the models of a truck are checked before it departs', () => {
  it('an unknown model id: exit 3 naming the factory.yaml line and field, nothing run', async () => {
    const r = await run('models:\n  LOW: gemini-2.5-flash-lite\n  HIGH: gemini-2.5-prox\nprices_per_mtok: { gemini-2.5-flash-lite: { in: 0.1, out: 0.4 } }\n');
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/factory\.yaml:6:9: models\.HIGH: the Gemini API does not know model "gemini-2\.5-prox" \(404 NOT_FOUND\) \[config\.unknown-model\]\n\s+→ use a model id the API lists/);
    expect(r.err).not.toMatch(/models\.LOW/);
    expect(fake.requests.filter((q) => q.route === 'models.get').map((q) => [q.model, q.status])).toEqual([['gemini-2.5-prox', 404], ['gemini-2.5-flash-lite', 200]]);
    await nothingRan();
  });

  it('a model without a price: exit 3, the budgets could not hold', async () => {
    // The worker prices with the table it was given (from prices_per_mtok, as `g7` builds it).
    const r = await run('models: { LOW: gemini-2.5-flash-lite, HIGH: gemini-2.5-pro }\nprices_per_mtok: { gemini-2.5-flash-lite: { in: 0.1, out: 0.4 } }\n', { prices: { 'gemini-2.5-flash-lite': { in: 0.1, out: 0.4 } } });
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/factory\.yaml:4:\d+: models\.HIGH: "gemini-2\.5-pro" has no price in prices_per_mtok.*\[config\.no-price\]/);
    await nothingRan();
  });

  it('a truck without model cards asks nothing', async () => {
    f = await factory([{ id: 'L1_TEST_000001', prio: 'A', input: 'printf ok', output: 'ssot/out/t.txt' }]);
    const r = await run('models: { HIGH: gemini-2.5-prox }\n');
    expect(r.code).toBe(0);
    expect(fake.requests).toHaveLength(0);
    expect(await readdir(path.join(f.ssot, 'runs'))).toEqual(['run_0001']);
  });

  it('an unreachable API: the preflight says so with the host; the stop and, after escalation, the rework pack advise the network, then g7 resume', async () => {
    // A port nothing listens on: connections are refused, no HTTP status ever comes back.
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise((r) => server.close(r));
    const host = `127.0.0.1:${port}`;
    const over = { baseUrl: `http://${host}` };
    const yaml = `gemini: { base_url: "http://${host}" }\nprices_per_mtok: { gemini-2.5-flash-lite: { in: 0.1, out: 0.4 }, gemini-2.5-flash: { in: 0.3, out: 2.5 }, gemini-2.5-pro: { in: 1.25, out: 10 } }\n`;
    const first = await run(yaml, over);
    expect(first.err).toContain(`preflight: the models could not be checked: could not reach the Gemini API at ${host}`);
    expect(first.code).toBe(5);
    const stateFile = path.join(f.ssot, 'state/factory_state.json');
    let state = JSON.parse(await readFile(stateFile, 'utf8'));
    expect(state.last_stop.hint).toMatch(new RegExp(`^check the network from this runner to ${host.replace(/\./g, '\\.')}, gemini\\.base_url`));
    for (let i = 0; i < 3; i++) {
      await timePasses(f);
      await run(yaml, over);
    }
    state = JSON.parse(await readFile(stateFile, 'utf8'));
    expect(state.state).toBe('FAIL_STOP');
    expect(state.last_stop.hint).toMatch(/^check the network .*; it did not clear over 3 runs, so the factory waits for a person$/);
    expect(state.last_stop.hint).not.toMatch(/resumes at this card/);
    const rework = JSON.parse(await readFile(path.join(f.root, state.last_stop.files.find((x: string) => x.includes('/rework/'))), 'utf8'));
    expect(rework.look_at).toMatch(/Nothing refused: the API could not be reached/);
    expect(rework.look_at).not.toMatch(/API refused/);
    expect(rework.look_at).toMatch(/g7 resume/);
  });
});
