// The night's repository: a copy of the example factory with a generated library large enough for several
// rounds, a day plan that scans it, tags it (online, and one big file through the Batch API), strikes the
// strike list and patches from two work packs (one of which can never pass its test), pointed at the fake
// Gemini. Committed, it seeds the loopback remote every scheduled job clones.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { REPO, tempRepo, type TempRepo } from '../helpers.js';
import { git, initGit } from '../factory/fixture.js';

export const NIGHT_DAY = '20261121';
/** Chunks of the one big library file: more than batch_min_requests, so its TAG card goes to the Batch API. */
export const BIG_FILE_LINES = 1000;
export const BATCH_MIN = 30;
/** The workflows the night's jobs belong to. */
export const NIGHT_WORKFLOWS = ['factory.yml', 'factory-lanes.yml'];

const PLAN = `date: 2026-11-21
goal: the night's scan of the generated library, tagged online and in batch, struck, and patched
entries:
  - name: scan
    lane: 1
    prio: A
    type: SCAN
    each: { glob: "night/**/*.md", per_card: 1 }
    output: ssot/library_index/scan/{n}.jsonl
    accept: lines>=1:{output}
  - name: tag
    lane: 2
    prio: B
    type: TAG
    after: { entry: scan, mode: each }
    input: ssot/library_index/scan/{n}.jsonl
    output: ssot/library_index/tags/{n}.jsonl
    accept: json:{output}
  - name: strike
    lane: 3
    prio: C
    type: STRIKE
    each: { lines: ssot/library_index/strike_list.jsonl, per_card: 10 }
    output: ssot/library_index/strikes/{n}.jsonl
    cost_hint: HIGH
  - { name: selftest, lane: 5, prio: C, type: TEST, after: scan, pack: 개집001, input: "node examples/checks/scan-index-ok.mjs ssot/library_index/scan", output: ssot/library_index/selftest.txt, accept: exit==0 }
  - { name: digest, lane: 6, prio: D, type: PATCH, after: tag, pack: 개집002, input: reports, output: ssot/library_index/digest.json, accept: lines>=2:reports/strike-digest.md }
  - { name: fixit, lane: 7, prio: D, type: PATCH, after: tag, pack: 개집003, input: tools, output: ssot/library_index/fixit.json, accept: cmd:node tools/fixit.mjs }
`;

const PACKS: Record<string, unknown> = {
  개집002: {
    id: '개집002',
    goal: 'Write a short digest of the night: one line per strike finding, under a heading',
    files: { create: ['reports/strike-digest.md'], modify: [] },
    forbidden: ['never modify the library', 'never write outside reports/'],
    success: ['reports/strike-digest.md has a heading and at least one line'],
    evidence: ['the digest file'],
  },
  개집003: {
    id: '개집003',
    goal: 'Make tools/fixit.mjs exit 0 without changing what it checks',
    files: { create: [], modify: ['tools/fixit.mjs'] },
    forbidden: ['never delete the check'],
    success: ['node tools/fixit.mjs exits 0'],
    evidence: ['the command output'],
  },
};

const COMPANIES = ['baram', 'daeseong', 'dongbu', 'gaon', 'hanbit', 'mirae', 'nuri', 'seorin'];

/** One small disclosure (one chunk); every fifth mentions a related party, so TAG marks it for the strike list. */
function disclosure(i: number): string {
  const co = COMPANIES[i % COMPANIES.length]!;
  const risky = i % 5 === 0;
  return [
    `# ${co} disclosure ${i}`,
    '',
    `Quarter ${1 + (i % 4)}: revenue of KRW ${100 + i} billion, ordinary course of business.`,
    risky ? `The company lent KRW ${i} billion to a related-party affiliate of the chairman.` : 'No transactions outside the ordinary course were reported.',
    '',
  ].join('\n');
}

export async function nightRepo(opts: { libraryFiles: number; geminiUrl: string }): Promise<TempRepo> {
  const repo = await tempRepo({ example: true });
  const factory = (await readFile(`${repo.ssot}/factory.yaml`, 'utf8'))
    .replace(/^limits:.*$/m, 'limits: { rpm: 100000, tpm: 100000000, timeout_s: 30, max_retry_delay_s: 5 }')
    .replace(/^git:.*$/m, 'git: { commit: true, push: true }');
  await repo.write('ssot/factory.yaml', `${factory}scan: { chunk_bytes: 1024 }\ngemini: { base_url: "${opts.geminiUrl}", batch_min_requests: ${BATCH_MIN} }\n`);
  await repo.write(`ssot/plans/dayplan_${NIGHT_DAY}.yaml`, PLAN);
  for (const [id, pack] of Object.entries(PACKS)) await repo.write(`ssot/backlog/packs/${id}.json`, JSON.stringify(pack, null, 2) + '\n');
  await repo.write('tools/fixit.mjs', "// A check no patch can satisfy tonight: the work pack that fails twice.\nprocess.exit(1);\n");
  await repo.write('examples/library/night/a-big/ledger.md', Array.from({ length: BIG_FILE_LINES }, (_, k) => `Ledger line ${k}: ${k % 9 === 0 ? 'a related-party loan' : 'an ordinary payment'} of KRW ${k} million.`).join('\n') + '\n');
  for (let i = 1; i < opts.libraryFiles; i++) await repo.write(`examples/library/night/d${String(i).padStart(4, '0')}.md`, disclosure(i));
  // The shipped truck workflows, as a deploy copies them: the fake GitHub reads them to take (or refuse) the
  // chaining dispatches, and the night plays factory.yml's schedule.
  for (const w of NIGHT_WORKFLOWS) await repo.write(`.github/workflows/${w}`, await readFile(path.join(REPO, '.github/workflows', w), 'utf8'));
  initGit(repo.root);
  git(repo.root, 'add', '-A');
  git(repo.root, 'commit', '-q', '-m', 'the factory, its library and the day plan for the night');
  return repo;
}
