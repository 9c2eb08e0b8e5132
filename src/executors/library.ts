// Reading what TAG and STRIKE work on: chunk text from the library, and the taxonomy and sensor files.
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import { SchemaError, PathError } from '../contracts/errors.js';
import { readText, sniffEncoding } from '../ssot/text.js';
import { parseYaml } from '../ssot/yaml.js';
import { resolveInRepo, repoPathProblem } from '../ssot/paths.js';
import type { Taxonomy } from '../worker/worker.js';
import type { ExecContext } from './types.js';

/**
 * The text of one chunk of a library file. Chunk offsets are byte offsets into the file as it is; the file's
 * encoding comes from its first bytes (a BOM, or BOM-less UTF-16), so PowerShell's UTF-16 files are read as
 * text, not as raw bytes. The SCAN cuts after the first byte of a UTF-16LE newline: both ends are rounded to
 * whole code units. Undecodable bytes become U+FFFD: library text is what it is, not ours to refuse.
 */
export async function readChunkText(ctx: ExecContext, rel: string, offset: number, length: number): Promise<string> {
  return readLibraryChunk({ repoRoot: ctx.layout.repoRoot, libraryRoot: ctx.config.libraryRoot, card: ctx.card.id }, rel, offset, length);
}

/** readChunkText for a reader that has no card to run (a request rebuilt from its cache entry). */
export async function readLibraryChunk(at: { repoRoot: string; libraryRoot: string; card: string }, rel: string, offset: number, length: number): Promise<string> {
  if (repoPathProblem(rel)) throw new PathError([{ file: at.card, rule: 'library.path', message: `chunk path "${rel}" leaves the library` }]);
  const abs = path.join(path.resolve(at.repoRoot, at.libraryRoot), rel);
  let fh;
  try {
    fh = await open(abs, 'r');
  } catch {
    throw new PathError([{ file: at.card, rule: 'library.missing', message: `library file "${rel}" named by the index does not exist`, hint: 'run the SCAN card again' }]);
  }
  try {
    const head = Buffer.alloc(4);
    const { bytesRead: headBytes } = await fh.read(head, 0, 4, 0);
    const { encoding, bomLength } = sniffEncoding(head.subarray(0, headBytes));
    let start = offset;
    let end = offset + length;
    if (encoding !== 'utf-8') {
      start += start % 2;
      end += end % 2;
    }
    start = Math.max(start, bomLength);
    const buf = Buffer.alloc(Math.max(0, end - start));
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    return new TextDecoder(encoding).decode(buf.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

async function readYamlFile(ctx: Pick<ExecContext, 'layout' | 'config'>, rel: string | undefined, what: string): Promise<unknown> {
  if (!rel) throw new SchemaError([{ file: ctx.config.source ?? 'ssot/factory.yaml', field: what, rule: 'config.missing', message: `factory.yaml names no ${what} file`, hint: `add "${what}: ssot/rules/${what}.yaml"` }]);
  return parseYaml(await readText(resolveInRepo(ctx.layout.repoRoot, rel), rel), rel).value;
}

// Read once per process while the file is unchanged: every TAG card of a truck uses it.
const taxonomyMemo = new Map<string, { mtimeMs: number; value: Taxonomy }>();

export async function readTaxonomy(ctx: Pick<ExecContext, 'layout' | 'config'>): Promise<Taxonomy> {
  const rel = ctx.config.taxonomy;
  const abs = rel ? resolveInRepo(ctx.layout.repoRoot, rel) : '';
  const mtimeMs = rel ? await stat(abs).then((s) => s.mtimeMs, () => -1) : -1;
  const hit = taxonomyMemo.get(abs);
  if (hit && hit.mtimeMs === mtimeMs) return hit.value;
  const value = await parseTaxonomy(ctx);
  taxonomyMemo.set(abs, { mtimeMs, value });
  return value;
}

async function parseTaxonomy(ctx: Pick<ExecContext, 'layout' | 'config'>): Promise<Taxonomy> {
  const v = (await readYamlFile(ctx, ctx.config.taxonomy, 'taxonomy')) as Taxonomy;
  if (!v || !Array.isArray(v.tags) || v.tags.some((t) => typeof t?.name !== 'string'))
    throw new SchemaError([{ file: ctx.config.taxonomy!, field: 'tags', rule: 'taxonomy.shape', message: 'a taxonomy is { tags: [ { name, keywords?, regex?, strike? } ] }' }]);
  for (const t of v.tags)
    for (const r of t.regex ?? []) {
      try {
        new RegExp(r, 'i');
      } catch (err) {
        throw new SchemaError([{ file: ctx.config.taxonomy!, field: `tags.${t.name}.regex`, rule: 'taxonomy.regex', message: (err as Error).message }]);
      }
    }
  return v;
}

export async function readSensors(ctx: Pick<ExecContext, 'layout' | 'config'>): Promise<unknown> {
  return readYamlFile(ctx, ctx.config.sensors, 'sensors');
}
