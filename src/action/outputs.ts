// The step's outputs, the same for every command: where the factory stands after it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as core from '@actions/core';
import type { VerifyReport } from '../contracts/types.gen.js';
import { readState } from '../factory/state.js';
import { runDir, REPORT } from '../factory/evidence.js';
import type { Layout } from '../ssot/layout.js';
import { repoPath, type ActionSettings } from './settings.js';
import { nowIso } from '../host/clock.js';

export async function readReport(layout: Layout, runId: string): Promise<VerifyReport | undefined> {
  try {
    return JSON.parse(await readFile(path.join(runDir(layout, runId), REPORT), 'utf8')) as VerifyReport;
  } catch {
    return undefined;
  }
}

/** run-id, state, passed, failed, evidence (of the factory's current run) and commit (what this step pushed). */
export async function setFactoryOutputs(s: ActionSettings, layout: Layout, commit: string | undefined, runOutcome?: { runId?: string | undefined; passed: number; failed: number }): Promise<void> {
  const state = await readState(layout, (p) => repoPath(s, p), nowIso());
  const runId = runOutcome?.runId ?? state.run_id ?? undefined;
  const report = runId ? await readReport(layout, runId) : undefined;
  core.setOutput('run-id', runId ?? '');
  core.setOutput('state', state.state);
  // A run's own counts are this job's work; otherwise the current run's report says where it stands.
  core.setOutput('passed', String(runOutcome?.passed ?? report?.counts.passed ?? 0));
  core.setOutput('failed', String(runOutcome?.failed ?? report?.counts.failed ?? 0));
  core.setOutput('evidence', report && runId ? repoPath(s, runDir(layout, runId)) : '');
  core.setOutput('commit', commit ?? '');
}
