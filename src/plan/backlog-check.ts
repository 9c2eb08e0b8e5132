// Worker thread entry: reads and checks one part of a large backlog (see loadBacklog) and hands back its
// compact view; the typed arrays are moved, not copied. Built as dist/backlog-check.mjs next to the CLI.
import { parentPort, workerData } from 'node:worker_threads';
import { SchemaError } from '../contracts/errors.js';
import { readBacklogPart, type PartJob } from './backlog-part.js';

try {
  const part = await readBacklogPart(workerData as PartJob);
  const arrays = [part.keys, part.meta, part.cardLines, part.depStart, part.depKeys];
  parentPort!.postMessage({ part }, arrays.map((a) => a.buffer as ArrayBuffer));
} catch (err) {
  // A user's mistake (not UTF-8, …) goes back as its problems, so the main thread reports it as it would its own.
  if (err instanceof SchemaError) parentPort!.postMessage({ problems: err.problems });
  else throw err;
}
