// Example TEST card command: checks every chunk of the scan index against the library file it names.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const [indexDir, libraryRoot = 'examples/library'] = process.argv.slice(2);
let chunks = 0;
for (const name of readdirSync(indexDir).filter((n) => n.endsWith('.jsonl'))) {
  for (const line of readFileSync(path.join(indexDir, name), 'utf8').split('\n').filter(Boolean)) {
    const c = JSON.parse(line);
    const size = statSync(path.join(libraryRoot, c.path)).size;
    if (c.offset + c.length > size) {
      console.error(`${name}: chunk ${c.path}@${c.offset}+${c.length} runs past the end of the file (${size} bytes)`);
      process.exit(1);
    }
    chunks++;
  }
}
console.log(`checked ${chunks} chunks: all inside their files`);
