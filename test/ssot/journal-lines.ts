// What tests read of the journal: every line of every day file, days in order, each day's parts in order.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

/** The day files of `ssot`'s journal, oldest day first, each day's continuations after it. */
export async function journalFiles(ssot: string): Promise<string[]> {
  const dir = path.join(ssot, 'state', 'journal');
  const key = (n: string) => {
    const m = /^(\d{8})(?:\.(\d+))?\.jsonl$/.exec(n)!;
    return [m[1]!, Number(m[2] ?? 1)] as const;
  };
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /^\d{8}(\.\d+)?\.jsonl$/.test(n));
  names.sort((a, b) => (key(a)[0] === key(b)[0] ? key(a)[1] - key(b)[1] : key(a)[0] < key(b)[0] ? -1 : 1));
  return names.map((n) => path.join(dir, n));
}

/** The journal's text, all day files joined. */
export async function journalText(ssot: string): Promise<string> {
  let text = '';
  for (const f of await journalFiles(ssot)) text += await readFile(f, 'utf8');
  return text;
}
