// One card, end to end: up to two attempts (the second is the one automatic rework, with the first failure
// in its context), accept and failfast checked every time, all of it written to the card's evidence folder.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { CardResult, PacketSlot, RuleResult, WorkCard, WorkPack } from '../contracts/types.gen.js';
import { G7Error } from '../contracts/errors.js';
import { faultPoint } from '../host/faults.js';
import { resolveInRepo } from '../ssot/paths.js';
import { parseRule } from '../rules/parse.js';
import { allHold, evaluateRule } from '../rules/eval.js';
import { EXECUTORS } from '../executors/index.js';
import type { ExecContext, ExecResult } from '../executors/types.js';
import { classifyFailure, failureExcerpt, type Triage } from './triage.js';
import { attemptFile, attemptRecord, cardDir, type EvidenceLedger } from './evidence.js';
import type { FactoryDeps } from './deps.js';
import { BatchPending } from '../worker/worker.js';
import { loadSkill, parseTarget, skillPromptText, SkillError } from '../coreloop/skill/doc.js';
import { bulletIds } from '../coreloop/skill/bullets.js';
import { observeAttempt, type PromptSkill } from './observe.js';
import { killedBy, stopReason } from './cancel.js';
import { restoreBackup } from '../ssot/worktree-backup.js';

export interface CardOutcome {
  summary: CardResult;
  /** Set when the card did not pass: the last attempt's triage and the failure text (with the change it proposed, for a PATCH). */
  failure?: { triage: Triage; excerpts: AttemptExcerpt[]; batchName?: string | undefined };
  outputs: { path: string; sha256: string }[];
}

export interface AttemptExcerpt {
  attempt: number;
  reason: string;
  excerpt: string;
  /** The change the attempt proposed (a PATCH card), as a unified diff; undone in the working tree. */
  patch?: string;
}

const DEFAULT_TIMEOUT_MS = 600_000;

/** What the rework attempt is told of the first: why it failed, and for a PATCH the change that failed. */
function previousFailureText(first: AttemptExcerpt | undefined): string | undefined {
  if (!first) return undefined;
  const change = first.patch ? `\nThe change that failed (it was undone; the files below are as they were before it):\n${first.patch}` : '';
  return `${first.reason}\n${first.excerpt}${change}`;
}

function timeoutFor(card: WorkCard): number {
  const ff = parseRule(card.failfast, 'failfast').rule;
  const d = ff?.predicates.find((p) => p.kind === 'figure' && p.figure === 'duration' && (p.op === '>' || p.op === '>='));
  return d && d.kind === 'figure' ? d.value : DEFAULT_TIMEOUT_MS;
}

/**
 * The skill docstring of a card type as the worker reads it: the docstring's own lines (Guide and Caveats
 * with the rest), not the code around it; and the ids of its bullets, which the audit records name.
 */
export async function readSkill(deps: Pick<FactoryDeps, 'config' | 'layout' | 'warn'>, type: string): Promise<{ text: string | undefined } & PromptSkill> {
  const target = deps.config.skills[type];
  if (!target) return { text: undefined, target: null, bullets: [] };
  const spec = parseTarget(target);
  let bytes: Buffer;
  try {
    bytes = await readFile(resolveInRepo(deps.layout.repoRoot, spec.file));
  } catch {
    return { text: undefined, target, bullets: [] };
  }
  let text: string;
  try {
    text = skillPromptText(await loadSkill(spec, bytes));
  } catch (err) {
    if (!(err instanceof SkillError)) throw err;
    // A docstring that cannot be located is not a reason to stop a truck: the whole file still informs.
    deps.warn(`skill ${target}: ${err.problem.message}; the whole file goes into the prompt`);
    text = bytes.toString('utf8');
  }
  return { text, target, bullets: bulletIds(text) };
}

/** The sha256 and size of each output that exists (a declared output that does not: accept rules catch it). */
async function hashOutputs(deps: FactoryDeps, paths: string[]): Promise<CardResult['outputs']> {
  const out: CardResult['outputs'] = [];
  for (const p of paths) {
    try {
      const bytes = await readFile(resolveInRepo(deps.layout.repoRoot, p));
      out.push({ path: p, sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
    } catch {
      /* not there */
    }
  }
  return out;
}

/** Puts back the files a card's attempt changed (its backup), and says so. */
async function undoChange(deps: FactoryDeps, card: string, patchFile: string | undefined): Promise<void> {
  const restored = await restoreBackup(deps.layout, card);
  if (restored?.length) deps.log(`  ${card}: its change is undone, ${restored.length} file(s) put back as they were${patchFile ? `; the proposed change is kept in ${patchFile}` : ''}`);
}

export async function runCard(
  deps: FactoryDeps,
  /** `ledger` writes the card's evidence files and keeps their digests for the checkpoint's seal. */
  run: { id: string; day: string; ledger: EvidenceLedger },
  slot: PacketSlot,
  /** Loads the card's work pack: a pack that does not load fails the card (SCHEMA or PATH), like any other cause. */
  loadPack: () => Promise<WorkPack | undefined>,
  depOutputs: ExecContext['depOutputs'],
  batch: string | undefined,
): Promise<CardOutcome> {
  const card = slot.card;
  faultPoint('card.start');
  const dir = cardDir(deps.layout, run.id, slot.slot, card.id);
  await run.ledger.remove(dir); // a folder left by a crashed attempt is replaced, never merged
  const writeEvidence = (file: string, text: string) => run.ledger.write(file, text);
  const redact = deps.redact;
  const accept = parseRule(card.accept, 'accept').rule!;
  const failfast = parseRule(card.failfast, 'failfast').rule!;
  const timeoutMs = timeoutFor(card);
  let pack: WorkPack | undefined;
  let packError: unknown;
  // Independent reads and writes side by side: each is a round trip to the file system's thread pool.
  const [{ text: skill, ...promptSkill }] = await Promise.all([
    readSkill(deps, card.type),
    loadPack().then((p) => void (pack = p), (err: unknown) => void (packError = err)),
    writeEvidence(path.join(dir, 'card.json'), JSON.stringify(card, null, 2) + '\n'),
  ]);
  const started = performance.now();
  const excerpts: AttemptExcerpt[] = [];
  let tokens = { in: 0, out: 0 };
  let cost = 0;
  let acceptResults: RuleResult[] = [];
  let failfastResults: RuleResult[] = [];
  let triage: Triage | undefined;
  let attempt = 0;
  let result: ExecResult | undefined;
  let batchName: string | undefined;
  let outputsDetail: CardResult['outputs'] = [];

  for (attempt = 1; attempt <= 2; attempt++) {
    const t0 = performance.now();
    let error: unknown;
    result = undefined;
    const observed = observeAttempt(deps.worker, card, promptSkill, deps.now);
    const ctx: ExecContext = {
      layout: deps.layout, config: deps.config, card, pack, attempt, previousFailure: previousFailureText(excerpts[0]),
      skill, worker: observed.worker, shell: deps.shell, timeoutMs, depOutputs, log: deps.log, now: deps.now, redact: deps.redact, batch,
    };
    try {
      if (packError) throw packError;
      result = await EXECUTORS[card.type](ctx);
    } catch (err) {
      error = err;
      if (err instanceof BatchPending) batchName = err.batchName;
    }
    const durationMs = performance.now() - t0;
    faultPoint('card.executed');
    // An answer that was paid for and then refused (SCHEMA, PATH) costs as much as one that was applied.
    const paid = result ?? observed.spent();
    tokens = { in: tokens.in + paid.tokens.in, out: tokens.out + paid.tokens.out };
    cost += paid.cost;
    const figures = { exit: result?.exit ?? 1, stdout: result?.stdout ?? '', stderr: result?.stderr ?? '', tokens: tokens.in + tokens.out, cost, durationMs, attempts: attempt };
    const env = { repoRoot: deps.layout.repoRoot, figures, shell: deps.shell, timeoutMs };
    acceptResults = error ? [] : await evaluateRule(accept, env);
    failfastResults = await evaluateRule(failfast, env);
    const fired = failfast.predicates.length > 0 && allHold(failfastResults);
    // A command killed by a signal (the run's stop, a timeout, the kernel) did not finish: never a pass,
    // whatever the accept rule says of what it left behind.
    const killed = result ? killedBy(result.exit) : undefined;
    const pass = !error && !killed && allHold(acceptResults) && !fired;
    // What the outputs of a pass hold, read while its evidence is written.
    const hashing = pass ? hashOutputs(deps, result?.outputs ?? []) : undefined;
    // Observe: one audit record per worker call of this attempt. Not written is counted, never fatal.
    const audit = await deps.audit.write(observed.records({ attempt, error, accept: acceptResults, failfast: { fired } }));
    if (audit.failed) deps.warn(`  ${card.id}: ${audit.failed}`);

    // One file per attempt: its figures and results, its output and extra files as digests and bounded text.
    const texts: Record<string, string> = { 'stdout.txt': figures.stdout, 'stderr.txt': figures.stderr + (error ? `\n${error instanceof G7Error ? error.message : String((error as Error)?.stack ?? error)}\n` : ''), ...(result?.evidence ?? {}) };
    const record = { attempt, pass, exit: figures.exit, duration_ms: Math.round(durationMs), tokens: paid.tokens, cost_usd: paid.cost, outputs: result?.outputs ?? [], worker_calls: result?.calls ?? [], audit_records: { written: audit.written, ...(audit.failed ? { not_written: audit.failed } : {}) }, accept: acceptResults, failfast: failfastResults, fired };
    const writeAttempt = (t: Triage | (Triage & { cancelled: true }) | null) => writeEvidence(attemptFile(dir, attempt), attemptRecord({ ...record, triage: t }, texts, redact));
    // The proposed change, whole (a patch a person can read and `git apply`), beside the attempt's record.
    const patch = result?.patch ? redact(result.patch) : undefined;
    if (patch) await writeEvidence(path.join(dir, `attempt-${attempt}.patch`), patch);
    faultPoint('card.evidence');
    // Not a pass: whatever the attempt changed in the working tree is put back exactly as it was.
    if (!pass) await undoChange(deps, card.id, patch ? `attempt-${attempt}.patch` : undefined);
    if (pass) {
      await writeAttempt(null);
      triage = undefined;
      outputsDetail = await hashing!;
      break;
    }
    if (deps.stop.aborted) {
      // Cut by the stop signal (its commands killed, its model calls refused): not a failure and not to be
      // triaged; the card runs again, both attempts, when the truck resumes.
      const signal = stopReason(deps.stop);
      triage = { class: 'API', transient: true, reason: `cancelled by ${signal}` };
      await writeAttempt({ ...triage, cancelled: true });
      deps.log(`  ${card.id} attempt ${attempt} cancelled by ${signal}: not a result; it runs again when the truck resumes`);
      break;
    }
    triage = classifyFailure({ error, killed, stdout: figures.stdout, stderr: figures.stderr, accept: acceptResults, failfast: fired ? failfastResults : [] });
    excerpts.push({ attempt, reason: redact(triage.reason), excerpt: redact(failureExcerpt(figures.stdout, figures.stderr + (error instanceof G7Error ? error.message : ''))), ...(patch ? { patch } : {}) });
    await writeAttempt(triage);
    deps.log(`  ${card.id} attempt ${attempt} failed: ${triage.class}${triage.transient ? ' (transient)' : ''}: ${redact(triage.reason)}`);
    if (triage.transient) break; // waiting, not reworking, is what helps: stop RECOVERABLE at this card
    if (deps.stop.aborted) break; // stopping: the card runs again, both attempts, when the truck resumes
  }
  attempt = Math.min(attempt, 2);

  const outputs = outputsDetail.map(({ path: p, sha256 }) => ({ path: p, sha256 }));
  const summary: CardResult = {
    id: card.id, slot: slot.slot, lane: card.lane, type: card.type, status: triage ? 'FAIL' : 'PASS', attempts: attempt,
    accept: acceptResults, failfast: failfastResults, triage: triage ? { class: triage.class, transient: triage.transient, reason: redact(triage.reason) } : null,
    duration_ms: Math.round(performance.now() - started), tokens, cost_usd: Number(cost.toFixed(6)), outputs: outputsDetail, detail: path.relative(path.dirname(path.dirname(dir)), dir).split(path.sep).join('/'),
  };
  await writeEvidence(path.join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return { summary, outputs, ...(triage ? { failure: { triage, excerpts, batchName } } : {}) };
}
