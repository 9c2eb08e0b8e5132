// The key every sanitized hash is made with (HMAC-SHA256), so a guessed question cannot be confirmed against
// a shared copy. G7_SANITIZE_KEY when set; otherwise the factory's own key, generated once into the store
// (`ssot/store/keys/sanitize.key`), never in git: the folder carries a `.gitignore` of `*`, so it stays out
// whatever the repository's own ignore rules say. Keep it to keep hashes comparable between exports.
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { UsageError } from '../../contracts/errors.js';
import type { Layout } from '../../ssot/layout.js';

export const MIN_KEY_LENGTH = 16;

export interface SanitizeKey {
  key: string;
  /** `G7_SANITIZE_KEY`, or the key file's path. */
  source: string;
  created: boolean;
}

export function keyFile(layout: Layout): string {
  return path.join(layout.ssotDir, 'store', 'keys', 'sanitize.key');
}

export async function sanitizeKey(layout: Layout, fromEnv: string | undefined): Promise<SanitizeKey> {
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < MIN_KEY_LENGTH) throw new UsageError(`G7_SANITIZE_KEY is ${fromEnv.length} characters; it needs at least ${MIN_KEY_LENGTH} (e.g. from \`openssl rand -hex 32\`), or unset it to use the factory's own key`);
    return { key: fromEnv, source: 'G7_SANITIZE_KEY', created: false };
  }
  const file = keyFile(layout);
  const existing = await readFile(file, 'utf8').catch(() => undefined);
  if (existing !== undefined) {
    const key = existing.trim();
    if (key.length < MIN_KEY_LENGTH) throw new UsageError(`${file} holds a key of ${key.length} characters; delete it to have a new one generated, or set G7_SANITIZE_KEY`);
    return { key, source: file, created: false };
  }
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(path.join(path.dirname(file), '.gitignore'), '*\n');
  const key = randomBytes(32).toString('hex');
  try {
    await writeFile(file, key + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    // Another process made it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return sanitizeKey(layout, undefined);
    throw err;
  }
  return { key, source: file, created: true };
}
