// `g7 init`: an SSOT skeleton a person can start from. It never overwrites a file that exists.
import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { Layout } from '../ssot/layout.js';
import { writeFileAtomic } from '../ssot/atomic.js';
import { fileExists } from '../plan/backlog.js';
import { EXIT } from './exit.js';
import type { Io } from './main.js';

const FACTORY_YAML = `# G7 Factory configuration. Paths are relative to the repository root (the folder holding ssot/).
library: { root: library }            # the library SCAN reads; may live outside the repository
models: { LOW: gemini-2.5-flash-lite, MID: gemini-2.5-flash, HIGH: gemini-2.5-pro }
limits: { rpm: 60, tpm: 1000000, timeout_s: 120 }
budget: { per_truck_usd: 2.00, per_night_usd: 10.00 }
prices_per_mtok:
  gemini-2.5-flash-lite: { in: 0.10, out: 0.40 }
  gemini-2.5-flash: { in: 0.30, out: 2.50 }
  gemini-2.5-pro: { in: 1.25, out: 10.00 }
taxonomy: ssot/rules/tags.yaml
git: { commit: true, push: false }
`;

const TAGS_YAML = `# Offline tagger rules: a chunk gets a tag when any of its patterns match (case-insensitive).
tags:
  - name: todo
    keywords: [TODO, FIXME]
  - name: money
    regex: ['\\\\$\\\\s?\\\\d']
    strike: true
`;

export async function initSsot(layout: Layout, io: Io, display: (p: string) => string): Promise<number> {
  const dirs = [layout.plansDir, layout.packsDir, layout.packetsDir, layout.runsDir, layout.stateDir, layout.reworkDir, layout.libraryIndexDir, layout.skillsDir, path.join(layout.ssotDir, 'rules'), path.join(layout.auditDir, 'ai-ask')];
  for (const d of dirs) await mkdir(d, { recursive: true });
  const files: [string, string][] = [
    [layout.factoryFile, FACTORY_YAML],
    [path.join(layout.ssotDir, 'rules', 'tags.yaml'), TAGS_YAML],
    [path.join(layout.ssotDir, '.gitignore'), '# Written and read by g7 alone.\nstate/run.lock\n*.tmp-*\n'],
  ];
  for (const [file, text] of files) {
    if (await fileExists(file)) {
      io.out(`kept    ${display(file)} (exists)`);
      continue;
    }
    await writeFileAtomic(file, text);
    io.out(`created ${display(file)}`);
  }
  io.out(`ready: write a day plan in ${display(layout.plansDir)}/dayplan_YYYYMMDD.yaml, then g7 plan compile it`);
  return EXIT.OK;
}
