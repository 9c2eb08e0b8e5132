// The GitHub Action: `run()` reads the inputs once into settings, says what it is about to do, then loads only
// the code its command needs (the policy check never loads the factory, `status` never the Gemini SDK).
// index.ts calls it; GitHub's local runner (@github/local-action) and the tests import it directly.
import path from 'node:path';
import * as core from '@actions/core';
import { readSettings, repoPath, SetupError, type ActionSettings } from './settings.js';
import { reportFailure } from './annotate.js';

export async function run(): Promise<void> {
  let s: ActionSettings | undefined;
  try {
    s = readSettings();
    // A runner starts actions in the workspace; so does this, wherever run() is called from (local-action
    // starts it in its own folder): the CLI commands show paths relative to the working directory.
    try {
      process.chdir(s.workspace);
    } catch {
      throw new SetupError(`the workspace ${s.workspace} (GITHUB_WORKSPACE) is not a folder: check out the repository first (actions/checkout)`);
    }
    core.info(`g7 ${s.command}${s.command === 'policy' ? '' : ` on ${repoPath(s, s.ssot) || path.basename(s.ssot)}`}${s.dryRun ? ' (dry run)' : ''}`);
    if (s.command === 'policy') await (await import('./policy.js')).policyCommand(s);
    else if (s.command === 'run' || s.command === 'prepare-lanes' || s.command === 'lane' || s.command === 'merge-lanes') await (await import('./truck.js')).truckCommand(s);
    else await (await import('./commands.js')).ssotCommand(s);
  } catch (err) {
    reportFailure(err, s);
  }
}
