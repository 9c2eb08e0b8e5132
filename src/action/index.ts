// The file GitHub runs (action.yml `main`, bundled to action/dist/index.mjs).
import { run } from './main.js';

await run();
