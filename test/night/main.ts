// `npm run night`: the scripted night, its checks and the morning report; exits 1 unless every check holds.
import path from 'node:path';
import { sealEnvironment } from '../setup/seal.js';
import { runNight } from './night.js';

const keep = process.argv.includes('--keep');
const cleanup = sealEnvironment('g7-night-');
const logDir = path.join(process.env.TMPDIR!, 'night-logs');
const t0 = Date.now();
const night = await runNight({ logDir, log: (l) => console.log(l) });
console.log(`night done in ${((Date.now() - t0) / 1000).toFixed(1)} s; logs in ${logDir}`);
await night.close();
if (!keep) cleanup();
