// A real git remote over HTTP on 127.0.0.1: git's own http-backend (CGI) behind a tiny Node server, so
// that clone, fetch and push go through the smart HTTP protocol exactly as they would against a forge.
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { childEnv } from '../helpers.js';

export interface HttpRemote {
  url: string;
  bare: string;
  /** Pushes received so far (git-receive-pack requests). */
  readonly pushes: number;
  close(): Promise<void>;
}

/**
 * `holdPushes: n` holds the first n pushes until all n have arrived, so that they surely overlap.
 * `unavailable: n` answers the first n pushes 503 Service Unavailable, as a forge does when it is overloaded
 * (before the push starts: git's first request of a push, GET info/refs?service=git-receive-pack).
 */
export async function httpRemote(seedFrom: string, opts: { holdPushes?: number; unavailable?: number } = {}): Promise<HttpRemote> {
  const root = await mkdtemp(path.join(tmpdir(), 'g7-remote-'));
  const bare = path.join(root, 'repo.git');
  execFileSync('git', ['clone', '-q', '--bare', seedFrom, bare], { env: childEnv() });
  execFileSync('git', ['config', 'http.receivepack', 'true'], { cwd: bare, env: childEnv() });
  const backend = path.join(execFileSync('git', ['--exec-path'], { encoding: 'utf8', env: childEnv() }).trim(), 'git-http-backend');
  let pushes = 0;
  const held: (() => void)[] = [];
  let refused503 = 0;
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname.endsWith('/info/refs') && url.searchParams.get('service') === 'git-receive-pack' && refused503 < (opts.unavailable ?? 0)) {
      refused503++;
      res.writeHead(503, { 'Content-Type': 'text/plain', 'Retry-After': '1' });
      return void res.end('Service Unavailable\n');
    }
    if (req.method === 'POST' && url.pathname.endsWith('/git-receive-pack')) {
      pushes++;
      if (pushes <= (opts.holdPushes ?? 0)) {
        held.push(() => serve(req, res, url));
        if (held.length === opts.holdPushes) for (const go of held.splice(0)) go();
        return;
      }
    }
    serve(req, res, url);
  });
  const serve = (req: IncomingMessage, res: ServerResponse, url: URL) => {
    const cgi = spawn(backend, [], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: 'g7-test',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      },
    });
    req.pipe(cgi.stdin);
    let head = Buffer.alloc(0);
    let headersDone = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      headersDone = true;
      let status = 200;
      for (const line of head.subarray(0, end).toString().split('\r\n')) {
        const [k, ...v] = line.split(':');
        if (!k) continue;
        if (k.toLowerCase() === 'status') status = Number(v.join(':').trim().split(' ')[0]);
        else res.setHeader(k, v.join(':').trim());
      }
      res.writeHead(status);
      res.write(head.subarray(end + 4));
    });
    cgi.on('close', () => res.end());
  };
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/repo.git`,
    bare,
    get pushes() {
      return pushes;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
