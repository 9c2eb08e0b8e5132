// Process entry of the `g7` binary.
import { main } from './main.js';

// A reader that stops early (`g7 … | head`) closes the pipe: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });

process.exitCode = await main(process.argv.slice(2));
