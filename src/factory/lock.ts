// One g7 run per SSOT at a time. The lock is a file created with O_EXCL holding the owner's pid and host;
// a lock whose owner process is gone (kill -9, a crashed runner) is taken over. Never committed to git.
import { open, readFile, unlink, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { alive } from '../host/alive.js';

export interface LockOwner {
  pid: number;
  host: string;
  started_at: string;
}

export class LockBusyError extends Error {
  constructor(readonly owner: LockOwner, readonly file: string) {
    super(`another g7 run holds ${file} (pid ${owner.pid} on ${owner.host}, since ${owner.started_at})`);
    this.name = 'LockBusyError';
  }
}

export interface Lock {
  owner: LockOwner;
  /** The owner found dead and replaced, if any. */
  tookOverFrom: LockOwner | undefined;
  release(): Promise<void>;
}

export async function acquireLock(file: string, now: string): Promise<Lock> {
  await mkdir(path.dirname(file), { recursive: true });
  const owner: LockOwner = { pid: process.pid, host: hostname(), started_at: now };
  let tookOverFrom: LockOwner | undefined;
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fh = await open(file, 'wx');
      await fh.writeFile(JSON.stringify(owner) + '\n');
      await fh.sync();
      await fh.close();
      return {
        owner,
        tookOverFrom,
        release: async () => {
          await unlink(file).catch(() => {});
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let held: LockOwner | undefined;
    try {
      held = JSON.parse(await readFile(file, 'utf8')) as LockOwner;
    } catch {
      held = undefined; // empty or torn: its writer died before finishing
    }
    if (held && held.host === owner.host && alive(held.pid) && held.pid !== process.pid) throw new LockBusyError(held, file);
    if (held && held.host !== owner.host) throw new LockBusyError(held, file);
    tookOverFrom = held;
    await unlink(file).catch(() => {});
  }
  throw new Error(`could not take the lock ${file}`);
}
