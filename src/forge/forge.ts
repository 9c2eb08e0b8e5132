// The forge: everything the product asks of GitHub, behind one interface. The policy check, coreloop's
// draft pull requests and its stability gate, and the action's check runs all go through it; only
// `octokit.ts` speaks to the API, so tests swap the whole GitHub side for a loopback fake.

export interface RepoRef {
  owner: string;
  repo: string;
}

/** A pull request as the product needs it: the fields policy and coreloop decide on, nothing else. */
export interface PullRequest {
  number: number;
  /** The GraphQL global id (for `disablePullRequestAutoMerge`). */
  nodeId: string;
  title: string;
  state: 'open' | 'closed';
  draft: boolean;
  headRef: string;
  headSha: string;
  baseRef: string;
  labels: string[];
  /** Auto-merge is enabled (GitHub merges by itself once the requirements are met). */
  autoMerge: boolean;
  mergedAt: string | null;
  createdAt: string;
  closedAt: string | null;
  url: string;
  author: string;
  /** The description (Markdown); empty when there is none. */
  body: string;
}

export interface DraftPullRequest {
  title: string;
  /** The branch with the change; it must already be pushed. */
  head: string;
  base: string;
  body: string;
}

/** A pull request as search finds it: no branch names, no auto-merge (search does not show them). */
export type FoundPull = Pick<PullRequest, 'number' | 'title' | 'state' | 'labels' | 'mergedAt' | 'createdAt' | 'closedAt' | 'url' | 'author' | 'body'>;

/** A commit of a pull request: what the policy reads to know whose change it is. */
export interface PullCommit {
  sha: string;
  /** The whole message: subject, body and trailers. */
  message: string;
}

export interface IssueComment {
  id: number;
  body: string;
  /** The login of whoever wrote it, e.g. `github-actions[bot]`. */
  author: string;
  /** GitHub's account type: `Bot` for an App or a workflow token, `User` for a person. */
  authorType: string;
}

export interface CheckAnnotation {
  /** Repository-relative path of a file that exists in the commit the check run is for. */
  path: string;
  startLine: number;
  endLine?: number;
  startColumn?: number;
  endColumn?: number;
  level: 'notice' | 'warning' | 'failure';
  message: string;
  title?: string;
}

export interface CheckRun {
  name: string;
  headSha: string;
  conclusion: 'success' | 'failure' | 'neutral' | 'cancelled' | 'skipped' | 'timed_out' | 'action_required';
  title: string;
  /** Markdown, at most 65535 characters (GitHub's limit; longer is cut with a note). */
  summary: string;
  annotations?: CheckAnnotation[];
  detailsUrl?: string;
}

/** A run of a workflow started through its `workflow_dispatch` trigger (the chaining of a night's trucks). */
export interface WorkflowDispatch {
  /** The workflow's file name, e.g. factory.yml. */
  workflow: string;
  /** The branch (or tag) whose copy of the workflow runs. */
  ref: string;
  /** Inputs the workflow declares, as strings; undeclared ones are refused (422). */
  inputs: Record<string, string>;
}

export interface Forge {
  readonly repo: RepoRef;
  /** Opens a DRAFT pull request. Never asks for auto-merge. */
  openDraftPullRequest(pr: DraftPullRequest): Promise<PullRequest>;
  /** Adds labels to a pull request (or issue); returns all its labels. */
  addLabels(number: number, labels: string[]): Promise<string[]>;
  /** The open pull request from this branch of the repository into `base`, if there is one. */
  findOpenPullRequest(head: string, base: string): Promise<PullRequest | undefined>;
  getPullRequest(number: number): Promise<PullRequest>;
  /** Every open pull request, newest first, across all pages (the sweep: its cost follows what is open). */
  listOpenPullRequests(): Promise<PullRequest[]>;
  /**
   * Pull requests whose head branch begins with `headPrefix`, through GitHub's search (cost grows with the
   * matches, not with the repository's pull requests; at most 1000, search's own cap), newest first.
   */
  searchPullRequests(headPrefix: string): Promise<FoundPull[]>;
  /** Removes a label from a pull request; a label that is already gone is not an error. */
  removeLabel(number: number, label: string): Promise<void>;
  /** Turns auto-merge off (GraphQL `disablePullRequestAutoMerge`). */
  disableAutoMerge(pr: Pick<PullRequest, 'nodeId' | 'number'>): Promise<void>;
  /** Comments on a pull request (or issue); returns the comment's URL. */
  comment(number: number, body: string): Promise<string>;
  /** Every comment of a pull request (or issue), oldest first. */
  listComments(number: number): Promise<IssueComment[]>;
  updateComment(id: number, body: string): Promise<void>;
  /** The commits of a pull request, oldest first (GitHub lists at most 250). */
  listPullRequestCommits(number: number): Promise<PullCommit[]>;
  /** A check run with annotations on files of that commit; returns its URL. */
  createCheckRun(run: CheckRun): Promise<string>;
  /** Starts a workflow run (needs `actions: write`); its URL when GitHub says it (newer API versions), else undefined. */
  dispatchWorkflow(d: WorkflowDispatch): Promise<string | undefined>;
}

/** A request GitHub refused or could not answer, with what a person can do about it. The only error the forge throws. */
export class ForgeError extends Error {
  constructor(
    /** e.g. `DELETE /repos/{owner}/{repo}/issues/{issue_number}/labels/{name}` or `graphql disablePullRequestAutoMerge`. */
    readonly request: string,
    /** The HTTP status; 0 when GitHub was not reached. */
    readonly status: number,
    message: string,
    readonly hint: string | undefined,
    /** A rate limit: how long GitHub asked to wait (retry-after, or until the limit resets), in seconds. */
    readonly retryAfterSeconds?: number,
  ) {
    super(`${request}: ${status ? `${status} ` : ''}${message}${hint ? ` (${hint})` : ''}`);
    this.name = 'ForgeError';
  }

  /** 5xx, rate limits and unreachable networks can clear by themselves; a refusal of the request cannot. */
  get transient(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500 || this.retryAfterSeconds !== undefined;
  }
}

export function parseRepository(fullName: string): RepoRef {
  const m = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(fullName.trim());
  if (!m) throw new Error(`a repository is "owner/name", got "${fullName}"`);
  return { owner: m[1]!, repo: m[2]! };
}
