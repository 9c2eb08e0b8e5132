// A fake GitHub on 127.0.0.1 that fails closed. Every REST request is routed and validated against GitHub's
// published OpenAPI description (@octokit/openapi through openapi-backend), with two rules stricter than
// GitHub, which ignores them silently and so would hide a bug: an undeclared query parameter or body field is
// refused. GraphQL documents are validated against GitHub's published schema (@octokit/graphql-schema) and
// executed by graphql-js, so an answer has exactly the fields the document asked for. Every response the fake
// sends is validated too, so its shapes are GitHub's.
//
// A test says which calls it expects (`expect('issues/remove-label', { name: 'auto-merge' })`); a call nobody
// expected, a request GitHub would refuse, and an expected call never made all fail `verify()`.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { execFileSync } from 'node:child_process';
import { execute, GraphQLError, parse, validate } from 'graphql';
import { parse as parseYaml } from 'yaml';
import { declaredProperties, example, openapi, schemaGraphql, type Json, type Operation } from './github-spec.js';

export type { Json };
export type Permission = 'read' | 'write';
export interface FakeGitHubOptions {
  /** owner/name of the one repository this GitHub serves. */
  repo?: string;
  /** The token requests must carry. */
  token?: string;
  /** What the token may do (GITHUB_TOKEN's `permissions:`); default write everywhere. */
  permissions?: Partial<Record<'pull_requests' | 'issues' | 'checks' | 'statuses' | 'contents' | 'actions', Permission>>;
  /** A bare git repository: check runs and statuses must name commits it has, annotations files those commits have. */
  gitDir?: string;
  defaultBranch?: string;
  allowAutoMerge?: boolean;
  /**
   * Who the token is. `github-actions`: a workflow's GITHUB_TOKEN, refused pull requests unless the repository
   * allows it (`actionsMayCreatePullRequests`, off by default on new repositories, as on GitHub). Default `app`.
   */
  actor?: 'github-actions' | 'app' | 'user';
  /** Settings → Actions → General → "Allow GitHub Actions to create and approve pull requests"; default false. */
  actionsMayCreatePullRequests?: boolean;
  /** Draft pull requests exist for public repositories, and for private ones on the Team and Enterprise plans. */
  plan?: 'free' | 'pro' | 'team' | 'enterprise';
  visibility?: 'public' | 'private' | 'internal';
  /** The clock the token ages by (ms); default Date.now. A test advances it to expire the token. */
  now?: () => number;
  /** An installation token lives one hour (GitHub's rule); after that every request is 401. */
  tokenLifetimeSeconds?: number;
}

export interface PullSpec {
  number: number;
  title: string;
  head: string;
  base?: string;
  labels?: string[];
  autoMerge?: boolean;
  state?: 'open' | 'closed';
  draft?: boolean;
  merged_at?: string | null;
  created_at?: string;
  user?: string;
  body?: string;
  /** The messages of its commits, oldest first (default: one ordinary commit). */
  commits?: string[];
}

export interface Call {
  /** The OpenAPI operationId (`pulls/get`), or `graphql:<root field>`. */
  operation: string;
  method: string;
  path: string;
  params: Json;
  body: unknown;
  status: number;
}

interface Expectation {
  operation: string;
  match: Json | undefined;
  reply?: Reply;
  met: boolean;
}

/** A scripted answer: status, body and the headers GitHub would send with it. */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const DOCS = 'https://docs.github.com/rest';
const RATE_LIMIT_DOCS = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';

/** What a forge under test waits: no 5xx backoff, no write pacing (rate limits still wait, on the test's clock). */
export const testPatience = { backoffMs: 0, paceWrites: false };

/** GitHub's transient answers, as it sends them (REST docs, "Rate limits for the REST API"). */
export const githubReplies = {
  /** A 5xx from GitHub's front end: `{"message":"Server Error"}`. */
  serverError(status = 502): Reply {
    return { status, body: { message: 'Server Error' } };
  },
  /** A secondary rate limit: 403 with the message that names it and, usually, retry-after in seconds. */
  secondaryRateLimit(retryAfterSeconds: number | undefined): Reply {
    return {
      status: 403,
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:1111:2222:3333:44444444.', documentation_url: `${RATE_LIMIT_DOCS}#about-secondary-rate-limits`, status: '403' },
      headers: { ...(retryAfterSeconds !== undefined ? { 'retry-after': String(retryAfterSeconds) } : {}), 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4990', 'x-ratelimit-used': '10', 'x-ratelimit-resource': 'core', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600) },
    };
  },
  /** The primary limit used up: 403, x-ratelimit-remaining 0, and the reset as epoch seconds. */
  primaryRateLimit(resetEpochSeconds: number): Reply {
    return {
      status: 403,
      body: { message: 'API rate limit exceeded for installation ID 4242.', documentation_url: `${RATE_LIMIT_DOCS}#exceeding-the-rate-limit`, status: '403' },
      headers: { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '0', 'x-ratelimit-used': '5000', 'x-ratelimit-resource': 'core', 'x-ratelimit-reset': String(resetEpochSeconds) },
    };
  },
};

function matches(call: { params: Json; body: unknown }, match: Json | undefined): boolean {
  if (!match) return true;
  const seen = { ...call.params, ...(call.body && typeof call.body === 'object' && !Array.isArray(call.body) ? (call.body as Json) : {}) };
  // Path and query parameters arrive as strings: compare scalars by their text.
  const same = (a: unknown, b: unknown) => (b !== null && typeof b === 'object' ? JSON.stringify(a) === JSON.stringify(b) : String(a) === String(b));
  return Object.entries(match).every(([k, v]) => same(seen[k], v));
}

export class FakeGitHub {
  readonly owner: string;
  readonly name: string;
  readonly calls: Call[] = [];
  /** What went wrong: requests GitHub would refuse, calls nobody expected, responses off the spec. */
  readonly problems: string[] = [];
  readonly comments: { id: number; issue: number; body: string; user: { login: string; type: 'Bot' | 'User' } }[] = [];
  readonly checkRuns: Json[] = [];
  readonly statuses: Json[] = [];
  /** Workflow runs started through workflow_dispatch: the workflow file, the ref and the inputs (defaults filled in). */
  readonly dispatches: { workflow: string; ref: string; inputs: Record<string, string> }[] = [];
  private readonly pulls = new Map<number, Json>();
  private readonly expectations: Expectation[] = [];
  private server!: Server;
  url = '';
  private nextId = 1000;

  /** Without a git directory: the branches GitHub has, and how many commits each has that the default branch lacks. */
  private readonly branches = new Map<string, number>();
  private readonly commitMessages = new Map<number, string[]>();
  private readonly issuedAt: number;

  constructor(private readonly o: FakeGitHubOptions = {}) {
    [this.owner, this.name] = (o.repo ?? 'g7-factory/factory').split('/') as [string, string];
    this.branches.set(o.defaultBranch ?? 'main', 0);
    this.issuedAt = (o.now ?? Date.now)();
  }

  /** A branch pushed to this GitHub (only without `gitDir`, which has its own), `ahead` commits past the default branch. */
  pushBranch(name: string, ahead = 1): this {
    if (this.o.gitDir) throw new Error('this fake reads its branches from gitDir: push to it with git');
    this.branches.set(name, ahead);
    return this;
  }

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  async start(): Promise<this> {
    await openapi();
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }

  /** The test expects this call once (or answers it with `reply`, e.g. `githubReplies.serverError()`). Matched on path, query and body fields. */
  expect(operation: string, match?: Json, reply?: Reply): this {
    this.expectations.push({ operation, match, ...(reply ? { reply } : {}), met: false });
    return this;
  }

  /** Throws when a call was unexpected or invalid, or an expected call was never made. */
  verify(): void {
    const unmet = this.expectations.filter((e) => !e.met).map((e) => `expected but never made: ${e.operation} ${e.match ? JSON.stringify(e.match) : ''}`);
    const all = [...this.problems, ...unmet];
    if (all.length) throw new Error(`fake GitHub:\n  ${all.join('\n  ')}\ncalls made:\n  ${this.calls.map((c) => `${c.operation} ${c.status}`).join('\n  ') || '(none)'}`);
  }

  addPullRequest(p: PullSpec): Json {
    const pr = example('pull-request');
    const html = `https://github.com/${this.fullName}/pull/${p.number}`;
    const api = `https://api.github.com/repos/${this.fullName}`;
    Object.assign(pr, {
      id: 100000 + p.number,
      node_id: Buffer.from(`PullRequest:${this.fullName}#${p.number}`).toString('base64').replace(/=+$/, ''),
      number: p.number,
      title: p.title,
      state: p.state ?? 'open',
      draft: p.draft ?? false,
      html_url: html,
      url: `${api}/pulls/${p.number}`,
      issue_url: `${api}/issues/${p.number}`,
      labels: (p.labels ?? []).map((n) => this.label(n)),
      auto_merge: p.autoMerge ? this.autoMergeObject() : null,
      merged: Boolean(p.merged_at),
      merged_at: p.merged_at ?? null,
      closed_at: p.state === 'closed' ? (p.merged_at ?? '2026-11-20T10:00:00Z') : null,
      created_at: p.created_at ?? '2026-11-20T09:00:00Z',
      user: { ...(pr.user as Json), login: p.user ?? 'g7-factory[bot]' },
      // The published example's team lacks fields the published schema requires; nobody is requested here.
      requested_teams: [],
      requested_reviewers: [],
      ...(p.body !== undefined ? { body: p.body } : {}),
    });
    pr.head = { ...(pr.head as Json), ref: p.head, label: `${this.owner}:${p.head}`, sha: `${p.number}`.padStart(40, 'a') };
    pr.base = { ...(pr.base as Json), ref: p.base ?? this.o.defaultBranch ?? 'main', label: `${this.owner}:${p.base ?? 'main'}` };
    this.pulls.set(p.number, pr);
    if (p.commits) this.commitMessages.set(p.number, p.commits);
    return pr;
  }

  pull(number: number): Json | undefined {
    return this.pulls.get(number);
  }

  /** A comment someone wrote on a pull request (a person by default). */
  addComment(issue: number, body: string, user: { login: string; type: 'Bot' | 'User' } = { login: 'octocat', type: 'User' }): this {
    this.comments.push({ id: this.nextId++, issue, body, user });
    return this;
  }

  /** Who this token is, as GitHub shows it on what it writes. */
  private author(): { login: string; type: 'Bot' | 'User' } {
    const actor = this.o.actor ?? 'app';
    return actor === 'user' ? { login: 'octocat', type: 'User' } : { login: actor === 'github-actions' ? 'github-actions[bot]' : 'g7-factory[bot]', type: 'Bot' };
  }

  private commentJson(c: FakeGitHub['comments'][number]): Json {
    const out = example('issue-comment');
    Object.assign(out, { id: c.id, body: c.body, user: { ...(out.user as Json), login: c.user.login, type: c.user.type }, html_url: `https://github.com/${this.fullName}/pull/${c.issue}#issuecomment-${c.id}` });
    return out;
  }

  private label(name: string): Json {
    return { ...example('label'), id: name.length * 7919, node_id: Buffer.from(`Label:${name}`).toString('base64'), name, url: `https://api.github.com/repos/${this.fullName}/labels/${encodeURIComponent(name)}`, default: false };
  }

  private autoMergeObject(): Json {
    const user = (example<Json>('pull-request').user as Json);
    return { enabled_by: user, merge_method: 'squash', commit_title: 'auto', commit_message: '' };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let reply: Reply;
    let call: Call = { operation: '?', method: req.method ?? '', path: req.url ?? '', params: {}, body: undefined, status: 0 };
    try {
      const result = await this.route(req, raw);
      call = result.call;
      reply = result.reply;
    } catch (err) {
      this.problems.push(`fake GitHub crashed on ${req.method} ${req.url}: ${(err as Error).stack}`);
      reply = { status: 500, body: { message: 'fake crashed' } };
    }
    call.status = reply.status;
    this.calls.push(call);
    const body = reply.body === undefined ? '' : JSON.stringify(reply.body);
    // GitHub sends the rate-limit figures with every REST answer.
    const rate = call.operation.startsWith('graphql:') ? {} : { 'x-ratelimit-limit': '5000', 'x-ratelimit-remaining': '4999', 'x-ratelimit-used': '1', 'x-ratelimit-resource': 'core', 'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600) };
    res.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'x-github-api-version-selected': '2022-11-28', ...rate, ...(reply.headers ?? {}) });
    res.end(body);
  }

  private refuse(status: number, message: string, extra: Json = {}): Reply {
    return { status, body: { message, documentation_url: DOCS, status: String(status), ...extra } };
  }

  /** Authentication and the headers GitHub insists on; undefined when the request may proceed. */
  private gate(req: IncomingMessage): Reply | undefined {
    if (!req.headers['user-agent'])
      return this.refuse(403, 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header');
    const auth = req.headers.authorization ?? '';
    const token = /^(?:token|bearer)\s+(.+)$/i.exec(auth)?.[1];
    if (!token || (this.o.token !== undefined && token !== this.o.token)) return this.refuse(401, 'Bad credentials');
    const lifetime = (this.o.tokenLifetimeSeconds ?? 3600) * 1000;
    if ((this.o.now ?? Date.now)() - this.issuedAt >= lifetime) return this.refuse(401, 'Bad credentials');
    return undefined;
  }

  /** Of these branch names, the ones this GitHub does not have. */
  private missingBranches(names: string[]): string[] {
    if (!this.o.gitDir) return names.filter((b) => !this.branches.has(b));
    return names.filter((b) => {
      try {
        execFileSync('git', ['rev-parse', '--verify', '-q', `refs/heads/${b}`], { cwd: this.o.gitDir, stdio: 'ignore' });
        return false;
      } catch {
        return true;
      }
    });
  }

  /** Commits `head` has that `base` lacks. */
  private commitsAhead(base: string, head: string): number {
    if (!this.o.gitDir) return base === (this.o.defaultBranch ?? 'main') ? (this.branches.get(head) ?? 0) : 1;
    return Number(execFileSync('git', ['rev-list', '--count', `refs/heads/${base}..refs/heads/${head}`], { cwd: this.o.gitDir, encoding: 'utf8' }).trim());
  }

  /** The refusals of POST /pulls, in the words GitHub uses (REST docs, "Create a pull request"). */
  private refusePull(body: Json): Reply | undefined {
    const PULLS_DOCS = 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request';
    const refuse = (status: number, message: string, extra: Json = {}): Reply => ({ status, body: { message, documentation_url: PULLS_DOCS, status: String(status), ...extra } });
    const custom = (message: string) => refuse(422, 'Validation Failed', { errors: [{ resource: 'PullRequest', code: 'custom', message }] });
    if (!this.can('pull_requests')) return this.refuse(403, 'Resource not accessible by integration');
    if ((this.o.actor ?? 'app') === 'github-actions' && !this.o.actionsMayCreatePullRequests) return refuse(403, 'GitHub Actions is not permitted to create or approve pull requests.');
    const head = String(body.head).replace(new RegExp(`^${this.owner}:`), '');
    const base = String(body.base);
    // A head branch never pushed, or a base that does not exist.
    const missing = this.missingBranches([head, base]);
    if (missing.length) return refuse(422, 'Validation Failed', { errors: missing.map((b) => ({ resource: 'PullRequest', field: b === head ? 'head' : 'base', code: 'invalid' })) });
    const open = [...this.pulls.values()].find((x) => x.state === 'open' && (x.head as Json).ref === head && (x.base as Json).ref === base);
    if (open) return custom(`A pull request already exists for ${this.owner}:${head}.`);
    if (this.commitsAhead(base, head) === 0) return custom(`No commits between ${base} and ${head}`);
    const drafts = (this.o.visibility ?? 'public') === 'public' || ['team', 'enterprise'].includes(this.o.plan ?? 'free');
    if (body.draft && !drafts) return refuse(422, 'Draft pull requests are not supported in this repository.');
    return undefined;
  }

  private can(scope: keyof NonNullable<FakeGitHubOptions['permissions']>): boolean {
    return (this.o.permissions?.[scope] ?? 'write') === 'write';
  }

  private async route(req: IncomingMessage, raw: string): Promise<{ call: Call; reply: Reply }> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const call: Call = { operation: '?', method, path: url.pathname, params: {}, body: undefined, status: 0 };
    let body: unknown;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        this.problems.push(`${method} ${url.pathname}: body is not JSON`);
        return { call, reply: this.refuse(400, 'Problems parsing JSON') };
      }
    }
    call.body = body;
    const gated = this.gate(req);
    if (gated) {
      this.problems.push(`${method} ${url.pathname}: ${(gated.body as Json).message}`);
      return { call, reply: gated };
    }
    if (method === 'POST' && url.pathname === '/graphql') return this.graphql(call, body as Json);

    const { api } = await openapi();
    const query: Json = Object.fromEntries(url.searchParams);
    const request = { method, path: url.pathname, query: url.search.slice(1), headers: req.headers as Record<string, string>, body };
    const op = api.matchOperation(request) as Operation | undefined;
    if (!op) {
      this.problems.push(`${method} ${url.pathname}: no such operation in GitHub's OpenAPI description`);
      return { call, reply: this.refuse(404, 'Not Found') };
    }
    call.operation = op.operationId!;
    const parsed = api.router.parseRequest(request, op);
    call.params = { ...Object.fromEntries(Object.entries(parsed.params).map(([k, v]) => [k, typeof v === 'string' ? decodeURIComponent(v) : v])), ...query };
    const valid = api.validateRequest(request, op);
    const strict: string[] = [];
    const declaredQuery = new Set((op.parameters ?? []).filter((p) => 'in' in p && p.in === 'query').map((p) => (p as { name: string }).name));
    for (const k of Object.keys(query)) if (!declaredQuery.has(k)) strict.push(`query parameter "${k}" is not declared for ${op.operationId}`);
    const bodySchema = (op.requestBody as { content?: Record<string, { schema?: Json }> } | undefined)?.content?.['application/json']?.schema;
    const declared = declaredProperties(bodySchema);
    if (declared && body && typeof body === 'object' && !Array.isArray(body)) for (const k of Object.keys(body)) if (!declared.has(k)) strict.push(`body field "${k}" is not declared for ${op.operationId}`);
    if (!valid.valid || strict.length) {
      const why = [...(valid.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`), ...strict];
      this.problems.push(`${method} ${url.pathname} (${op.operationId}) is invalid: ${why.join('; ')}`);
      return { call, reply: this.refuse(422, 'Validation Failed', { errors: why }) };
    }
    // A repository's endpoints answer for this one repository only (search is scoped by its query instead).
    if (!op.operationId!.startsWith('search/') && (call.params.owner !== this.owner || call.params.repo !== this.name)) return { call, reply: this.refuse(404, 'Not Found') };

    const expectation = this.expectations.find((e) => !e.met && e.operation === call.operation && matches(call, e.match));
    if (!expectation) {
      this.problems.push(`unexpected call: ${call.operation} ${JSON.stringify(call.params)} ${body === undefined ? '' : JSON.stringify(body)}`);
      return { call, reply: this.refuse(500, `fake GitHub: nobody expected ${call.operation}`) };
    }
    expectation.met = true;
    if (expectation.reply) return { call, reply: expectation.reply };
    const reply = await this.operate(call, body as Json);
    if (reply.status < 300 && reply.body !== undefined) {
      const check = api.validateResponse(reply.body, op, reply.status);
      if (!check.valid) this.problems.push(`the fake's own ${call.operation} response is off the spec: ${(check.errors ?? []).slice(0, 5).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`);
    }
    return { call, reply };
  }

  private async operate(call: Call, body: Json): Promise<Reply> {
    const p = call.params;
    const pr = (n: unknown) => this.pulls.get(Number(n));
    switch (call.operation) {
      case 'repos/get': {
        const repo = example('full-repository');
        // The published example lacks a field the published schema requires.
        Object.assign(repo, { has_discussions: false, visibility: this.o.visibility ?? 'public', private: (this.o.visibility ?? 'public') !== 'public', name: this.name, full_name: this.fullName, default_branch: this.o.defaultBranch ?? 'main', allow_auto_merge: this.o.allowAutoMerge ?? false, owner: { ...(repo.owner as Json), login: this.owner } });
        return { status: 200, body: repo };
      }
      case 'pulls/get': {
        const found = pr(p.pull_number);
        return found ? { status: 200, body: found } : this.refuse(404, 'Not Found');
      }
      case 'pulls/list': {
        const state = String(p.state ?? 'open');
        let list = [...this.pulls.values()].filter((x) => state === 'all' || x.state === state);
        if (p.base) list = list.filter((x) => (x.base as Json).ref === p.base);
        if (p.head) list = list.filter((x) => (x.head as Json).label === p.head);
        list.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)) || Number(b.number) - Number(a.number));
        const perPage = Number(p.per_page ?? 30);
        const page = Number(p.page ?? 1);
        const simple = Object.keys((await openapi()).doc.components.schemas['pull-request-simple']!.properties as Json);
        const items = list.slice((page - 1) * perPage, page * perPage).map((x) => Object.fromEntries(simple.filter((k) => k in x).map((k) => [k, x[k]])));
        const headers: Record<string, string> = {};
        if (page * perPage < list.length) {
          const next = new URL(`${this.url}${call.path}`);
          for (const [k, v] of Object.entries(p)) if (k !== 'owner' && k !== 'repo') next.searchParams.set(k, String(v));
          next.searchParams.set('page', String(page + 1));
          headers.link = `<${next}>; rel="next"`;
        }
        return { status: 200, body: items, headers };
      }
      case 'pulls/create': {
        const refused = this.refusePull(body);
        if (refused) return refused;
        const number = Math.max(0, ...this.pulls.keys()) + 1;
        const created = this.addPullRequest({ number, title: String(body.title), head: String(body.head).replace(new RegExp(`^${this.owner}:`), ''), base: String(body.base), draft: Boolean(body.draft), created_at: new Date().toISOString() });
        created.body = body.body ?? null;
        return { status: 201, body: created };
      }
      case 'search/issues-and-pull-requests':
        return this.search(call);
      case 'issues/add-labels': {
        if (!this.can('issues') && !this.can('pull_requests')) return this.refuse(403, 'Resource not accessible by integration');
        const target = pr(p.issue_number);
        if (!target) return this.refuse(404, 'Not Found');
        const names = ((body.labels as unknown[]) ?? []).map((l) => (typeof l === 'string' ? l : String((l as Json).name)));
        const have = target.labels as Json[];
        for (const n of names) if (!have.some((l) => String(l.name).toLowerCase() === n.toLowerCase())) have.push(this.label(n));
        return { status: 200, body: have };
      }
      case 'issues/remove-label': {
        if (!this.can('issues') && !this.can('pull_requests')) return this.refuse(403, 'Resource not accessible by integration');
        const target = pr(p.issue_number);
        if (!target) return this.refuse(404, 'Not Found');
        const have = target.labels as Json[];
        const i = have.findIndex((l) => String(l.name).toLowerCase() === String(p.name).toLowerCase());
        if (i < 0) return this.refuse(404, 'Label does not exist');
        have.splice(i, 1);
        return { status: 200, body: have };
      }
      case 'issues/create-comment': {
        if (!this.can('issues') && !this.can('pull_requests')) return this.refuse(403, 'Resource not accessible by integration');
        if (!pr(p.issue_number)) return this.refuse(404, 'Not Found');
        const c = { id: this.nextId++, issue: Number(p.issue_number), body: String(body.body), user: this.author() };
        this.comments.push(c);
        return { status: 201, body: this.commentJson(c) };
      }
      case 'issues/list-comments': {
        if (!pr(p.issue_number)) return this.refuse(404, 'Not Found');
        return this.page(call, this.comments.filter((c) => c.issue === Number(p.issue_number)).map((c) => this.commentJson(c)));
      }
      case 'issues/update-comment': {
        if (!this.can('issues') && !this.can('pull_requests')) return this.refuse(403, 'Resource not accessible by integration');
        const c = this.comments.find((x) => x.id === Number(p.comment_id));
        if (!c) return this.refuse(404, 'Not Found');
        // Only its author (or a maintainer, which an integration is not) may edit a comment.
        if (c.user.login !== this.author().login) return this.refuse(403, 'Resource not accessible by integration');
        c.body = String(body.body);
        return { status: 200, body: this.commentJson(c) };
      }
      case 'pulls/list-commits': {
        const target = pr(p.pull_number);
        if (!target) return this.refuse(404, 'Not Found');
        const messages = (this.commitMessages.get(Number(p.pull_number)) ?? ['Change the thing']).slice(0, 250);
        return this.page(call, messages.map((message, i) => {
          // The list leaves out files and stats (and the published example's files lack required fields).
          const { files: _files, stats: _stats, ...c } = example('commit');
          const sha = `${p.pull_number}${i}`.padStart(40, 'c');
          return { ...c, sha, node_id: `C_${sha}`, commit: { ...(c.commit as Json), message } };
        }));
      }
      case 'checks/create': {
        if (!this.can('checks')) return this.refuse(403, 'Resource not accessible by integration');
        const output = (body.output ?? {}) as Json;
        const annotations = (output.annotations as Json[] | undefined) ?? [];
        if (annotations.length > 50) return this.refuse(422, 'Only 50 annotations are allowed per request');
        const missing = this.missingInCommit(String(body.head_sha), annotations.map((a) => String(a.path)));
        if (missing) return missing;
        const id = this.nextId++;
        this.checkRuns.push({ id, ...body, output: { ...output, annotations: [...annotations] } });
        const run = example('check-run');
        Object.assign(run, { id, name: body.name, head_sha: body.head_sha, status: body.status ?? 'queued', conclusion: body.conclusion ?? null, html_url: `https://github.com/${this.fullName}/runs/${this.nextId}` });
        return { status: 201, body: run };
      }
      case 'checks/update': {
        if (!this.can('checks')) return this.refuse(403, 'Resource not accessible by integration');
        const prior = this.checkRuns.find((r) => r.id === Number(p.check_run_id));
        if (!prior) return this.refuse(404, 'Not Found');
        const annotations = (((body.output ?? {}) as Json).annotations as Json[] | undefined) ?? [];
        if (annotations.length > 50) return this.refuse(422, 'Only 50 annotations are allowed per request');
        const missing = this.missingInCommit(String(prior.head_sha), annotations.map((a) => String(a.path)));
        if (missing) return missing;
        ((prior.output as Json).annotations as Json[]).push(...annotations);
        const run = example('check-run');
        Object.assign(run, { id: prior.id, name: prior.name, head_sha: prior.head_sha, status: 'completed', conclusion: prior.conclusion });
        return { status: 200, body: run };
      }
      case 'repos/create-commit-status': {
        if (!this.can('statuses')) return this.refuse(403, 'Resource not accessible by integration');
        const missing = this.missingInCommit(String(p.sha), []);
        if (missing) return missing;
        this.statuses.push({ sha: p.sha, ...body });
        const st = example('status');
        Object.assign(st, { id: this.nextId++, state: body.state, context: body.context ?? 'default', description: body.description ?? null, target_url: body.target_url ?? null });
        return { status: 201, body: st };
      }
      case 'repos/create-repo-ruleset': {
        // Only an admin of the repository may; the shape of the ruleset is what the spec checked above.
        const ruleset = example('repository-ruleset');
        Object.assign(ruleset, { id: this.nextId++, name: body.name, target: body.target ?? 'branch', enforcement: body.enforcement, bypass_actors: body.bypass_actors ?? [], conditions: body.conditions ?? null, rules: body.rules ?? [] });
        return { status: 201, body: ruleset };
      }
      case 'actions/create-workflow-dispatch':
        return this.dispatch(call, body);
      case 'repos/update-branch-protection':
        return { status: 200, body: example('branch-protection-update') };
      default:
        this.problems.push(`the fake does not implement ${call.operation}`);
        return this.refuse(501, `fake GitHub: ${call.operation} is not implemented`);
    }
  }

  /**
   * POST …/actions/workflows/{workflow_id}/dispatches, refused as GitHub refuses it (REST docs, "Create a
   * workflow dispatch event", and the messages GitHub sends): no `actions: write` 403, a workflow file the
   * repository does not have 404, a ref it does not have 422 "No ref found for", a workflow without the
   * trigger 422, an input the workflow at that ref does not declare 422 "Unexpected inputs provided", a
   * required one missing 422, a choice outside its options 422. The workflow is read from the ref (gitDir).
   */
  private dispatch(call: Call, body: Json): Reply {
    const DISPATCH_DOCS = 'https://docs.github.com/rest/actions/workflows#create-a-workflow-dispatch-event';
    const refuse = (status: number, message: string): Reply => ({ status, body: { message, documentation_url: DISPATCH_DOCS, status: String(status) } });
    if (!this.can('actions')) return this.refuse(403, 'Resource not accessible by integration');
    if (!this.o.gitDir) {
      this.problems.push('actions/create-workflow-dispatch: the fake reads workflows from gitDir, and has none');
      return this.refuse(501, 'fake GitHub: no gitDir to read workflows from');
    }
    const id = String(call.params.workflow_id);
    const show = (spec: string): string | undefined => {
      try {
        return execFileSync('git', ['show', spec], { cwd: this.o.gitDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        return undefined;
      }
    };
    const file = `.github/workflows/${id}`;
    if (!/^[\w.-]+\.ya?ml$/.test(id) || show(`refs/heads/${this.o.defaultBranch ?? 'main'}:${file}`) === undefined) return refuse(404, 'Not Found');
    const ref = String(body.ref).replace(/^refs\/(heads|tags)\//, '');
    const at = ['heads', 'tags'].map((k) => `refs/${k}/${ref}`).find((r) => show(`${r}^{commit}`) !== undefined);
    if (!at) return refuse(422, `No ref found for: ${body.ref}`);
    const text = show(`${at}:${file}`);
    const on = text === undefined ? undefined : ((parseYaml(text) as Json | null)?.on as Json | string | string[] | undefined);
    const trigger = on === 'workflow_dispatch' || (Array.isArray(on) && on.includes('workflow_dispatch')) || (on !== null && typeof on === 'object' && !Array.isArray(on) && 'workflow_dispatch' in on);
    if (!trigger) return refuse(422, "Workflow does not have 'workflow_dispatch' trigger");
    const declared = ((on as Json).workflow_dispatch as Json | null)?.inputs as Record<string, Json> | undefined ?? {};
    const given = (body.inputs ?? {}) as Record<string, unknown>;
    const unexpected = Object.keys(given).filter((k) => !(k in declared));
    if (unexpected.length) return refuse(422, `Unexpected inputs provided: ${JSON.stringify(unexpected)}`);
    const inputs: Record<string, string> = {};
    for (const [name, spec] of Object.entries(declared)) {
      const value = given[name] ?? spec?.default;
      if (value === undefined || value === null || value === '') {
        if (spec?.required) return refuse(422, `Required input '${name}' not provided`);
        continue;
      }
      const options = spec?.options as unknown[] | undefined;
      if (spec?.type === 'choice' && options && !options.map(String).includes(String(value))) return refuse(422, `Provided value '${value}' for input '${name}' not in the list of allowed values`);
      inputs[name] = String(value);
    }
    this.dispatches.push({ workflow: id, ref, inputs });
    if (!body.return_run_details) return { status: 204 };
    const runId = this.nextId++;
    return { status: 200, body: { workflow_run_id: runId, run_url: `https://api.github.com/repos/${this.fullName}/actions/runs/${runId}`, html_url: `https://github.com/${this.fullName}/actions/runs/${runId}` } };
  }

  /**
   * GET /search/issues over this repository's pull requests, with the qualifiers the product uses (REST docs,
   * "Searching issues and pull requests"): `repo:`, `is:pr`, `is:open|closed|merged|unmerged`, `state:`,
   * `label:`, and `head:`, which matches branch names beginning with it. Anything else is a problem of the
   * test, not a silent match-all; the answer is capped at 1000 results, as GitHub's is.
   */
  private search(call: Call): Reply {
    const terms = String(call.params.q ?? '').trim().split(/\s+/).filter(Boolean);
    let pulls = [...this.pulls.values()];
    let scoped = false;
    let prOnly = false;
    for (const t of terms) {
      const [k, ...rest] = t.split(':');
      const v = rest.join(':').replace(/^"|"$/g, '');
      if (k === 'repo') {
        scoped = true;
        if (v.toLowerCase() !== this.fullName.toLowerCase()) pulls = [];
      } else if ((k === 'is' || k === 'type') && v === 'pr') prOnly = true;
      else if (k === 'is' && ['open', 'closed'].includes(v)) pulls = pulls.filter((x) => x.state === v);
      else if (k === 'state' && ['open', 'closed'].includes(v)) pulls = pulls.filter((x) => x.state === v);
      else if (k === 'is' && v === 'merged') pulls = pulls.filter((x) => x.merged_at);
      else if (k === 'is' && v === 'unmerged') pulls = pulls.filter((x) => x.state === 'closed' && !x.merged_at);
      else if (k === 'label') pulls = pulls.filter((x) => (x.labels as Json[]).some((l) => String(l.name).toLowerCase() === v.toLowerCase()));
      else if (k === 'head') pulls = pulls.filter((x) => String((x.head as Json).ref).toLowerCase().startsWith(v.toLowerCase()));
      else {
        this.problems.push(`search: the fake does not model "${t}"`);
        return this.refuse(422, 'Validation Failed', { errors: [{ resource: 'Search', field: 'q', code: 'invalid' }] });
      }
    }
    if (!scoped || !prOnly) {
      this.problems.push(`search: "${call.params.q}" must name repo: and is:pr (every other repository's issues would match)`);
      return this.refuse(422, 'Validation Failed', { errors: [{ resource: 'Search', field: 'q', code: 'missing' }] });
    }
    pulls.sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    const paginated = example<{ items: Json[]; search_type: string }>('issue-search-result-item-paginated');
    const shape = paginated.items[0]!;
    const items = pulls.slice(0, 1000).map((x) => ({
      ...shape, id: x.id, node_id: x.node_id, number: x.number, title: x.title, state: x.state, labels: x.labels, user: x.user, body: x.body,
      created_at: x.created_at, updated_at: x.created_at, closed_at: x.closed_at, html_url: x.html_url, url: x.issue_url,
      pull_request: { url: x.url, html_url: x.html_url, diff_url: `${x.html_url}.diff`, patch_url: `${x.html_url}.patch`, merged_at: x.merged_at ?? null },
    }));
    const page = this.page(call, items);
    return { ...page, body: { total_count: pulls.length, incomplete_results: false, search_type: 'lexical', items: page.body } };
  }

  /** One page of a list, with GitHub's `link` header when there are more (per_page default 30). */
  private page(call: Call, items: Json[]): Reply {
    const p = call.params;
    const perPage = Number(p.per_page ?? 30);
    const page = Number(p.page ?? 1);
    const headers: Record<string, string> = {};
    if (page * perPage < items.length) {
      const next = new URL(`${this.url}${call.path}`);
      for (const [k, v] of Object.entries(p)) if (!['owner', 'repo', 'issue_number', 'pull_number'].includes(k)) next.searchParams.set(k, String(v));
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${next}>; rel="next"`;
    }
    return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers };
  }

  /** With a git remote: the commit must be on it, and each annotated file must be in that commit. */
  private missingInCommit(sha: string, paths: string[]): Reply | undefined {
    if (!this.o.gitDir) return undefined;
    const has = (spec: string) => {
      try {
        execFileSync('git', ['cat-file', '-e', spec], { cwd: this.o.gitDir, stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    };
    if (!/^[0-9a-f]{40}$/.test(sha) || !has(`${sha}^{commit}`)) return this.refuse(422, `No commit found for SHA: ${sha}`);
    const absent = paths.filter((f) => !has(`${sha}:${f}`));
    if (absent.length) {
      // GitHub accepts these and shows them nowhere: a bug in whoever sent them.
      this.problems.push(`check run annotations name files not in commit ${sha.slice(0, 10)}: ${absent.join(', ')}`);
      return this.refuse(422, `annotation paths not in ${sha}: ${absent.join(', ')}`);
    }
    return undefined;
  }

  private graphql(call: Call, body: Json): { call: Call; reply: Reply } {
    const schema = schemaGraphql();
    const fail = (message: string, extra: Json = {}): { call: Call; reply: Reply } => {
      this.problems.push(`graphql: ${message}`);
      return { call, reply: { status: 200, body: { errors: [{ message, ...extra }] } } };
    };
    if (typeof body?.query !== 'string') return fail('the body has no query');
    let doc;
    try {
      doc = parse(body.query);
    } catch (err) {
      return fail((err as GraphQLError).message);
    }
    const errors = validate(schema, doc);
    if (errors.length) return fail(errors.map((e) => e.message).join('; '));
    const op = doc.definitions.find((d) => d.kind === 'OperationDefinition');
    const field = op && 'selectionSet' in op ? op.selectionSet.selections.find((s) => s.kind === 'Field') : undefined;
    call.operation = `graphql:${field && 'name' in field ? field.name.value : '?'}`;
    call.params = (body.variables as Json) ?? {};
    const expectation = this.expectations.find((e) => !e.met && e.operation === call.operation && matches(call, e.match));
    if (!expectation) {
      this.problems.push(`unexpected call: ${call.operation} ${JSON.stringify(call.params)}`);
      return { call, reply: { status: 200, body: { errors: [{ message: `fake GitHub: nobody expected ${call.operation}` }] } } };
    }
    expectation.met = true;
    if (expectation.reply) return { call, reply: expectation.reply };
    const byNode = (id: unknown) => [...this.pulls.values()].find((x) => x.node_id === id);
    const rootValue = {
      disablePullRequestAutoMerge: ({ input }: { input: { pullRequestId: string; clientMutationId?: string } }) => {
        if (!this.can('pull_requests')) throw Object.assign(new GraphQLError('Resource not accessible by integration'), { extensions: { type: 'FORBIDDEN' } });
        const target = byNode(input.pullRequestId);
        if (!target) throw new GraphQLError(`Could not resolve to a node with the global id of '${input.pullRequestId}'`, { extensions: { type: 'NOT_FOUND' } });
        // Stricter than GitHub may be: disabling what is not enabled means the caller decided on stale data.
        if (!target.auto_merge) throw new GraphQLError('Pull request is not in the correct state to disable auto-merge', { extensions: { type: 'UNPROCESSABLE' } });
        target.auto_merge = null;
        return { clientMutationId: input.clientMutationId ?? null, pullRequest: { number: target.number, autoMergeRequest: null, id: target.node_id, title: target.title } };
      },
    };
    const result = execute({ schema, document: doc, rootValue, variableValues: (body.variables as Json) ?? {} }) as { data?: unknown; errors?: readonly GraphQLError[] };
    const errorsOut = result.errors?.map((e) => ({ type: (e.originalError as GraphQLError | undefined)?.extensions?.type ?? e.extensions?.type ?? 'INTERNAL', path: e.path, message: e.message }));
    return { call, reply: { status: 200, body: { data: result.data ?? null, ...(errorsOut?.length ? { errors: errorsOut } : {}) } } };
  }
}

export async function fakeGitHub(o: FakeGitHubOptions = {}): Promise<FakeGitHub> {
  return new FakeGitHub(o).start();
}
