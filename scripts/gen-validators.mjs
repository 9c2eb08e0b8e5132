// Derives src/contracts/validators.gen.ts from schemas/*.schema.json: ajv's standalone code, so a command
// that validates a document runs plain functions instead of loading ajv and compiling a schema first.
// Two per contract (stop at the first error: the yes/no asked a million times; every error: to explain a
// document that failed) and one per worker answer kind. `npm run gen:validators` writes it; a test checks it
// is current.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import AjvModule from 'ajv';
import standaloneModule from 'ajv/dist/standalone/index.js';

const Ajv = AjvModule.default ?? AjvModule;
const standaloneCode = standaloneModule.default ?? standaloneModule;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CONTRACTS = ['card', 'pack', 'dayplan', 'factory', 'packet', 'state', 'journal', 'verify_report', 'hash_manifest', 'audit_record', 'coreloop_candidates', 'lane_plan'];
export const VALIDATORS_FILE = path.join(root, 'src/contracts/validators.gen.ts');

async function schema(name) {
  return JSON.parse(await readFile(path.join(root, 'schemas', `${name}.schema.json`), 'utf8'));
}

// A surrogate pair is one character: the length in code points, as JSON Schema counts it. A charCodeAt loop,
// not the string iterator, which costs a million cards a second.
const countCodePoints = `(s) => {
  let n = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n--;
      i++;
    }
  }
  return n;
}`;

/** One standalone block, in its own scope (each block numbers its functions from the start), as an object. */
function block(name, ajv, exports) {
  const text = standaloneCode(ajv, exports);
  // The one runtime helper the code asks for counts code points (minLength, maxLength): written here so the
  // generated file needs nothing at run time.
  const helper = /const (\w+) = require\("ajv\/dist\/runtime\/ucs2length"\)\.default;/g;
  const body = text.replace(helper, (_, fn) => `const ${fn} = countCodePoints;`);
  if (/\brequire\(/.test(body)) throw new Error(`standalone code needs a runtime module this generator does not provide: ${/require\([^)]*\)/.exec(body)[0]}`);
  return `export const ${name} = (() => {\nconst exports = {};\n${body}\nreturn exports;\n})();\n`;
}

const options = (allErrors) => ({ allErrors, strict: true, allowUnionTypes: true, code: { source: true } });

export async function generateValidators() {
  const contracts = await Promise.all(CONTRACTS.map(schema));
  const answers = await schema('worker_answers');
  const parts = ['// Generated from schemas/*.schema.json by scripts/gen-validators.mjs. Do not edit by hand.\n// @ts-nocheck\n', `const countCodePoints = ${countCodePoints};\n`];
  for (const allErrors of [false, true]) {
    const ajv = new Ajv(options(allErrors));
    for (const s of contracts) ajv.addSchema(s);
    parts.push(`\n// Per contract, ${allErrors ? 'every error' : 'stopping at the first error'}.\n`);
    parts.push(block(allErrors ? 'everyError' : 'firstError', ajv, Object.fromEntries(CONTRACTS.map((n, k) => [n, contracts[k].$id]))));
  }
  const ajv = new Ajv(options(true));
  ajv.addSchema(answers);
  parts.push('\n// Per worker answer kind, every error.\n');
  parts.push(block('answers', ajv, Object.fromEntries(Object.keys(answers.definitions).map((k) => [k, `${answers.$id}#/definitions/${k}`]))));
  return parts.join('');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(VALIDATORS_FILE, await generateValidators());
  console.log(`wrote ${path.relative(root, VALIDATORS_FILE)}`);
}
