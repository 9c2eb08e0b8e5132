// Derives src/contracts/validators.gen.ts from schemas/*.schema.json: ajv's standalone code, so a command
// that validates a document runs plain functions instead of loading ajv and compiling a schema first.
// Two per contract (stop at the first error: the yes/no asked a million times; every error: to explain a
// document that failed) and one per worker answer kind, each kept as source text and compiled on first use.
// `npm run gen:validators` writes it; a test checks it is current.
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

/** One validator's standalone code, as the body of a function that returns it. */
function body(ajv, name, ref) {
  const text = standaloneCode(ajv, { [name]: ref });
  // The one runtime helper the code asks for counts code points (minLength, maxLength): written here so the
  // generated file needs nothing at run time.
  const helper = /const (\w+) = require\("ajv\/dist\/runtime\/ucs2length"\)\.default;/g;
  const code = text.replace(helper, (_, fn) => `const ${fn} = countCodePoints;`);
  if (/\brequire\(/.test(code)) throw new Error(`standalone code needs a runtime module this generator does not provide: ${/require\([^)]*\)/.exec(code)[0]}`);
  return `"use strict";\nconst exports = {};\n${code}\nreturn exports[${JSON.stringify(name)}];`;
}

/** `export const NAME = lazy({ key: source, … })`: each validator compiled the first time it is asked for. */
function group(name, comment, sources) {
  const entries = Object.entries(sources).map(([k, src]) => `  ${JSON.stringify(k)}: ${JSON.stringify(src)},`);
  return `\n// ${comment}\nexport const ${name} = lazy({\n${entries.join('\n')}\n});\n`;
}

const options = (allErrors) => ({ allErrors, strict: true, allowUnionTypes: true, code: { source: true } });

export async function generateValidators() {
  const contracts = await Promise.all(CONTRACTS.map(schema));
  const answers = await schema('worker_answers');
  const parts = [
    '// Generated from schemas/*.schema.json by scripts/gen-validators.mjs. Do not edit by hand.\n// @ts-nocheck\n',
    '// Each validator is kept as source text and compiled the first time it is used: a command that checks one\n',
    '// kind of document compiles that one, and loading this module costs a scan of string literals, not a parse\n',
    '// of the code of every validator.\n',
    `const countCodePoints = ${countCodePoints};\n`,
    `
function lazy(sources) {
  const made = {};
  const out = {};
  for (const key of Object.keys(sources))
    Object.defineProperty(out, key, { enumerable: true, get: () => (made[key] ??= new Function('countCodePoints', sources[key])(countCodePoints)) });
  return out;
}
`,
  ];
  for (const allErrors of [false, true]) {
    const ajv = new Ajv(options(allErrors));
    for (const s of contracts) ajv.addSchema(s);
    const sources = Object.fromEntries(CONTRACTS.map((n, k) => [n, body(ajv, n, contracts[k].$id)]));
    parts.push(group(allErrors ? 'everyError' : 'firstError', `Per contract, ${allErrors ? 'every error' : 'stopping at the first error'}.`, sources));
  }
  const ajv = new Ajv(options(true));
  ajv.addSchema(answers);
  const kinds = Object.keys(answers.definitions);
  parts.push(group('answers', 'Per worker answer kind, every error.', Object.fromEntries(kinds.map((k) => [k, body(ajv, k, `${answers.$id}#/definitions/${k}`)]))));
  return parts.join('');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(VALIDATORS_FILE, await generateValidators());
  console.log(`wrote ${path.relative(root, VALIDATORS_FILE)}`);
}
