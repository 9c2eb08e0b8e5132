// Process entry of the `g7` binary.
import { main } from './main.js';
import { EXIT } from './exit.js';

// A closed stdout or stderr (`g7 run | head -1`) must never kill a truck: everything a run prints is in
// its run log anyway. After the first write error on a stream, g7 stops writing to it.
const closed = { out: false, err: false };
process.stdout.on('error', () => (closed.out = true));
process.stderr.on('error', () => (closed.err = true));
const io = {
  out: (s: string) => void (closed.out || process.stdout.write(s + '\n')),
  err: (s: string) => void (closed.err || process.stderr.write(s + '\n')),
};

const code = await main(process.argv.slice(2), io);
// A run stopped by a signal exits at once: whoever sent it will kill the process soon, and what is left
// (a model call sleeping in a backoff) is not worth waiting for; the evidence is sealed and committed.
if (code === EXIT.CANCELLED || code === 143) process.exit(code);
process.exitCode = code;
