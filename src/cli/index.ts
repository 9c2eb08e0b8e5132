// Process entry of the `g7` binary.
import { main } from './main.js';
import { EXIT } from './exit.js';

const code = await main(process.argv.slice(2));
// A run stopped by a signal exits at once: whoever sent it will kill the process soon, and what is left
// (a model call sleeping in a backoff) is not worth waiting for; the evidence is sealed and committed.
if (code === EXIT.CANCELLED || code === 143) process.exit(code);
process.exitCode = code;
