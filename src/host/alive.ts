// Whether a process still runs on this machine: the lock's owner, a lane's outbox being sent.

/** Whether a process with this pid exists on this machine (EPERM: it exists, owned by someone else). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
