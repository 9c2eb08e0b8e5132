// The run log: runs/run_NNNN/stdout.txt and stderr.txt hold everything every process that worked on the
// run printed, in order. Each process appends, after a marker line saying who it is (start time, pid,
// host), so a resume adds to the log instead of replacing it. Lines are written as they happen and
// redacted; a process killed mid-line leaves a torn line, which the next one ends before its marker.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { noteWrite } from '../ssot/written.js';

export class RunLog {
  private constructor(
    private readonly out: number,
    private readonly err: number,
    private readonly redact: (s: string) => string,
    /** What the log held before this process opened it. */
    readonly before: string,
  ) {}

  /** Opens (creating) the log of a run and writes this process's marker line to both files. */
  static open(dir: string, redact: (s: string) => string, marker: { at: string; why: string }): RunLog {
    mkdirSync(dir, { recursive: true });
    const open = (name: string) => {
      const file = path.join(dir, name);
      noteWrite(file);
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        /* a new run */
      }
      const fd = openSync(file, 'a');
      if (text !== '' && !text.endsWith('\n')) writeSync(fd, '\n'); // a line cut short by a kill
      return { fd, text };
    };
    const out = open('stdout.txt');
    const err = open('stderr.txt');
    const log = new RunLog(out.fd, err.fd, redact, out.text);
    const line = `--- g7 ${marker.why}: pid ${process.pid} on ${hostname()}, ${marker.at} ---`;
    log.line(line);
    log.warning(line);
    return log;
  }

  line(text: string): void {
    writeSync(this.out, this.redact(text) + '\n');
  }

  warning(text: string): void {
    writeSync(this.err, this.redact(text) + '\n');
  }

  /** Makes what was written durable: called before the run's evidence is sealed. */
  flush(): void {
    fsyncSync(this.out);
    fsyncSync(this.err);
  }

  close(): void {
    closeSync(this.out);
    closeSync(this.err);
  }
}
