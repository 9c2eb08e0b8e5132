// `npm run night`: the scripted night, its six checks and the morning report. Exits 1 unless every check
// holds (a check whose step has not landed yet says PENDING, and does not count as held). `--keep` keeps
// the night's folders (remote, clones, logs) and prints where they are.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sealEnvironment } from '../setup/seal.js';
import { runNight } from './night.js';
import { checkNight } from './checks.js';

const keep = process.argv.includes('--keep');
const cleanup = sealEnvironment('g7-night-');
const logDir = path.join(process.env.TMPDIR!, 'night-logs');
const t0 = Date.now();
console.log('time (UTC)  job                        exit code  state       run       what it shows');
const night = await runNight({ logDir, log: (l) => console.log(l) });
const ran = (Date.now() - t0) / 1000;
const { checks, morning, final } = await checkNight(night);
await night.close();
await writeFile(path.join(logDir, 'morning.md'), morning);
console.log(`\n${'-'.repeat(100)}\n${morning}\n${'-'.repeat(100)}\n`);
for (const c of checks) {
  console.log(`${c.result.padEnd(7)} ${c.n}. ${c.title}`);
  for (const d of c.details) console.log(`          ${d}`);
}
const failed = checks.filter((c) => c.result === 'FAIL');
const pending = checks.filter((c) => c.result === 'PENDING');
console.log(`\nnight: ${night.jobs.length} jobs in ${ran.toFixed(1)} s, checks ${((Date.now() - t0) / 1000 - ran).toFixed(1)} s; ${checks.length - failed.length - pending.length} held, ${failed.length} failed, ${pending.length} pending`);
if (keep) console.log(`kept: logs ${logDir}, final clone ${final}, remote ${night.remote.bare}`);
else cleanup();
process.exit(failed.length ? 1 : 0);
