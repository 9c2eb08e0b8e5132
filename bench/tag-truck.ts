// The SSOT both run-loop benchmarks time: a git repository with a packed truck of 120 cheap TAG cards (the
// offline worker's rules: no model, no waiting), each over its own small library file.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export const TAG_CARDS = 120;

export interface TagTruck {
  /** The text of card i's library file. */
  text: (i: number) => string;
  /** A skill docstring for TAG, copied from this repository's ssot/ (Observe puts it in the prompt). */
  skill?: string;
}

export async function setupTagTruck(dir: string, o: TagTruck): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const w = async (rel: string, text: string) => {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), text);
  };
  const skills = o.skill ? `skills: { TAG: ${o.skill} }\n` : '';
  await w('ssot/factory.yaml', `library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\n${skills}`);
  await w('ssot/.gitignore', 'state/run.lock\n*.tmp-*\n');
  await w('ssot/rules/tags.yaml', 'tags:\n  - { name: risk, keywords: [related-party], strike: true }\n');
  if (o.skill) await w(o.skill, await readFile(path.resolve(o.skill), 'utf8'));
  const cards: string[] = [];
  for (let i = 1; i <= TAG_CARDS; i++) {
    const text = o.text(i);
    await w(`library/d${i}.md`, text);
    await w(`ssot/library_index/scan/${i}.jsonl`, JSON.stringify({ path: `d${i}.md`, offset: 0, length: Buffer.byteLength(text), sha256: '0'.repeat(64), size: Buffer.byteLength(text), mtime_ms: 0 }) + '\n');
    cards.push(JSON.stringify({ id: `L1_TAG_${String(i).padStart(6, '0')}`, lane: 1, prio: 'A', type: 'TAG', input: `ssot/library_index/scan/${i}.jsonl`, output: `ssot/library_index/tags/${i}.jsonl`, accept: `json:ssot/library_index/tags/${i}.jsonl`, failfast: 'never', cost_hint: 'LOW', deps: [] }));
  }
  await w('ssot/backlog/backlog_20261121.jsonl', cards.join('\n') + '\n');
  const git = (...a: string[]) => execFileSync('git', a, { cwd: dir });
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'bench@example.invalid');
  git('config', 'user.name', 'bench');
  execFileSync(process.execPath, [path.resolve('bin/g7.mjs'), '--ssot', path.join(dir, 'ssot'), 'pack'], { stdio: 'ignore' });
  git('add', '-A');
  git('commit', '-q', '-m', 'setup');
}
