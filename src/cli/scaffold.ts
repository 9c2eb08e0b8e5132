// The GitHub files of a factory: workflows, CODEOWNERS, branch protection and the ruleset. One source for
// both renderings: this repository's own (`uses: ./action`, checked by a test against .github/) and the
// ones `g7 init` writes into another repository (the action by reference).

import { DEFAULT_NIGHT, nightCron, type Night } from '../ssot/night.js';

/** Where the action comes from: this repository's folder, or `owner/repo/action@ref` from another one. */
export type ActionSource = { local: true } | { local: false; repo: string; ref: string };

/**
 * Where `g7 init` points new factories by default: the release of the action that ships with this g7 (its
 * version tag), never a branch; `--action owner/repo/action@ref` overrides it (a full commit SHA pins hardest).
 */
export const defaultAction = (version: string) => `g7-factory/g7-factory/action@v${version}`;

/** Why a ref is not a pin (a branch moves under a job that is handed GEMINI_API_KEY), or undefined. */
export function floatingRef(ref: string): string | undefined {
  if (/^[0-9a-f]{40}$/.test(ref)) return undefined;
  if (/^v?\d+(\.\d+){0,2}([-+][\w.-]+)?$/.test(ref)) return undefined;
  return `"${ref}" is neither a release tag (v1.2.3) nor a full commit SHA: if it is a branch, every job runs whatever it holds that night, with GEMINI_API_KEY in hand`;
}

export function parseActionRef(ref: string): ActionSource {
  const m = /^([\w.-]+\/[\w.-]+)\/action@([\w./-]+)$/.exec(ref.trim());
  if (!m) throw new Error(`an action reference looks like owner/repo/action@ref, got "${ref}"`);
  return { local: false, repo: m[1]!, ref: m[2]! };
}

const uses = (a: ActionSource) => (a.local ? './action' : `${a.repo}/action@${a.ref}`);

const APP_TOKEN_STEP = `      - name: the factory's App token
        id: app
        if: \${{ vars.G7_APP_ID != '' }}
        uses: actions/create-github-app-token@v1
        with:
          app-id: \${{ vars.G7_APP_ID }}
          private-key: \${{ secrets.G7_APP_PRIVATE_KEY }}
`;

/** The last step of a job whose `g7` step has id g7: where the factory stands, in one log line. */
const OUTCOME_STEP = `      - name: outcome
        if: always()
        env:
          RUN_ID: \${{ steps.g7.outputs.run-id }}
          STATE: \${{ steps.g7.outputs.state }}
          PASSED: \${{ steps.g7.outputs.passed }}
          FAILED: \${{ steps.g7.outputs.failed }}
        run: echo "run \${RUN_ID:-none} → \${STATE:-?} (\${PASSED:-0} passed, \${FAILED:-0} failed)"
`;

/**
 * GitHub keeps one running and at most one pending run per concurrency group, and a newer pending run replaces
 * (cancels) the one already waiting. The night's own runs (the cron, the runs its trucks chain) share a group:
 * the next job takes the next truck, whichever it is. A person's dispatch (chain 0) has a group of its own, so
 * no scheduled or chained run can replace it while it waits; the WAIT_STEP serialises the two groups.
 */
const CONCURRENCY = `concurrency:
  # The night's runs (schedule, chained) replace each other while they wait; a person's dispatch is never replaced.
  group: g7-factory-\${{ github.event_name == 'workflow_dispatch' && inputs.chain == 0 && 'person' || 'night' }}
  cancel-in-progress: false
`;

/**
 * The two concurrency groups run at once, so the first step of every factory job waits while an earlier run of
 * factory.yml or factory-lanes.yml (a smaller run id) is in progress: never two runs on the SSOT at once, and
 * never a deadlock (the earlier run waits for nobody later). Needs `actions: read` (the jobs have write).
 */
const WAIT_STEP = `      - name: wait for the factory's earlier runs
        timeout-minutes: 60
        env:
          GH_TOKEN: \${{ github.token }}
        run: |
          earlier() { gh api "repos/$GITHUB_REPOSITORY/actions/runs?status=in_progress&per_page=100" --jq '[.workflow_runs[] | select(.id < ($ENV.GITHUB_RUN_ID | tonumber) and (.path | startswith(".github/workflows/factory")))] | length'; }
          while [ "$(earlier)" != "0" ]; do echo "an earlier run of the factory is in progress: waiting for it"; sleep 30; done
`;

/** Uploads the git bundle of evidence the remote took on no branch (the g7 step, id g7, wrote it), as factory.yml does. */
const keepStep = (suffix: string) => `      # The remote took the evidence neither on the branch nor on g7/unpushed/<run>: its commits would go with
      # this runner. The g7 step wrote them as a git bundle; its log and its unpushed-apply output say how to land it.
      - name: keep the unpushed evidence
        if: \${{ failure() && steps.g7.outputs.unpushed-bundle != '' }}
        uses: actions/upload-artifact@v4
        with:
          name: g7-unpushed-\${{ github.run_id }}-\${{ github.run_attempt }}${suffix}
          path: \${{ steps.g7.outputs.unpushed-bundle }}
          if-no-files-found: error
`;

const IDENTITY = `          git config user.name "g7-factory[bot]"
          git config user.email "g7-factory@users.noreply.github.com"
`;

/** The truck workflow; its schedule is the night window of factory.yaml (`night`), as UTC cron. */
export function factoryWorkflow(a: ActionSource, night: Night = DEFAULT_NIGHT): string {
  return `name: G7 factory
on:
  schedule:
    # The night of ssot/factory.yaml (${night.start}–${night.end} ${night.tz}) in UTC, never on the hour (GitHub's
    # busiest minute): written by g7 init; run it again after changing the night (delete this file first).
    - cron: "${nightCron(night)}"
  workflow_dispatch:
    inputs:
      command:
        description: What to run
        type: choice
        options: [run, plan-compile, pack, status, verify, resume]
        default: run
      truck:
        description: Which truck of the newest day (next = the one not finished yet)
        type: choice
        options: [next, A, B]
        default: next
      resume:
        description: Run g7 resume first (after FAIL_STOP, once the cause is fixed)
        type: boolean
        default: false
      dry-run:
        description: Write the files but do not commit or push
        type: boolean
        default: false
      lanes:
        description: Lanes to run, comma separated, 1-8 (empty = all)
        type: string
        default: ""
      chain:
        description: Set by the factory when a truck that left work starts the next run (its link in tonight's chain); leave 0
        type: number
        default: 0
${CONCURRENCY}permissions:
  contents: write # commit and push the evidence
  checks: write # the check run on the evidence commit
  actions: write # a truck that leaves work inside the night starts the next run of this workflow (chaining)
jobs:
  truck:
    runs-on: ubuntu-latest
    timeout-minutes: 120
    steps:
${WAIT_STEP}      # With the default branch protected (.github/rulesets/main.json), only the factory's GitHub App may
      # push to it: GITHUB_TOKEN cannot be a ruleset bypass actor. Without the App, the workflow token pushes.
${APP_TOKEN_STEP}      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          token: \${{ steps.app.outputs.token || github.token }}
      - name: git identity for evidence commits
        run: |
${IDENTITY}      - name: g7 resume
        if: \${{ github.event_name == 'workflow_dispatch' && inputs.resume }}
        uses: ${uses(a)}
        with:
          command: resume
          dry-run: \${{ inputs.dry-run || false }}
      - name: g7
        id: g7
        uses: ${uses(a)}
        with:
          command: \${{ inputs.command || 'run' }}
          truck: \${{ inputs.truck != 'next' && inputs.truck || '' }}
          lanes: \${{ inputs.lanes }}
          dry-run: \${{ inputs.dry-run || false }}
          chain-link: \${{ inputs.chain || 0 }}
          gemini-api-key: \${{ secrets.GEMINI_API_KEY }}
      # The remote took the evidence neither on the branch nor on g7/unpushed/<run> (an expired token, no
      # permission): its commits would go with this runner. The g7 step wrote them as a git bundle; the
      # step's log and its unpushed-apply output say how to land it.
      - name: keep the unpushed evidence
        if: \${{ failure() && steps.g7.outputs.unpushed-bundle != '' }}
        uses: actions/upload-artifact@v4
        with:
          name: g7-unpushed-\${{ github.run_id }}-\${{ github.run_attempt }}
          path: \${{ steps.g7.outputs.unpushed-bundle }}
          if-no-files-found: error
${OUTCOME_STEP}`;
}

/**
 * One truck as a job matrix (README "The lane matrix"): a prepare job numbers the run and plans its lanes, a
 * job per lane runs it on its own runner, and the merge job (always, even when a lane failed) seals the run.
 */
export function factoryLanesWorkflow(a: ActionSource): string {
  const checkout = `${APP_TOKEN_STEP}      # The branch as it is now, not the commit that started the workflow: the prepare job pushed since.
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.ref_name }}
          fetch-depth: 0
          token: \${{ steps.app.outputs.token || github.token }}
      - name: git identity for evidence commits
        run: |
${IDENTITY}`;
  return `name: G7 factory lanes
# One truck, its lanes on parallel runners. Dispatch it by hand, or move the schedule of factory.yml here to
# run every truck this way. Each lane writes only its own part of the run (ssot/runs/run_NNNN/lanes/<lane>/)
# and takes its share of the model's rate limits and of the budgets.
on:
  workflow_dispatch:
    inputs:
      truck:
        description: Which truck of the newest day (next = the one not finished yet)
        type: choice
        options: [next, A, B]
        default: next
      lanes:
        description: Only these lanes, comma separated, 1-8 (empty = every lane with cards)
        type: string
        default: ""
      chain:
        description: Set by the factory when a lane run that left work starts the next one (its link in tonight's chain); leave 0
        type: number
        default: 0
${CONCURRENCY}permissions:
  contents: write # commit and push the evidence
  checks: write # the check runs on the evidence commits
  actions: write # a merge that leaves work inside the night starts the next lane run (chaining)
jobs:
  prepare:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    outputs:
      run-id: \${{ steps.g7.outputs.run-id }}
      lanes: \${{ steps.g7.outputs.lanes }}
    steps:
${WAIT_STEP}${checkout}      - name: g7 lanes prepare
        id: g7
        uses: ${uses(a)}
        with:
          command: prepare-lanes
          truck: \${{ inputs.truck != 'next' && inputs.truck || '' }}
          lanes: \${{ inputs.lanes }}
          chain-link: \${{ inputs.chain || 0 }}
          gemini-api-key: \${{ secrets.GEMINI_API_KEY }}
${keepStep('-prepare')}  lane:
    needs: prepare
    if: \${{ needs.prepare.outputs.lanes != '' && needs.prepare.outputs.lanes != '[]' }}
    runs-on: ubuntu-latest
    timeout-minutes: 120
    strategy:
      # A lane that fails stops only itself: the others finish, and the merge accounts for every card.
      fail-fast: false
      matrix:
        lane: \${{ fromJSON(needs.prepare.outputs.lanes) }}
    steps:
${checkout}      - name: g7 lanes run
        id: g7
        uses: ${uses(a)}
        with:
          command: lane
          run-id: \${{ needs.prepare.outputs.run-id }}
          lanes: \${{ matrix.lane }}
          gemini-api-key: \${{ secrets.GEMINI_API_KEY }}
${keepStep('-lane-${{ matrix.lane }}')}  merge:
    needs: [prepare, lane]
    # Always once the run departed, also when a lane failed or was cancelled: its cards go to the next run.
    if: \${{ always() && needs.prepare.outputs.lanes != '' }}
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
${checkout}      - name: g7 lanes merge
        id: g7
        uses: ${uses(a)}
        with:
          command: merge-lanes
          run-id: \${{ needs.prepare.outputs.run-id }}
          chain-link: \${{ inputs.chain || 0 }}
${keepStep('-merge')}${OUTCOME_STEP}`;
}

/** The activity types of ai-policy.yml and its sweep's cron; src/policy/auto-merge.ts holds what the check is tested on. */
export function policyWorkflow(a: ActionSource, activities: readonly string[], sweepCron: string): string {
  const types = `[${activities.join(', ')}]`;
  const checkout = a.local
    ? `      # The base branch's code, never the pull request's: the check must not run what it checks.
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha || github.sha }}
          persist-credentials: false
          sparse-checkout: action
`
    : '';
  return `name: AI policy
# block-coreloop-auto-merge: a coreloop pull request is merged by a person, never automatically. The required
# check (.github/rulesets/main.json) is the job named block-coreloop-auto-merge: the pull_request_target half,
# which runs the base branch's workflow with a token that can write even for a fork's pull request, and the
# merge_group run in a merge queue. The pull_request half runs the pull request's own copy of this file, so
# it is named apart and only reports; both halves decide the same, whichever runs last.
on:
  pull_request:
    types: ${types}
  pull_request_target:
    types: ${types}
  # A merge queue waits for its required checks on the queue's commit.
  merge_group:
    types: [checks_requested]
  # Auto-merge or a label put on by another workflow's GITHUB_TOKEN starts no workflow: the sweep finds it.
  schedule:
    - cron: '${sweepCron}'
  workflow_dispatch:
permissions:
  contents: read
  pull-requests: write # remove the label, turn auto-merge off
  issues: write # comment
jobs:
  # No job-level \`if:\`, on purpose: a skipped job counts as a passing required check. The action decides.
  block-coreloop-auto-merge:
    name: \${{ github.event_name == 'pull_request' && 'block-coreloop-auto-merge (pull request copy)' || 'block-coreloop-auto-merge' }}
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
${checkout}      - uses: ${uses(a)}
        with:
          command: policy
          github-token: \${{ github.token }}
`;
}

export function coreloopWorkflow(a: ActionSource): string {
  // The g7 CLI runs coreloop: from this repository's checkout, or from the action's repository at its ref.
  const g7 = a.local ? './bin/g7.mjs' : 'node .g7/bin/g7.mjs';
  const install = a.local
    ? `      - run: npm ci --no-audit --no-fund
`
    : `      - uses: actions/checkout@v4
        with:
          repository: ${a.repo}
          ref: ${a.ref}
          path: .g7
          persist-credentials: false
      - run: npm ci --no-audit --no-fund --prefix .g7
`;
  const setup = `      - uses: actions/setup-node@v4
        with:
          node-version: 24
${install}`;
  return `name: G7 coreloop
# Nightly: mine the audit log for candidates (files for a person to read). Opening a draft pull request is
# by hand (workflow_dispatch with a candidate) until \`g7 coreloop status\` says the stability gate is open
# (30 consecutive clean Guide merges, no revert in 3 months, no docstring shape regression). Merging is
# always by a person: ai-policy.yml fails any coreloop pull request that asks for auto-merge.
on:
  schedule:
    - cron: "41 4 * * *"
  workflow_dispatch:
    inputs:
      candidate:
        description: A candidates file (ssot/audit/candidates/DATE-candidates.json) to promote from; empty = mine only
        type: string
        default: ""
      id:
        description: The candidate to promote (cand-…, a Guide bullet) or refine (cx-…, a Caveat)
        type: string
        default: ""
concurrency:
  group: g7-coreloop
  cancel-in-progress: false
permissions:
  contents: write # commit the candidates; push the skill/docstring-* branch
  pull-requests: write # the draft pull request (dispatch only)
jobs:
  pattern:
    if: \${{ github.event_name == 'schedule' || inputs.candidate == '' }}
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      # The candidates are committed to the protected default branch: as the factory's App (see factory.yml).
      # The whole history: the stability gate counts merges and reverts of coreloop commits in it.
${APP_TOKEN_STEP}      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          token: \${{ steps.app.outputs.token || github.token }}
${setup}      # GitHub's coreloop pull requests: one closed without merging is not proposed again. --open-prs does
      # nothing until \`g7 coreloop status\` says tier 2; from then on it promotes each Guide candidate as a
      # dispatched promote would (reproduction check, branch, draft pull request).
      - name: g7 coreloop pattern
        env:
          GEMINI_API_KEY: \${{ secrets.GEMINI_API_KEY }}
          GITHUB_TOKEN: \${{ steps.app.outputs.token || secrets.G7_PR_TOKEN || github.token }}
          # Which of the three it is: a pull request opened with GITHUB_TOKEN starts no checks, and g7 warns.
          G7_TOKEN_SOURCE: \${{ steps.app.outputs.token && 'app' || secrets.G7_PR_TOKEN && 'pat' || 'github-token' }}
        run: |
${IDENTITY}          ${g7} coreloop pattern --since 30d --min-repeat 3 --min-unique-questions 3 --min-chunk-len 400 --sanitize --open-prs
      - name: commit the candidates
        run: |
${IDENTITY}          git add ssot/audit
          if git diff --cached --quiet; then echo "no new candidates"; exit 0; fi
          git commit -q -m "g7: coreloop pattern candidates"
          git push origin "HEAD:\${GITHUB_REF_NAME}"
  promote:
    if: \${{ github.event_name == 'workflow_dispatch' && inputs.candidate != '' }}
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      # A pull request opened with GITHUB_TOKEN starts no workflow (CI and ai-policy would never report on
      # it): push and open it as the factory's GitHub App, or with a PAT (G7_PR_TOKEN) when there is no App.
${APP_TOKEN_STEP}      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          token: \${{ steps.app.outputs.token || secrets.G7_PR_TOKEN || github.token }}
${setup}      # The reproduction check replays recorded cases (arm B with the change) through Gemini; then g7 pushes the
      # skill/docstring-* branch and opens the draft pull request itself. A Caveat (cx-…) goes through refine.
      - name: g7 coreloop promote (or refine)
        env:
          CANDIDATE: \${{ inputs.candidate }}
          ID: \${{ inputs.id }}
          GEMINI_API_KEY: \${{ secrets.GEMINI_API_KEY }}
          GITHUB_TOKEN: \${{ steps.app.outputs.token || secrets.G7_PR_TOKEN || github.token }}
          # Which of the three it is: a pull request opened with GITHUB_TOKEN starts no checks, and g7 warns.
          G7_TOKEN_SOURCE: \${{ steps.app.outputs.token && 'app' || secrets.G7_PR_TOKEN && 'pat' || 'github-token' }}
        run: |
${IDENTITY}          case "$ID" in cx-*) phase=refine ;; *) phase=promote ;; esac
          ${g7} coreloop "$phase" --candidate "$CANDIDATE" --id "$ID" --confirm
`;
}

/**
 * The default branch's ruleset: a person approves (one review, code owners), the required checks pass, and
 * the factory's GitHub App (actor_id: its App ID) may push evidence past all of it.
 */
export function ruleset(appId: number, requiredChecks: readonly string[]): string {
  const r = {
    name: 'main: people merge, the factory pushes evidence',
    target: 'branch',
    enforcement: 'active',
    conditions: { ref_name: { include: ['~DEFAULT_BRANCH'], exclude: [] } },
    bypass_actors: [{ actor_id: appId, actor_type: 'Integration', bypass_mode: 'always' }],
    rules: [
      { type: 'deletion' },
      { type: 'non_fast_forward' },
      { type: 'pull_request', parameters: { required_approving_review_count: 1, require_code_owner_review: true, dismiss_stale_reviews_on_push: true, require_last_push_approval: false, required_review_thread_resolution: false } },
      { type: 'required_status_checks', parameters: { strict_required_status_checks_policy: false, required_status_checks: requiredChecks.map((context) => ({ context })) } },
    ],
  };
  return JSON.stringify(r, null, 2) + '\n';
}

/** Classic branch protection, for a repository that does not use rulesets (it has no bypass for the factory). */
export function branchProtection(requiredChecks: readonly string[]): string {
  const p = {
    required_status_checks: { strict: true, contexts: requiredChecks },
    enforce_admins: false,
    required_pull_request_reviews: { required_approving_review_count: 1, require_code_owner_reviews: true, dismiss_stale_reviews: true },
    restrictions: null,
    allow_force_pushes: false,
    allow_deletions: false,
  };
  return JSON.stringify(p, null, 2) + '\n';
}

export function codeowners(owner: string): string {
  return `# Every change needs a review by an owner (the ruleset requires code-owner review); the skill docstrings
# the worker is prompted with, and the factory's rules, most of all.
*             ${owner}
/ssot/skills/ ${owner}
/ssot/rules/  ${owner}
/.github/     ${owner}
`;
}
