// Worker thread entry: the per-card checks of a large backlog (schema, rule language, paths), run beside the
// main thread's read of the same file (see loadBacklog). Built as dist/backlog-check.mjs next to the CLI.
import { parentPort, workerData } from 'node:worker_threads';
import { checkCardsInFile } from './backlog.js';

const { file, display, max } = workerData as { file: string; display: string; max: number };
parentPort!.postMessage(await checkCardsInFile(file, display, max));
