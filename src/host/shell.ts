// Running a command for a TEST card or a cmd: predicate: `sh -c` in its own process group, so that a
// timeout (or the run's stop signal) kills everything it started; output captured up to a bound, the rest
// counted. A command gets exactly the environment the shell was built with: the entry point builds it once,
// without secrets, so no card's child process ever sees a key or a token.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export interface CommandResult {
  exit: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  durationMs: number;
}

export interface Shell {
  run(command: string, opts: { cwd: string; timeoutMs: number }): Promise<CommandResult>;
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

/** A shell whose commands run with exactly `env`, and are killed when `stop` fires (they run again on resume). */
export function hostShell(o: { env: Record<string, string>; stop?: AbortSignal | undefined }): Shell {
  return {
    run(command, { cwd, timeoutMs }) {
      return new Promise((resolve) => {
        const started = performance.now();
        const child = spawn('sh', ['-c', command], { cwd, env: o.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
        const out = capture();
        const err = capture();
        let killedFor: string | undefined;
        const kill = (why: string) => {
          killedFor ??= why;
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            /* already gone */
          }
        };
        const timer = setTimeout(() => kill(`timed out after ${timeoutMs} ms`), timeoutMs);
        const onStop = () => kill('stopped: the run was cancelled');
        o.stop?.addEventListener('abort', onStop, { once: true });
        if (o.stop?.aborted) onStop();
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        const done = () => {
          clearTimeout(timer);
          o.stop?.removeEventListener('abort', onStop);
        };
        child.on('error', (e) => {
          done();
          resolve({ exit: 127, stdout: '', stderr: `g7: could not start the command: ${e.message}\n`, timedOut: false, durationMs: performance.now() - started });
        });
        child.on('close', (code, signal) => {
          done();
          const stderr = err.text() + (killedFor ? `\n[g7: ${killedFor}, and was killed]\n` : '');
          resolve({ exit: code ?? (signal ? 128 + (constants.signals[signal] ?? 9) : 1), stdout: out.text(), stderr, timedOut: killedFor?.startsWith('timed out') ?? false, durationMs: performance.now() - started });
        });
      });
    },
  };
}
