// The night's coreloop: a recurring failure the skill can fix, and the loop that learns it. The fake Gemini
// answers some TAG chunks carelessly (tags as one comma-separated string, which the answer schema refuses;
// the card's one rework passes) unless the system prompt it is sent carries a Caveat saying to give tags as
// a JSON array, as a real model follows its prompt. After the trucks, refine mines the failures, the
// reflector (the same fake, reading the recorded cases) writes the Caveat, and refine --confirm checks it
// live (arm A without it fails, arm B with it passes), pushes the branch and opens the draft PR. check6
// judges that PR from the fake GitHub's copy and the fake Gemini's request log.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FakeGemini } from '../fakes/gemini-server.js';
import type { FakeGitHub } from '../fakes/github-server.js';
import { gitAsync, g7Process, type G7Process } from '../factory/fixture.js';

/** The words of the Caveat the fake follows once its system prompt has them. */
export const CAVEAT_WORDS = 'JSON array';
const CAVEAT = `Give tags as a ${CAVEAT_WORDS} of taxonomy names, e.g. ["related-party"], never as one comma-separated string.`;

/** Careless on the related-party disclosures from number 200 on (the chunk's own heading says which): the third round's trucks, where no job is killed (a refused answer is not cached, and a killed card would ask it again). */
const careless = (prompt: string) => /disclosure [2-9]\d\d\b/.test(prompt) && /affiliate of the chairman/.test(prompt);

type Answer = FakeGemini['answer'];

/** The night's answers, bent: careless TAG answers without the Caveat, and the reflector's bullets. */
export function followsCaveats(inner: Answer): Answer {
  return (body) => {
    const schema = JSON.stringify((body.generationConfig as Record<string, unknown> | undefined)?.responseJsonSchema ?? {});
    const system = JSON.stringify(body.systemInstruction ?? '');
    const prompt = JSON.stringify(body.contents ?? '');
    if (schema.includes('"bullet"')) return reflectorAnswer(prompt);
    const a = inner(body) as { tags?: string[] };
    if (schema.includes('"tags"') && careless(prompt) && !system.includes(CAVEAT_WORDS) && !prompt.includes('rework attempt') && Array.isArray(a.tags)) return { ...a, tags: a.tags.join(', ') };
    return a;
  };
}

/** The reflector as a model would answer it: a Caveat when the failing cases show the tags refused as not an array; nothing to learn otherwise. */
function reflectorAnswer(prompt: string): { bullet: string; why: string } {
  if (/section\\+": \\+"Caveats/.test(prompt) && /tags/.test(prompt) && /must be array/.test(prompt)) return { bullet: CAVEAT, why: 'the failing answers gave tags as one string; the schema wants an array' };
  if (/section\\+": \\+"Guide/.test(prompt) && /STRIKE/.test(prompt)) return { bullet: 'Quote, for every sensor, one whole sentence of the text exactly as it stands.', why: 'every passing answer quoted a verbatim sentence per sensor' };
  return { bullet: '', why: 'the cases show no mistake a model could avoid (short inputs, or a rule no answer can meet)' };
}

/**
 * The coreloop job after the pattern job: refine mines the night's failures (the reflector writes each
 * bullet), commits the counterexamples; then, as a dispatched coreloop.yml run, refine --confirm of the
 * Caveat for the refused tags.
 */
export async function refineJob(dir: string, at: string, env: Record<string, string>): Promise<G7Process> {
  const mined = await g7Process(dir, ['coreloop', 'refine', '--since', '30d'], { G7_NOW: at, GEMINI_API_KEY: env.GEMINI_API_KEY! });
  if (mined.code !== 0) return mined;
  await gitAsync(dir, 'add', 'ssot/audit');
  if ((await gitAsync(dir, 'diff', '--cached', '--name-only')).trim()) {
    await gitAsync(dir, 'commit', '-q', '-m', 'g7: coreloop refine counterexamples');
    await gitAsync(dir, 'push', '-q', 'origin', 'HEAD:main');
  }
  const folder = path.join(dir, 'ssot/audit/counterexamples');
  const file = (await readdir(folder).catch(() => [] as string[])).filter((n) => n.endsWith('-counterexamples.json')).sort().at(-1);
  const cands = file ? (JSON.parse(await readFile(path.join(folder, file), 'utf8')) as { candidates: { id: string; category_hash: string; evidence: { signal?: { cause: string } } }[] }).candidates : [];
  const cx = cands.find((c) => c.category_hash.startsWith('TAG:') && c.evidence.signal?.cause === 'schema');
  if (!cx) return { ...mined, out: `${mined.out}\nno Caveat for the refused tags among ${cands.length} candidate(s)` };
  const r = await g7Process(dir, ['coreloop', 'refine', '--candidate', `ssot/audit/counterexamples/${file}`, '--id', cx.id, '--confirm'], { G7_NOW: at, ...env });
  return { ...r, out: `${mined.out}\n${mined.err}\n${r.out}`, err: r.err };
}

/** Check 6's further problems: the PR body a person decides from, and arm B's requests that carried the Caveat. */
export async function coreloopProblems(github: FakeGitHub, gemini: FakeGemini, number: number, logDir: string): Promise<{ problems: string[]; details: string[] }> {
  const problems: string[] = [];
  const pr = github.pull(number)!;
  const body = String(pr.body ?? '');
  const title = String(pr.title ?? '');
  await writeFile(path.join(logDir, 'coreloop-pr.md'), `# ${title}\n\n${body}\n`);
  if (!title.startsWith('[CORELOOP-F]')) problems.push(`the PR is not a Caveat ([CORELOOP-F]): ${title}`);
  if (!body.includes(CAVEAT)) problems.push('the PR body does not carry the bullet the reflector wrote');
  const flipped = /Failing cases that flipped with the Caveat: (\d+) of (\d+)\./.exec(body);
  if (!flipped || Number(flipped[1]) < 3 || flipped[1] !== flipped[2]) problems.push(`the PR body does not show every failing case flipped (${flipped?.[0] ?? 'no flip count'})`);
  if (!/Arm A \(the current docstring\): gemini\/\S+; arm B \(with the change\): gemini\/\S+/.test(body)) problems.push('the PR body does not name the worker and model of both arms');
  if (!/\| own \| `[0-9a-f]{16}` \| `TAG:tag#[0-9a-f]{8}` \| tag night\/d0\d+\.md@0\+\d+ \| fail \| 0\/3 \| 3\/3 \|/.test(body)) problems.push('the PR body has no row of a failing case with its input, recorded outcome and both arms');
  const withCaveat = gemini.requests.filter((r) => r.route === 'generateContent' && JSON.stringify((r.body as { systemInstruction?: unknown } | undefined)?.systemInstruction ?? '').includes(CAVEAT_WORDS)).length;
  const reflector = gemini.requests.filter((r) => JSON.stringify((r.body as { generationConfig?: { responseJsonSchema?: unknown } } | undefined)?.generationConfig?.responseJsonSchema ?? '').includes('"bullet"')).length;
  if (withCaveat < 3) problems.push(`only ${withCaveat} request(s) to the fake Gemini carried the Caveat in their system prompt`);
  if (reflector === 0) problems.push('the reflector asked the model nothing');
  return { problems, details: [`the body as GitHub holds it: ${path.join(path.basename(logDir), 'coreloop-pr.md')}; "${title.slice(0, 90)}": ${flipped?.[0] ?? '?'} (${withCaveat} arm-B requests carried the Caveat in the system prompt; ${reflector} reflector call(s) wrote the bullets)`] };
}
