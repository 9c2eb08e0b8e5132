// The GitHub Action entry: reads every input once into settings, then calls the same core as the CLI.
// It writes a job summary (the cards of the truck and a bar of the slots) and an annotation per failure.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';
import type { VerifyReport } from '../contracts/types.gen.js';
import { G7Error, formatProblem } from '../contracts/errors.js';
import { layoutFor } from '../ssot/layout.js';
import { factoryDeps } from '../cli/settings.js';
import { runFactory } from '../factory/run.js';
import { main as cli } from '../cli/main.js';

interface ActionSettings {
  command: 'run' | 'pack' | 'plan-compile' | 'status' | 'verify' | 'resume';
  ssot: string;
  plan: string;
  truck: 'A' | 'B' | undefined;
  lanes: number[] | undefined;
  dryRun: boolean;
  push: boolean;
}

function readSettings(): ActionSettings {
  const command = core.getInput('command') || 'run';
  if (!['run', 'pack', 'plan-compile', 'status', 'verify', 'resume'].includes(command)) throw new Error(`input command: "${command}" is not one of run, pack, plan-compile, status, verify, resume`);
  const truck = core.getInput('truck');
  if (truck && truck !== 'A' && truck !== 'B') throw new Error(`input truck: must be A or B, got "${truck}"`);
  const lanesText = core.getInput('lanes');
  const lanes = lanesText ? lanesText.split(',').map((s) => Number(s.trim())) : undefined;
  if (lanes?.some((l) => !Number.isInteger(l) || l < 1 || l > 8)) throw new Error(`input lanes: lane numbers 1-8, comma separated; got "${lanesText}"`);
  const key = core.getInput('gemini-api-key');
  if (key) {
    core.setSecret(key);
    process.env.GEMINI_API_KEY = key;
  }
  return {
    command: command as ActionSettings['command'],
    ssot: core.getInput('ssot') || 'ssot',
    plan: core.getInput('plan'),
    truck: (truck || undefined) as ActionSettings['truck'],
    lanes,
    dryRun: core.getBooleanInput('dry-run'),
    push: core.getBooleanInput('push'),
  };
}

function truckBar(report: VerifyReport): string {
  const mark = { PASS: '🟩', FAIL: '🟥', SKIP: '⬜' } as const;
  const bySlot = new Map(report.cards.map((c) => [c.slot, mark[c.status]]));
  const cells = Array.from({ length: 120 }, (_, i) => bySlot.get(i + 1) ?? '·');
  return Array.from({ length: 6 }, (_, b) => `bundle ${b + 1}: ${cells.slice(b * 20, b * 20 + 20).join('')}`).join('\n');
}

async function summarize(evidence: string, root: string): Promise<void> {
  const report = JSON.parse(await readFile(path.join(root, evidence, 'verify_report.json'), 'utf8')) as VerifyReport;
  core.summary.addHeading(`G7 ${report.run_id}: truck ${report.truck} of ${report.day} — ${report.state}`, 2);
  core.summary.addRaw(`${report.counts.passed} passed, ${report.counts.failed} failed, ${report.counts.skipped} skipped, ${report.counts.pending} pending; $${(report.cost_usd ?? 0).toFixed(4)}\n\n`);
  core.summary.addCodeBlock(truckBar(report));
  core.summary.addTable([
    [{ data: 'slot', header: true }, { data: 'card', header: true }, { data: 'type', header: true }, { data: 'status', header: true }, { data: 'attempts', header: true }, { data: 'triage', header: true }, { data: 'ms', header: true }],
    ...report.cards.map((c) => [String(c.slot), c.id, c.type, c.status, String(c.attempts), c.triage ? `${c.triage.class}: ${c.triage.reason}` : '', String(c.duration_ms)]),
  ]);
  await core.summary.write();
  for (const c of report.cards.filter((x) => x.status === 'FAIL'))
    core.error(`${c.id} failed (${c.triage?.class}): ${c.triage?.reason}`, { title: `G7 ${report.run_id} ${c.id}`, file: path.join(evidence, c.detail ?? '', 'summary.json') });
}

async function act(): Promise<void> {
  const s = readSettings();
  const root = process.env.GITHUB_WORKSPACE ?? process.cwd();
  const layout = layoutFor(path.resolve(root, s.ssot));
  if (s.command !== 'run') {
    const args = s.command === 'plan-compile' ? ['plan', 'compile', s.plan || (await newestPlan(layout.plansDir)), '--replace'] : s.command === 'resume' && s.dryRun ? ['resume', '--no-commit'] : [s.command];
    const code = await cli(['--ssot', layout.ssotDir, ...args], { out: (l) => core.info(l), err: (l) => core.error(l) });
    if (code !== 0) core.setFailed(`g7 ${s.command} exited ${code}`);
    return;
  }
  const { deps, config } = await factoryDeps({ layout, display: (p) => path.relative(root, p), log: (l) => core.info(l), warn: (l) => core.warning(l) });
  const out = await core.group('g7 run', () => runFactory(deps, { truck: s.truck, lanes: s.lanes, commit: !s.dryRun && config.git.commit, push: !s.dryRun && s.push }));
  core.setOutput('run-id', out.runId ?? '');
  core.setOutput('state', out.state);
  core.setOutput('passed', String(out.passed));
  core.setOutput('failed', String(out.failed));
  core.setOutput('evidence', out.evidence ?? '');
  if (out.evidence) await summarize(out.evidence, layout.repoRoot);
  const message = deps.redact(out.message);
  if (out.code === 'FAIL_STOP' || out.code === 'REFUSED' || out.code === 'BUSY' || out.code === 'UNPUSHED') core.setFailed(`${out.code}: ${message}`);
  else if (out.code === 'RECOVERABLE') core.warning(`RECOVERABLE: ${message}`);
  else core.info(message);
}

async function newestPlan(dir: string): Promise<string> {
  const plans = (await readdir(dir)).filter((n) => /^dayplan_\d{8}\.ya?ml$/.test(n)).sort();
  if (!plans.length) throw new Error(`no day plan in ${dir}`);
  return path.join(dir, plans.at(-1)!);
}

act().catch((err: unknown) => {
  if (err instanceof G7Error) {
    for (const p of err.problems) core.error(formatProblem(p), { title: `G7 ${p.rule}`, file: p.file, ...(p.line ? { startLine: p.line } : {}), ...(p.col ? { startColumn: p.col } : {}) });
    core.setFailed(err.summary ?? 'invalid input');
  } else core.setFailed((err as Error).message);
});
