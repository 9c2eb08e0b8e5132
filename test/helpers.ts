// Shared test scaffolding: throwaway repositories on disk and an in-process g7 with captured output.
import { mkdtemp, mkdir, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main.js';
import { layoutFor, type Layout } from '../src/ssot/layout.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface TempRepo {
  root: string;
  ssot: string;
  layout: Layout;
  write(rel: string, content: string | Uint8Array): Promise<string>;
  g7(...args: string[]): Promise<{ code: number; out: string; err: string }>;
}

export async function tempRepo(opts: { example?: boolean } = {}): Promise<TempRepo> {
  const root = await mkdtemp(path.join(tmpdir(), 'g7-test-'));
  const ssot = path.join(root, 'ssot');
  await mkdir(ssot, { recursive: true });
  if (opts.example) {
    await cp(path.join(REPO, 'ssot'), ssot, { recursive: true });
    await cp(path.join(REPO, 'examples'), path.join(root, 'examples'), { recursive: true });
  }
  const layout = layoutFor(ssot);
  return {
    root,
    ssot,
    layout,
    async write(rel, content) {
      const abs = path.join(root, rel);
      await mkdir(path.dirname(abs), { recursive: true });
      await writeFile(abs, content);
      return abs;
    },
    async g7(...args) {
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['--ssot', ssot, ...args], { out: (s) => out.push(s), err: (s) => err.push(s) });
      return { code, out: out.join('\n'), err: err.join('\n') };
    },
  };
}

/** A backlog card with sensible defaults. */
export function card(id: string, prio: 'A' | 'B' | 'C' | 'D', deps: string[] = [], extra: Record<string, unknown> = {}) {
  const [, lane, type] = /^L(\d)_([A-Z]+)_/.exec(id)!;
  return { id, lane: Number(lane), prio, type, input: 'in.txt', output: `out/${id}.txt`, accept: `exists:out/${id}.txt`, failfast: 'never', cost_hint: 'LOW', deps, ...extra };
}

/**
 * The whole environment of a child process a test starts: the sealed basics (test/setup/global.ts) and what
 * the test adds, nothing inherited by accident.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_NOSYSTEM', 'GIT_TERMINAL_PROMPT']) if (process.env[k] !== undefined) env[k] = process.env[k];
  return { ...env, ...extra };
}

export function jsonl(rows: unknown[]): string {
  return rows.map((r) => JSON.stringify(r) + '\n').join('');
}
