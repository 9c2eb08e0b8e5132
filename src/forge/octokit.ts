// The forge on GitHub's API through Octokit: REST for everything but turning auto-merge off, which only
// GraphQL can do. The only module in the tree that imports Octokit.
import { Octokit } from '@octokit/core';
import { paginateRest } from '@octokit/plugin-paginate-rest';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck/light.js';
import { ForgeError, type FoundPull, type IssueComment, type PullCommit, type CheckRun, type DraftPullRequest, type Forge, type PullRequest, type RepoRef, type WorkflowDispatch } from './forge.js';

export interface OctokitForgeOptions {
  repo: RepoRef;
  /**
   * The workflow's GITHUB_TOKEN, a GitHub App installation token or a PAT. Pull requests opened with
   * GITHUB_TOKEN start no other workflow (GitHub's rule against loops): use an App token for coreloop.
   */
  token: string;
  /** GITHUB_API_URL: https://api.github.com, a GHES `/api/v3` URL, or a loopback fake in tests. */
  baseUrl?: string;
  /** How long a call may wait for GitHub; default `DEFAULT_PATIENCE`. */
  patience?: Partial<ForgePatience>;
}

/**
 * The bound that keeps a job inside its time budget. A 5xx is retried on the retry plugin's schedule (1 s, 4 s,
 * 9 s for three retries); a rate limit waits what GitHub asks (retry-after, or until x-ratelimit-reset), but
 * never longer than `maxWaitSeconds` at once: beyond that the call fails as a transient ForgeError naming the
 * wait, and the job stops RECOVERABLE instead of sleeping through its timeout.
 */
export interface ForgePatience {
  /** Retries of one request after a 5xx or a rate limit. */
  retries: number;
  /** The longest single wait accepted for a rate limit. */
  maxWaitSeconds: number;
  /** Milliseconds per unit of the retry plugin's 5xx schedule (1000: seconds). */
  backoffMs: number;
  /** Waits out a rate limit; tests pass a virtual clock. */
  sleep: (ms: number) => Promise<void>;
  /**
   * GitHub asks integrations to space writes (one a second; three for those that notify people). Tests
   * against the loopback fake turn it off.
   */
  paceWrites: boolean;
}

export const DEFAULT_PATIENCE: ForgePatience = {
  retries: 3,
  maxWaitSeconds: 60,
  backoffMs: 1000,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  paceWrites: true,
};

const ForgeOctokit = Octokit.plugin(paginateRest, retry, throttling);
type Client = InstanceType<typeof ForgeOctokit>;

/** The fields of a REST pull request (full or simple) that `PullRequest` is made of. */
interface RestPull {
  number: number;
  node_id: string;
  title: string;
  state: string;
  draft?: boolean | undefined;
  head: { ref: string; sha: string };
  base: { ref: string };
  labels: { name?: string | undefined }[];
  auto_merge: unknown;
  merged_at: string | null;
  created_at: string;
  closed_at: string | null;
  html_url: string;
  user: { login: string } | null;
  body: string | null;
}

function toPullRequest(p: RestPull): PullRequest {
  return {
    number: p.number,
    nodeId: p.node_id,
    title: p.title,
    state: p.state === 'closed' ? 'closed' : 'open',
    draft: p.draft ?? false,
    headRef: p.head.ref,
    headSha: p.head.sha,
    baseRef: p.base.ref,
    labels: p.labels.map((l) => l.name ?? '').filter(Boolean),
    autoMerge: p.auto_merge !== null && p.auto_merge !== undefined,
    mergedAt: p.merged_at,
    createdAt: p.created_at,
    closedAt: p.closed_at,
    url: p.html_url,
    author: p.user?.login ?? '',
    body: p.body ?? '',
  };
}

/** Where GitHub keeps the setting that lets a workflow's GITHUB_TOKEN open pull requests. */
export const ACTIONS_PR_SETTING =
  'Settings → Actions → General → Workflow permissions → "Allow GitHub Actions to create and approve pull requests" (off by default on new repositories; in an organization it must be allowed in the organization\'s Settings → Actions → General first), or open coreloop pull requests with the factory App\'s token or G7_PR_TOKEN instead of GITHUB_TOKEN';

/** What a person can do about a refusal, by status and GitHub's message (with its errors[] messages). */
function hintFor(status: number, message: string, request = ''): string | undefined {
  if (request.endsWith('/dispatches')) {
    if (status === 403 && /not accessible by integration/i.test(message)) return 'the token may not start workflows: give the job `actions: write` (its permissions:)';
    if (status === 404) return 'no such workflow file in .github/workflows on the default branch, or the token cannot see the repository';
    if (status === 422 && /No ref found/i.test(message)) return 'the branch or tag is not on GitHub';
    if (status === 422 && /Unexpected inputs|Required input|not in the list of allowed values/i.test(message)) return 'the workflow file at that ref declares other workflow_dispatch inputs: update it (g7 init writes one that declares them)';
    if (status === 422 && /workflow_dispatch/i.test(message)) return 'the workflow at that ref has no on: workflow_dispatch';
  }
  if (status === 401) return 'the token is missing, invalid or expired: an App installation token lives one hour, so mint one per job (actions/create-github-app-token) and keep the job shorter';
  if (status === 403 && /GitHub Actions is not permitted to create or approve pull requests/i.test(message)) return `turn on ${ACTIONS_PR_SETTING}`;
  if (status === 403 && /not accessible by integration/i.test(message))
    return 'the token lacks a permission: give the job `pull-requests: write` and `issues: write` (labels, comments), `checks: write` or `statuses: write`; a pull_request run from a fork only ever gets a read-only token';
  if (status === 404) return 'the repository or pull request does not exist, or the token cannot see it';
  if (status === 422 && /Draft pull requests are not supported/i.test(message)) return 'GitHub offers draft pull requests on public repositories, and on private ones only with the Team or Enterprise plan: make the repository public, change the plan, or open the pull request by hand from the branch, as a draft where you can';
  if (status === 422 && /No commits between/i.test(message)) return 'the branch has nothing the base lacks: it was merged already, or its commit is missing';
  if (status === 422 && /already exists/i.test(message)) return 'that branch has an open pull request already';
  if (status === 422 && /\bhead invalid\b/i.test(message)) return 'the head branch is not on GitHub: push it first';
  if (status === 422) return 'GitHub refused the request as invalid; the message says which field';
  return undefined;
}

/** GitHub's errors[] in words: a custom error's message, or "field code" (`head invalid`). */
function errorsText(errors: unknown): string {
  if (!Array.isArray(errors)) return JSON.stringify(errors);
  return errors.map((e: { message?: string; field?: string; code?: string } | string) => (typeof e === 'string' ? e : (e.message ?? [e.field, e.code].filter(Boolean).join(' ')))).join('; ');
}

/** Seconds GitHub asked to wait, when the refusal is a rate limit (primary or secondary). */
function rateLimitWait(status: number, message: string, headers: Record<string, string | number | undefined>, now: number): number | undefined {
  if (status !== 403 && status !== 429) return undefined;
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && headers['retry-after'] !== undefined) return retryAfter;
  if (String(headers['x-ratelimit-remaining']) === '0' && headers['x-ratelimit-reset'] !== undefined) return Math.max(0, Math.ceil(Number(headers['x-ratelimit-reset']) - now / 1000));
  if (status === 429 || /rate limit/i.test(message)) return 60; // GitHub's advice when it names no wait
  return undefined;
}

function forgeError(request: string, err: unknown, patience: ForgePatience = DEFAULT_PATIENCE): ForgeError {
  const e = err as { status?: number; message?: string; response?: { headers?: Record<string, string>; data?: { message?: string; errors?: unknown } }; errors?: { message?: string; type?: string }[] };
  if (Array.isArray(e.errors) && e.errors.length) {
    // GraphQL answers 200 with errors[]: NOT_FOUND, FORBIDDEN, UNPROCESSABLE.
    const first = e.errors[0]!;
    const status = first.type === 'FORBIDDEN' ? 403 : first.type === 'NOT_FOUND' ? 404 : 422;
    return new ForgeError(request, status, first.message ?? 'GraphQL error', hintFor(status, first.message ?? ''));
  }
  const status = typeof e.status === 'number' && e.status >= 100 ? e.status : 0;
  let message = e.response?.data?.message ?? e.message ?? String(err);
  if (e.response?.data?.errors) message += `: ${errorsText(e.response.data.errors)}`;
  const wait = rateLimitWait(status, message, e.response?.headers ?? {}, Date.now());
  if (wait !== undefined) {
    const why = wait > patience.maxWaitSeconds ? `longer than the ${patience.maxWaitSeconds} s this job waits at once` : `still limited after ${patience.retries} retries`;
    return new ForgeError(request, status, message, `rate limited: GitHub asks to wait ${wait} s, ${why}; transient, the next run tries again (a GitHub App token has a higher limit)`, wait);
  }
  return new ForgeError(request, status, message, status ? hintFor(status, message, request) : 'GitHub was not reached (network)');
}

const MAX_SUMMARY = 65535;
const ANNOTATIONS_PER_REQUEST = 50;

export class OctokitForge implements Forge {
  readonly repo: RepoRef;
  private readonly client: Client;
  private readonly patience: ForgePatience;

  constructor(o: OctokitForgeOptions) {
    this.repo = o.repo;
    const patience = (this.patience = { ...DEFAULT_PATIENCE, ...o.patience });
    // Both limits go to one handler: wait what GitHub asks, within the bound, then let the plugin retry.
    const onLimit = async (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number): Promise<boolean> => {
      if (retryCount >= patience.retries || retryAfter > patience.maxWaitSeconds) return false;
      await patience.sleep(retryAfter * 1000);
      return true;
    };
    // Each client paces its own writes (the plugin's default groups are shared by the whole process).
    const group = (minTime: number) => new Bottleneck.Group({ maxConcurrent: 1, minTime: patience.paceWrites ? minTime : 0 });
    this.client = new ForgeOctokit({
      auth: o.token,
      userAgent: 'g7-factory',
      ...(o.baseUrl ? { baseUrl: o.baseUrl.replace(/\/$/, '') } : {}),
      // 429 and 403 are the throttling plugin's: the retry plugin would retry a rate limit on its own clock.
      retry: { retries: patience.retries, retryAfterBaseValue: patience.backoffMs, doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451] },
      throttle: {
        onRateLimit: onLimit as never,
        onSecondaryRateLimit: onLimit as never,
        // The waiting is `onLimit`'s (so a test's virtual clock sees it); the plugin retries at once after it.
        retryAfterBaseValue: 0,
        write: group(1000),
        notifications: group(3000),
        search: group(2000),
      },
    });
  }

  /** Runs one API call; a refusal becomes a ForgeError naming the request. */
  private async call<T>(request: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw forgeError(request, err, this.patience);
    }
  }

  async openDraftPullRequest(pr: DraftPullRequest): Promise<PullRequest> {
    const created = await this.call('POST /repos/{owner}/{repo}/pulls', () =>
      this.client.request('POST /repos/{owner}/{repo}/pulls', { ...this.repo, title: pr.title, head: pr.head, base: pr.base, body: pr.body, draft: true }),
    );
    return toPullRequest(created.data as RestPull);
  }

  async addLabels(number: number, labels: string[]): Promise<string[]> {
    const r = await this.call('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', () =>
      this.client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/labels', { ...this.repo, issue_number: number, labels }),
    );
    return r.data.map((l) => l.name);
  }

  async findOpenPullRequest(head: string, base: string): Promise<PullRequest | undefined> {
    const r = await this.call('GET /repos/{owner}/{repo}/pulls', () =>
      this.client.request('GET /repos/{owner}/{repo}/pulls', { ...this.repo, state: 'open', head: `${this.repo.owner}:${head}`, base, per_page: 1 }),
    );
    const first = r.data[0];
    return first ? toPullRequest(first as RestPull) : undefined;
  }

  async getPullRequest(number: number): Promise<PullRequest> {
    const r = await this.call('GET /repos/{owner}/{repo}/pulls/{pull_number}', () => this.client.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...this.repo, pull_number: number }));
    return toPullRequest(r.data as RestPull);
  }

  async listOpenPullRequests(): Promise<PullRequest[]> {
    const all = await this.call('GET /repos/{owner}/{repo}/pulls', () =>
      this.client.paginate('GET /repos/{owner}/{repo}/pulls', { ...this.repo, state: 'open', sort: 'created', direction: 'desc', per_page: 100 }),
    );
    return (all as RestPull[]).map(toPullRequest);
  }

  async searchPullRequests(headPrefix: string): Promise<FoundPull[]> {
    const q = `repo:${this.repo.owner}/${this.repo.repo} is:pr head:${headPrefix}`;
    // Page by page, not paginate(): the search answer now carries `search_type` beside its items, which
    // plugin-paginate-rest 16 takes for the list and breaks on. Search stops at 1000 results.
    const items = [];
    for (let page = 1; page <= 10; page++) {
      const r = await this.call('GET /search/issues', () => this.client.request('GET /search/issues', { q, sort: 'created', order: 'desc', per_page: 100, page }));
      items.push(...r.data.items);
      if (r.data.items.length < 100 || items.length >= r.data.total_count) break;
    }
    return items.map((i) => ({
      number: i.number,
      title: i.title,
      state: i.state === 'closed' ? 'closed' : 'open',
      labels: i.labels.map((l) => l.name ?? '').filter(Boolean),
      mergedAt: i.pull_request?.merged_at ?? null,
      createdAt: i.created_at,
      closedAt: i.closed_at,
      url: i.html_url,
      author: i.user?.login ?? '',
      body: i.body ?? '',
    }));
  }

  async removeLabel(number: number, label: string): Promise<void> {
    try {
      await this.client.request('DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', { ...this.repo, issue_number: number, name: label });
    } catch (err) {
      // Someone (or an earlier run) removed it already: the goal is reached.
      if ((err as { status?: number }).status === 404 && /label does not exist/i.test((err as { response?: { data?: { message?: string } } }).response?.data?.message ?? '')) return;
      throw forgeError('DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}', err, this.patience);
    }
  }

  async disableAutoMerge(pr: Pick<PullRequest, 'nodeId' | 'number'>): Promise<void> {
    const mutation = `mutation DisableAutoMerge($pullRequestId: ID!) {
  disablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId }) {
    pullRequest { number autoMergeRequest { enabledAt } }
  }
}`;
    const r = await this.call('graphql disablePullRequestAutoMerge', () =>
      this.client.graphql<{ disablePullRequestAutoMerge: { pullRequest: { number: number; autoMergeRequest: unknown } | null } | null }>(mutation, { pullRequestId: pr.nodeId }),
    );
    const after = r.disablePullRequestAutoMerge?.pullRequest;
    if (!after || after.autoMergeRequest !== null)
      throw new ForgeError('graphql disablePullRequestAutoMerge', 200, `auto-merge of #${pr.number} is still enabled after the mutation`, 'disable it by hand on the pull request page');
  }

  async comment(number: number, body: string): Promise<string> {
    const r = await this.call('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', () =>
      this.client.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...this.repo, issue_number: number, body }),
    );
    return r.data.html_url;
  }

  async listComments(number: number): Promise<IssueComment[]> {
    const all = await this.call('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', () =>
      this.client.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...this.repo, issue_number: number, per_page: 100 }),
    );
    return all.map((c) => ({ id: Number(c.id), body: c.body ?? '', author: c.user?.login ?? '', authorType: c.user?.type ?? '' }));
  }

  async updateComment(id: number, body: string): Promise<void> {
    await this.call('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', () => this.client.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { ...this.repo, comment_id: id, body }));
  }

  async listPullRequestCommits(number: number): Promise<PullCommit[]> {
    const all = await this.call('GET /repos/{owner}/{repo}/pulls/{pull_number}/commits', () =>
      this.client.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/commits', { ...this.repo, pull_number: number, per_page: 100 }),
    );
    return all.map((c) => ({ sha: c.sha, message: c.commit.message }));
  }

  async createCheckRun(run: CheckRun): Promise<string> {
    const annotations = (run.annotations ?? []).map((a) => ({
      path: a.path,
      start_line: a.startLine,
      end_line: a.endLine ?? a.startLine,
      // GitHub accepts columns only on a single line.
      ...(a.startColumn !== undefined && (a.endLine ?? a.startLine) === a.startLine ? { start_column: a.startColumn, end_column: a.endColumn ?? a.startColumn } : {}),
      annotation_level: a.level,
      message: a.message,
      ...(a.title ? { title: a.title } : {}),
    }));
    const summary = run.summary.length > MAX_SUMMARY ? run.summary.slice(0, MAX_SUMMARY - 40) + '\n\n… (cut at GitHub\'s size limit)' : run.summary;
    const output = (batch: typeof annotations) => ({ title: run.title, summary, annotations: batch });
    const created = await this.call('POST /repos/{owner}/{repo}/check-runs', () =>
      this.client.request('POST /repos/{owner}/{repo}/check-runs', {
        ...this.repo, name: run.name, head_sha: run.headSha, status: 'completed', conclusion: run.conclusion, completed_at: new Date().toISOString(),
        ...(run.detailsUrl ? { details_url: run.detailsUrl } : {}),
        output: output(annotations.slice(0, ANNOTATIONS_PER_REQUEST)),
      }),
    );
    // GitHub takes 50 annotations a request; the rest go in updates of the same run.
    for (let i = ANNOTATIONS_PER_REQUEST; i < annotations.length; i += ANNOTATIONS_PER_REQUEST) {
      const batch = annotations.slice(i, i + ANNOTATIONS_PER_REQUEST);
      await this.call('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', () =>
        this.client.request('PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}', { ...this.repo, check_run_id: created.data.id, output: output(batch) }),
      );
    }
    return created.data.html_url ?? created.data.url;
  }

  async dispatchWorkflow(d: WorkflowDispatch): Promise<string | undefined> {
    // 204 with no body; 200 with the run's id and URLs when asked for them (return_run_details). Either starts the run.
    const r = await this.call('POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', () =>
      this.client.request('POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', { ...this.repo, workflow_id: d.workflow, ref: d.ref, inputs: d.inputs, return_run_details: true }),
    );
    const body = r.data as { html_url?: string } | undefined;
    return r.status === 200 && body?.html_url ? body.html_url : undefined;
  }
}
