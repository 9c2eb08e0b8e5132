// What coreloop's Observe costs a truck: `g7 run --no-commit` of 120 TAG cards (offline rules, a Markdown
// skill in the prompt, chunks of about 1 KB) with the audit records written, against the same run with
// G7_AUDIT_DISABLE=1 — the floor is the run loop without Observe. Whole processes, interleaved. Also the
// bytes of audit log a truck writes.
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { childMain, interleave, machine, ratio, selfTask, spread, table, fmt, runOnce, RUNS, type Cmd } from './harness.js';

const base = path.resolve('bench/.data/observe');
const g7 = path.resolve('bin/g7.mjs');
const CARDS = 120;

async function setup(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const w = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  };
  await w('ssot/factory.yaml', 'library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nskills: { TAG: ssot/skills/TAG.md }\n');
  await w('ssot/.gitignore', 'state/run.lock\n*.tmp-*\n');
  await w('ssot/rules/tags.yaml', 'tags:\n  - { name: risk, keywords: [related-party], strike: true }\n');
  await w('ssot/skills/TAG.md', await readFile(path.resolve('ssot/skills/TAG.md'), 'utf8'));
  const cards: string[] = [];
  for (let i = 1; i <= CARDS; i++) {
    const text = `Card ${i}: a related-party loan of KRW ${i} billion, approved by the board.\n`.repeat(14);
    const id = `L1_TAG_${String(i).padStart(6, '0')}`;
    await w(`library/d${i}.md`, text);
    await w(`ssot/library_index/scan/${i}.jsonl`, JSON.stringify({ path: `d${i}.md`, offset: 0, length: Buffer.byteLength(text), sha256: '0'.repeat(64), size: Buffer.byteLength(text), mtime_ms: 0 }) + '\n');
    cards.push(JSON.stringify({ id, lane: 1, prio: 'A', type: 'TAG', input: `ssot/library_index/scan/${i}.jsonl`, output: `ssot/library_index/tags/${i}.jsonl`, accept: `json:ssot/library_index/tags/${i}.jsonl`, failfast: 'never', cost_hint: 'LOW', deps: [] }));
  }
  await w('ssot/backlog/backlog_20261121.jsonl', cards.join('\n') + '\n');
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'bench@example.invalid');
  git('config', 'user.name', 'bench');
  execFileSync(process.execPath, [g7, '--ssot', path.join(dir, 'ssot'), 'pack'], { stdio: 'ignore' });
  git('add', '-A');
  git('commit', '-q', '-m', 'setup');
}

const isChild = await childMain({
  async setup([dir]) {
    await setup(dir!);
  },
});

if (!isChild) {
  await mkdir(base, { recursive: true });
  const self = import.meta.url;
  const dirOf = (name: string) => path.join(base, name.replace(/\W+/g, '-'));
  const truck = (name: string, env: Record<string, string>): Cmd => ({
    name, env, argv: [process.execPath, g7, '--ssot', path.join(dirOf(name), 'ssot'), 'run', '--no-commit'],
    before: () => void runOnce(selfTask(self, 'setup', 'setup', [dirOf(name)])),
  });
  const cmds = [truck('without Observe', { G7_AUDIT_DISABLE: '1' }), truck('with Observe', {})];
  process.stderr.write(`${RUNS} interleaved rounds…\n`);
  const runs = interleave(cmds, RUNS);
  const ms = (n: string) => runs.get(n)!.map((r) => r.ms);
  const log = path.join(dirOf('with Observe'), 'ssot/audit/ai-ask');
  const files = await readdir(log);
  let bytes = 0;
  let lines = 0;
  for (const f of files) {
    bytes += (await stat(path.join(log, f))).size;
    lines += (await readFile(path.join(log, f), 'utf8')).split('\n').filter(Boolean).length;
  }
  console.log(`\n${CARDS} TAG cards (offline rules, a Markdown skill); g7 run --no-commit, whole processes, ${RUNS} interleaved rounds, median (min-max)\nmachine: ${machine()}\n`);
  console.log(
    table(
      ['task', 'total ms', 'per card ms', 'x without Observe'],
      [
        ['g7 run, G7_AUDIT_DISABLE=1 (the floor)', fmt.range(spread(ms('without Observe')), fmt.ms), fmt.range(spread(ms('without Observe').map((x) => x / CARDS)), (v) => v.toFixed(2)), '1.00'],
        ['g7 run, one audit record per worker call', fmt.range(spread(ms('with Observe')), fmt.ms), fmt.range(spread(ms('with Observe').map((x) => x / CARDS)), (v) => v.toFixed(2)), fmt.range(ratio(ms('with Observe'), ms('without Observe')), fmt.x)],
      ],
    ),
  );
  console.log(`\naudit log of one truck: ${lines} records, ${bytes} bytes (${(bytes / Math.max(lines, 1)).toFixed(0)} bytes a record)`);
}
