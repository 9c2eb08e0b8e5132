// Running a command for a TEST card or a cmd: predicate: `sh -c` in its own process group, so that a
// timeout kills everything it started; output captured up to a bound, the rest counted.
import { spawn } from 'node:child_process';

export interface CommandResult {
  exit: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface Shell {
  run(command: string, opts: { cwd: string; timeoutMs: number; env?: Record<string, string | undefined> }): Promise<CommandResult>;
}

const MAX_CAPTURE = 1 << 20;

function capture() {
  const parts: Buffer[] = [];
  let size = 0;
  let dropped = 0;
  return {
    push(b: Buffer) {
      if (size >= MAX_CAPTURE) {
        dropped += b.length;
        return;
      }
      const take = b.subarray(0, MAX_CAPTURE - size);
      parts.push(take);
      size += take.length;
      dropped += b.length - take.length;
    },
    text() {
      const s = Buffer.concat(parts).toString('utf8');
      return dropped ? `${s}\n[g7: ${dropped} more bytes not captured]\n` : s;
    },
  };
}

export const systemShell: Shell = {
  run(command, { cwd, timeoutMs, env }) {
    return new Promise((resolve) => {
      const started = performance.now();
      const child = spawn('sh', ['-c', command], { cwd, env: env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const out = capture();
      const err = capture();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }, timeoutMs);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ exit: 127, stdout: '', stderr: `g7: could not start the command: ${e.message}\n`, timedOut: false, durationMs: performance.now() - started });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stderr = err.text() + (timedOut ? `\n[g7: timed out after ${timeoutMs} ms and was killed]\n` : '');
        resolve({ exit: code ?? (signal ? 128 + 9 : 1), stdout: out.text(), stderr, timedOut, durationMs: performance.now() - started });
      });
    });
  },
};
