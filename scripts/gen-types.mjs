// Derives src/contracts/types.gen.ts from schemas/*.schema.json, so the TypeScript types can never
// drift from the shipped contracts. `npm run gen:types` writes it; a test checks it is current.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { compile } from 'json-schema-to-typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SCHEMA_NAMES = ['card', 'pack', 'dayplan', 'factory', 'packet', 'state', 'journal', 'verify_report', 'hash_manifest', 'audit_record', 'worker_answers', 'coreloop_candidates', 'lane_plan'];
export const TYPES_FILE = path.join(root, 'src/contracts/types.gen.ts');

export async function generateTypes() {
  const parts = ['// Generated from schemas/*.schema.json by scripts/gen-types.mjs. Do not edit by hand.\n'];
  for (const name of SCHEMA_NAMES) {
    const file = path.join(root, 'schemas', `${name}.schema.json`);
    const schema = JSON.parse(await readFile(file, 'utf8'));
    const ts = await compile(schema, schema.title, {
      unreachableDefinitions: name === 'worker_answers',
      bannerComment: '',
      cwd: path.join(root, 'schemas'),
      declareExternallyReferenced: name !== 'packet', // packet refers to card; declare WorkCard once
      additionalProperties: false,
      format: true,
    });
    parts.push(ts.trim() + '\n');
  }
  return parts.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(TYPES_FILE, await generateTypes());
  console.log(`wrote ${path.relative(root, TYPES_FILE)}`);
}
