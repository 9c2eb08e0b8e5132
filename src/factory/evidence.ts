// The evidence pack, runs/run_NNNN/: written on PASS and on FAIL, checkable from the files alone.
//   stdout.txt stderr.txt (the run log, written as the run goes: runlog.ts) exitcode.txt verify_report.json hash_manifest.json
//   cards/<slot>_<id>/card.json, summary.json, attempt-N.patch (a PATCH attempt's proposed change, whole),
//   attempt-N.json (one file per attempt: its figures, accept and
//   failfast results, triage, and its output and extra files as sha256 + size + text, the text in full up to
//   FULL_TEXT_BYTES, else its first and last EXCERPT_BYTES). Packs written before that have attempt-N/ folders
//   of result.json, accept.json, triage.json, stdout.txt, stderr.txt, …: read as they are.
// hash_manifest.json is an in-toto Statement v1 whose subjects are every other file of the pack and every
// output of the cards that passed in the run. Secrets are redacted from every text written here.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { CardResult, HashManifest, RuleResult, VerifyReport } from '../contracts/types.gen.js';
import { ProblemList, type Problem, type TriageClass } from '../contracts/errors.js';
import type { Git } from '../git/git.js';
import { explain } from '../contracts/validate.js';
import { writeFileAtomic } from '../ssot/atomic.js';
import { faultPoint } from '../host/faults.js';
import { noteWrite } from '../ssot/written.js';
import { toRepoPath, resolveInRepo } from '../ssot/paths.js';
import type { Layout } from '../ssot/layout.js';

export const MANIFEST = 'hash_manifest.json';
export const REPORT = 'verify_report.json';
const PREDICATE_TYPE = 'https://g7-factory.dev/evidence/v1';

/** A run's evidence folder; for one lane of a lane run, that lane's part of it (runs/run_NNNN/lanes/<lane>/). */
export function runDir(layout: Layout, runId: string): string {
  return layout.lane?.run === runId ? layout.lane.dir : path.join(layout.runsDir, runId);
}

export function cardDir(layout: Layout, runId: string, slot: number, id: string): string {
  return path.join(runDir(layout, runId), 'cards', `${String(slot).padStart(3, '0')}_${id}`);
}

/** Replaces every secret value with ***. Secrets shorter than 6 characters are ignored (too common to be one). */
export function redactor(secrets: string[]): (s: string) => string {
  const list = [...new Set(secrets.filter((s) => s.length >= 6))].sort((a, b) => b.length - a.length);
  if (list.length === 0) return (s) => s;
  return (s) => {
    let out = s;
    for (const v of list) if (out.includes(v)) out = out.split(v).join('***');
    return out;
  };
}

/** Text kept whole in an attempt's evidence up to this many bytes (UTF-8); longer text keeps its two ends. */
export const FULL_TEXT_BYTES = 4096;
export const EXCERPT_BYTES = 2048;

/** A text in the evidence: its digest and size always, the text itself whole when small, else both ends. */
export interface EvidenceText {
  sha256: string;
  bytes: number;
  text?: string;
  head?: string;
  tail?: string;
}

export function evidenceText(text: string): EvidenceText {
  const bytes = Buffer.from(text, 'utf8');
  const digest = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
  if (bytes.length <= FULL_TEXT_BYTES) return { ...digest, text };
  // Cut on byte counts, then drop a character split by the cut (the replacement character).
  const cut = (b: Buffer) => b.toString('utf8').replace(/^\uFFFD+|\uFFFD+$/g, '');
  return { ...digest, head: cut(bytes.subarray(0, EXCERPT_BYTES)), tail: cut(bytes.subarray(bytes.length - EXCERPT_BYTES)) };
}

/** What one attempt of a card leaves: one file, attempt-N.json, beside the card's folder entries. */
export function attemptFile(cardFolder: string, attempt: number): string {
  return path.join(cardFolder, `attempt-${attempt}.json`);
}

/**
 * The record of an attempt as written (its texts in `texts`): outputs and extra files as EvidenceText, and
 * `redact` over the whole of it, so a secret is neither in a text nor in a figure.
 */
export function attemptRecord(figures: Record<string, unknown>, texts: Record<string, string>, redact: (s: string) => string): string {
  const files = Object.fromEntries(Object.entries(texts).map(([name, t]) => [name, evidenceText(redact(t))]));
  return redact(JSON.stringify({ ...figures, files }, null, 2)) + '\n';
}

export interface AttemptEvidence {
  attempt: number;
  pass: boolean;
  worker_calls?: { hash: string; cached: boolean }[];
  accept: RuleResult[];
  fired: boolean;
  triage: { class: TriageClass; reason: string } | null;
}

/** The attempts a card's folder records, in order: attempt-N.json, or the attempt-N/ folders of older packs. */
export async function readAttempts(cardFolder: string): Promise<AttemptEvidence[]> {
  const json = async <T>(f: string): Promise<T | undefined> => JSON.parse(await readFile(f, 'utf8').catch(() => 'null')) ?? undefined;
  const out: AttemptEvidence[] = [];
  for (const n of await readdir(cardFolder).catch(() => [] as string[])) {
    const m = /^attempt-(\d+)(\.json)?$/.exec(n);
    if (!m) continue;
    const at = path.join(cardFolder, n);
    if (m[2]) {
      const r = await json<AttemptEvidence>(at);
      if (r) out.push({ ...r, attempt: Number(m[1]), accept: r.accept ?? [], fired: r.fired ?? false, triage: r.triage ?? null });
      continue;
    }
    const result = await json<{ pass: boolean; worker_calls?: AttemptEvidence['worker_calls'] }>(path.join(at, 'result.json'));
    if (!result) continue;
    const accept = (await json<{ accept: RuleResult[]; fired: boolean }>(path.join(at, 'accept.json'))) ?? { accept: [], fired: false };
    out.push({ attempt: Number(m[1]), pass: result.pass, ...(result.worker_calls ? { worker_calls: result.worker_calls } : {}), accept: accept.accept, fired: accept.fired, triage: (await json<AttemptEvidence['triage']>(path.join(at, 'triage.json'))) ?? null });
  }
  return out.sort((a, b) => a.attempt - b.attempt);
}

export async function sha256File(abs: string): Promise<string> {
  return createHash('sha256').update(await readFile(abs)).digest('hex');
}

// Outputs are sealed at every checkpoint; one that did not change since is not read again: its digest is
// remembered by (size, mtime, ctime) for the life of the process.
const digestMemo = new Map<string, { key: string; sha: string }>();

async function outputDigest(abs: string): Promise<string> {
  const st = await stat(abs);
  const key = `${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const hit = digestMemo.get(abs);
  if (hit?.key === key) return hit.sha;
  const sha = await sha256File(abs);
  digestMemo.set(abs, { key, sha });
  return sha;
}

async function walk(dir: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (e.name.startsWith('.') && e.name.includes('.tmp-')) continue; // an interrupted atomic write, never part of the pack
    const abs = path.join(dir, e.name);
    if (e.isDirectory()) await walk(abs, out);
    else out.push(abs);
  }
}

/** The files under `target` (a folder or one file), none when it does not exist. */
async function listFiles(target: string): Promise<string[]> {
  const files: string[] = [];
  const st = await stat(target).catch(() => undefined);
  if (st?.isDirectory()) await walk(target, files);
  else if (st) files.push(target);
  return files;
}

/** The walk's order: folder by folder, names sorted. */
function walkOrder(a: string, b: string): number {
  const x = a.split(path.sep);
  const y = b.split(path.sep);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

/** Files of a pack that processes append to as the run goes (the run log): read and hashed at every seal. */
const APPENDED = new Set(['stdout.txt', 'stderr.txt']);

/**
 * What this process knows of one run's evidence folder: the sha256 of every file in it. Files this process
 * writes are hashed from the bytes it writes; files an earlier process wrote (a resumed run) are read once,
 * at this process's first seal. A checkpoint then seals without walking the folder or reading any file of
 * it again, except the run log, which is appended to as the run goes.
 */
export class EvidenceLedger {
  private readonly digests = new Map<string, string>();
  private walked = false;

  constructor(readonly dir: string) {}

  /** Writes a file of the pack, all or nothing. No fsync: the journal line and the commit that follow it are
   * the durable boundary. */
  async write(file: string, text: string): Promise<void> {
    await writeFileAtomic(file, text, { fsync: false });
    this.digests.set(file, createHash('sha256').update(text).digest('hex'));
  }

  /** Removes a file or folder of the pack (a card's folder, before the card runs again) and forgets its files. */
  async remove(target: string): Promise<void> {
    const prefix = target + path.sep;
    const known = [...this.digests.keys()].filter((f) => f === target || f.startsWith(prefix));
    // Once the folder has been walked, every file in it is known: nothing known there, nothing to remove.
    if (this.walked && known.length === 0) return;
    // What goes must leave git too: the files an earlier process wrote there are listed before they go.
    const gone = this.walked ? known : await listFiles(target);
    for (const f of gone) noteWrite(f);
    await rm(target, { recursive: true, force: true });
    for (const f of known) this.digests.delete(f);
  }

  /** Every file of the pack but `except`, in the walk's order, with its sha256. */
  async seal(except: string): Promise<{ file: string; sha256: string }[]> {
    if (!this.walked) {
      const files: string[] = [];
      await walk(this.dir, files);
      for (const f of files) if (!this.digests.has(f) && !this.appended(f)) this.digests.set(f, await sha256File(f));
      this.walked = true;
    }
    const out: { file: string; sha256: string }[] = [];
    for (const name of APPENDED) {
      const f = path.join(this.dir, name);
      const sha = await sha256File(f).catch(() => undefined);
      if (sha) out.push({ file: f, sha256: sha });
    }
    for (const [file, sha256] of this.digests) if (file !== except) out.push({ file, sha256 });
    return out.sort((a, b) => walkOrder(a.file, b.file));
  }

  private appended(file: string): boolean {
    return path.dirname(file) === this.dir && APPENDED.has(path.basename(file));
  }
}

export interface RunEvidence {
  report: VerifyReport;
  exitCode: number | undefined;
  /** Repository-relative outputs of the cards that passed in this run. */
  outputs: string[];
}

/** Writes the run-level files and the manifest over everything. Returns the manifest's own sha256. */
export async function writeRunEvidence(layout: Layout, ledger: EvidenceLedger, ev: RunEvidence, now: string): Promise<string> {
  const dir = ledger.dir;
  await ledger.write(path.join(dir, REPORT), JSON.stringify(ev.report, null, 2) + '\n');
  faultPoint('checkpoint.evidence');
  const exitFile = path.join(dir, 'exitcode.txt');
  if (ev.exitCode !== undefined) await ledger.write(exitFile, `${ev.exitCode}\n`);
  else await ledger.remove(exitFile);
  const manifestFile = path.join(dir, MANIFEST);
  const subject = [] as unknown as HashManifest['subject'];
  for (const f of await ledger.seal(manifestFile)) subject.push({ name: toRepoPath(layout.repoRoot, f.file), digest: { sha256: f.sha256 } });
  for (const o of [...new Set(ev.outputs)].sort()) {
    try {
      subject.push({ name: o, digest: { sha256: await outputDigest(resolveInRepo(layout.repoRoot, o)) } });
    } catch {
      /* an output that vanished is reported by the card, not hidden here */
    }
  }
  const manifest: HashManifest = {
    _type: 'https://in-toto.io/Statement/v1',
    subject,
    predicateType: PREDICATE_TYPE,
    predicate: { run_id: ev.report.run_id, day: ev.report.day, ...(ev.report.round ? { round: ev.report.round } : {}), truck: ev.report.truck, state: ev.report.state, created_at: now, evidence_root: toRepoPath(layout.repoRoot, dir) },
  };
  const text = JSON.stringify(manifest, null, 2) + '\n';
  await writeFileAtomic(manifestFile, text);
  return createHash('sha256').update(text).digest('hex');
}

export interface VerifyOutcome {
  ok: boolean;
  complete: boolean;
  problems: Problem[];
  report?: VerifyReport;
  /**
   * Outputs that changed in the working tree since the run (a later run rewrote them), checked instead
   * against the content the run's seal commit holds. Undefined when every output was checked in the working tree.
   */
  history?: { commit: string; outputs: number } | undefined;
}

/**
 * Re-checks a pack: every evidence file against the manifest (a changed byte, a missing or an added file is
 * a problem), and every output against the content it had when the run sealed it: the working tree's file
 * when it is unchanged, else (with `git`) the file as the run's seal commit holds it, so a run verifies
 * forever. The problem list is bounded.
 */
export async function verifyRun(layout: Layout, runId: string, display: (p: string) => string, git?: Git): Promise<VerifyOutcome> {
  const dir = runDir(layout, runId);
  const problems = new ProblemList();
  const mfile = path.join(dir, MANIFEST);
  let manifest: HashManifest;
  try {
    manifest = JSON.parse(await readFile(mfile, 'utf8')) as HashManifest;
  } catch {
    return { ok: false, complete: false, problems: [{ file: display(mfile), rule: 'evidence.no-manifest', message: 'the hash manifest is missing or unreadable', hint: 'the run was interrupted before its pack was sealed; g7 run resumes it' }] };
  }
  problems.addAll(explain('hash_manifest', manifest, { file: display(mfile) }));
  const listed = new Set<string>();
  const packRoot = toRepoPath(layout.repoRoot, dir) + '/';
  const moved: { name: string; sha256: string; now: string | undefined }[] = [];
  for (const s of manifest.subject ?? []) {
    listed.add(s.name);
    const inPack = s.name.startsWith(packRoot);
    let sha: string | undefined;
    try {
      sha = await sha256File(resolveInRepo(layout.repoRoot, s.name));
    } catch {
      sha = undefined;
    }
    if (sha === s.digest.sha256) continue;
    if (!inPack) moved.push({ name: s.name, sha256: s.digest.sha256, now: sha });
    else if (sha === undefined) problems.add({ file: s.name, rule: 'evidence.missing', message: 'listed in the manifest but missing', hint: `evidence must not be removed; restore it from git (git checkout -- ${s.name})` });
    else problems.add({ file: s.name, rule: 'evidence.changed', message: `sha256 is ${sha.slice(0, 16)}…, the manifest says ${s.digest.sha256.slice(0, 16)}…`, hint: 'evidence must not be edited; restore it from git' });
  }
  // Outputs a later run rewrote: what matters is what they were when this run sealed them.
  let history: VerifyOutcome['history'];
  const seal = moved.length > 0 && git && (await git.isRepo()) ? await git.commitHolding(toRepoPath(layout.repoRoot, mfile), mfile) : undefined;
  const sealed = seal ? await git!.readBlobs(seal, moved.map((m) => m.name)) : undefined;
  for (const m of moved) {
    const bytes = sealed?.get(m.name);
    if (seal && bytes) {
      const then = createHash('sha256').update(bytes).digest('hex');
      if (then === m.sha256) continue;
      problems.add({ file: m.name, rule: 'evidence.output-changed', message: `the run's seal commit ${seal.slice(0, 10)} holds sha256 ${then.slice(0, 16)}…, the manifest says ${m.sha256.slice(0, 16)}…`, hint: 'the output was changed inside the commit that sealed it: the evidence no longer matches what git recorded' });
    } else if (seal) problems.add({ file: m.name, rule: 'evidence.output-missing', message: `the run's seal commit ${seal.slice(0, 10)} does not hold this output`, hint: 'an output the run wrote was left out of the commit that sealed it' });
    else if (m.now === undefined) problems.add({ file: m.name, rule: 'evidence.missing', message: 'listed in the manifest but missing', hint: git ? "and the run's seal commit is not in this repository's history: fetch the branch that holds the run (git fetch --all), or restore the file" : 'restore the file; in a git checkout, g7 verify reads it from the run\'s seal commit' });
    else problems.add({ file: m.name, rule: 'evidence.output-changed', message: `sha256 is ${m.now.slice(0, 16)}…, the manifest says ${m.sha256.slice(0, 16)}…`, hint: git ? "the output changed after the run, and the run's seal commit is not in this history to check it against (was it committed?)" : 'the output changed after the run; in a git checkout, g7 verify checks it against the run\'s seal commit' });
  }
  if (seal && moved.length > 0) history = { commit: seal, outputs: moved.length };
  const files: string[] = [];
  await walk(dir, files);
  for (const abs of files) {
    const rel = toRepoPath(layout.repoRoot, abs);
    if (abs === mfile) continue;
    if (!listed.has(rel)) problems.add({ file: rel, rule: 'evidence.added', message: 'in the pack but not in the manifest', hint: 'files must not be added to a sealed pack' });
  }
  let report: VerifyReport | undefined;
  try {
    report = JSON.parse(await readFile(path.join(dir, REPORT), 'utf8')) as VerifyReport;
    problems.addAll(explain('verify_report', report, { file: display(path.join(dir, REPORT)) }));
    const ids = report.cards.map((c: CardResult) => c.id);
    if (new Set(ids).size !== ids.length) problems.add({ file: display(path.join(dir, REPORT)), rule: 'evidence.duplicate-card', message: 'a card appears twice in the report' });
  } catch {
    problems.add({ file: display(path.join(dir, REPORT)), rule: 'evidence.no-report', message: 'verify_report.json is missing or unreadable' });
  }
  let complete = false;
  try {
    await stat(path.join(dir, 'exitcode.txt'));
    complete = report !== undefined && report.state !== 'RUNNING';
  } catch {
    complete = false;
  }
  const list = [...problems.items];
  if (problems.dropped > 0) list.push({ file: display(dir), rule: 'problems.truncated', message: `… and ${problems.dropped} more problems not shown` });
  return { ok: problems.size === 0, complete, problems: list, ...(report ? { report } : {}), ...(history ? { history } : {}) };
}

export async function listRuns(layout: Layout): Promise<string[]> {
  try {
    return (await readdir(layout.runsDir)).filter((n) => /^run_\d{4,}$/.test(n)).sort((a, b) => Number(a.slice(4)) - Number(b.slice(4)));
  } catch {
    return [];
  }
}

export function nextRunId(runs: string[]): string {
  const last = runs.length ? Number(runs[runs.length - 1]!.slice(4)) : 0;
  return `run_${String(last + 1).padStart(4, '0')}`;
}
