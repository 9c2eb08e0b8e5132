import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a as b}from"./chunk-CTGN5SUO.mjs";import{b as k}from"./chunk-NICFGGVX.mjs";import"./chunk-PQRHRS2M.mjs";import{a as y}from"./chunk-LTUNCCK3.mjs";import{c as _}from"./chunk-5X3DGEQJ.mjs";import"./chunk-TVJVP6MT.mjs";import{e as c}from"./chunk-Q4KT5GYC.mjs";import"./chunk-2PYAGR7Y.mjs";import s from"node:path";import{link as x,mkdir as q,unlink as S,writeFile as R}from"node:fs/promises";import{randomBytes as C}from"node:crypto";var $="g7-factory/g7-factory/action@main";function I(e){let t=/^([\w.-]+\/[\w.-]+)\/action@([\w./-]+)$/.exec(e.trim());if(!t)throw new Error(`an action reference looks like owner/repo/action@ref, got "${e}"`);return{local:!1,repo:t[1],ref:t[2]}}var h=e=>e.local?"./action":`${e.repo}/action@${e.ref}`,m=`      - name: the factory's App token
        id: app
        if: \${{ vars.G7_APP_ID != '' }}
        uses: actions/create-github-app-token@v1
        with:
          app-id: \${{ vars.G7_APP_ID }}
          private-key: \${{ secrets.G7_APP_PRIVATE_KEY }}
`,u=`          git config user.name "g7-factory[bot]"
          git config user.email "g7-factory@users.noreply.github.com"
`;function v(e){return`name: G7 factory
on:
  schedule:
    # One truck per job, a few times a night (UTC), never on the hour (the hour is GitHub's busiest minute).
    - cron: "23 15,17,19,21 * * *"
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
concurrency:
  # Never two trucks of one SSOT at once. GitHub keeps one running and at most one pending run per group: a
  # newer pending run replaces (cancels) the one already waiting; the running one is never cancelled. That
  # is what a factory wants: the next job takes the next truck, whichever job it is.
  group: g7-factory
  cancel-in-progress: false
permissions:
  contents: write # commit and push the evidence
  checks: write # the check run on the evidence commit
jobs:
  truck:
    runs-on: ubuntu-latest
    timeout-minutes: 120
    steps:
      # With the default branch protected (.github/rulesets/main.json), only the factory's GitHub App may
      # push to it: GITHUB_TOKEN cannot be a ruleset bypass actor. Without the App, the workflow token pushes.
${m}      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          token: \${{ steps.app.outputs.token || github.token }}
      - name: git identity for evidence commits
        run: |
${u}      - name: g7 resume
        if: \${{ github.event_name == 'workflow_dispatch' && inputs.resume }}
        uses: ${h(e)}
        with:
          command: resume
      - name: g7
        id: g7
        uses: ${h(e)}
        with:
          command: \${{ inputs.command || 'run' }}
          truck: \${{ inputs.truck != 'next' && inputs.truck || '' }}
          lanes: \${{ inputs.lanes }}
          dry-run: \${{ inputs.dry-run || false }}
          gemini-api-key: \${{ secrets.GEMINI_API_KEY }}
      - name: outcome
        if: always()
        env:
          RUN_ID: \${{ steps.g7.outputs.run-id }}
          STATE: \${{ steps.g7.outputs.state }}
          PASSED: \${{ steps.g7.outputs.passed }}
          FAILED: \${{ steps.g7.outputs.failed }}
        run: echo "run \${RUN_ID:-none} \u2192 \${STATE:-?} (\${PASSED:-0} passed, \${FAILED:-0} failed)"
`}function A(e,t){let r=`[${t.join(", ")}]`,o=e.local?`      # The base branch's code, never the pull request's: the check must not run what it checks.
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.base.sha }}
          persist-credentials: false
          sparse-checkout: action
`:"";return`name: AI policy
# block-coreloop-auto-merge: a coreloop pull request is merged by a person, never automatically. Make this
# job a required status check of the default branch (.github/rulesets/main.json does).
on:
  pull_request:
    types: ${r}
  # pull_request_target runs with a token that can write even for a pull request from a fork, and runs the
  # base branch's workflow: the check cannot be switched off by the pull request it checks.
  pull_request_target:
    types: ${r}
permissions:
  contents: read
  pull-requests: write # remove the label, turn auto-merge off
  issues: write # comment
jobs:
  # No job-level \`if:\`, on purpose: a skipped job counts as a passing required check. The action decides.
  block-coreloop-auto-merge:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
${o}      - uses: ${h(e)}
        with:
          command: policy
          github-token: \${{ github.token }}
`}function E(e){let t=e.local?"./bin/g7.mjs":"node .g7/bin/g7.mjs",o=`      - uses: actions/setup-node@v4
        with:
          node-version: 24
${e.local?`      - run: npm ci --no-audit --no-fund
`:`      - uses: actions/checkout@v4
        with:
          repository: ${e.repo}
          ref: ${e.ref}
          path: .g7
          persist-credentials: false
      - run: npm ci --no-audit --no-fund --prefix .g7
`}`;return`name: G7 coreloop
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
        description: The candidate to promote (cand-\u2026, a Guide bullet) or refine (cx-\u2026, a Caveat)
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
${m}      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          token: \${{ steps.app.outputs.token || github.token }}
${o}      # GitHub's coreloop pull requests: one closed without merging is not proposed again. --open-prs does
      # nothing until \`g7 coreloop status\` says tier 2; from then on it promotes each Guide candidate as a
      # dispatched promote would (reproduction check, branch, draft pull request).
      - name: g7 coreloop pattern
        env:
          GEMINI_API_KEY: \${{ secrets.GEMINI_API_KEY }}
          GITHUB_TOKEN: \${{ steps.app.outputs.token || secrets.G7_PR_TOKEN || github.token }}
        run: |
${u}          ${t} coreloop pattern --since 30d --min-repeat 3 --min-unique-questions 3 --min-chunk-len 400 --sanitize --open-prs
      - name: commit the candidates
        run: |
${u}          git add ssot/audit
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
${m}      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          token: \${{ steps.app.outputs.token || secrets.G7_PR_TOKEN || github.token }}
${o}      # The reproduction check replays recorded cases (arm B with the change) through Gemini; then g7 pushes the
      # skill/docstring-* branch and opens the draft pull request itself. A Caveat (cx-\u2026) goes through refine.
      - name: g7 coreloop promote (or refine)
        env:
          CANDIDATE: \${{ inputs.candidate }}
          ID: \${{ inputs.id }}
          GEMINI_API_KEY: \${{ secrets.GEMINI_API_KEY }}
          GITHUB_TOKEN: \${{ steps.app.outputs.token || secrets.G7_PR_TOKEN || github.token }}
        run: |
${u}          case "$ID" in cx-*) phase=refine ;; *) phase=promote ;; esac
          ${t} coreloop "$phase" --candidate "$CANDIDATE" --id "$ID" --confirm
`}function T(e,t){let r={name:"main: people merge, the factory pushes evidence",target:"branch",enforcement:"active",conditions:{ref_name:{include:["~DEFAULT_BRANCH"],exclude:[]}},bypass_actors:[{actor_id:e,actor_type:"Integration",bypass_mode:"always"}],rules:[{type:"deletion"},{type:"non_fast_forward"},{type:"pull_request",parameters:{required_approving_review_count:1,require_code_owner_review:!0,dismiss_stale_reviews_on_push:!0,require_last_push_approval:!1,required_review_thread_resolution:!1}},{type:"required_status_checks",parameters:{strict_required_status_checks_policy:!1,required_status_checks:t.map(o=>({context:o}))}}]};return JSON.stringify(r,null,2)+`
`}function D(e){return JSON.stringify({required_status_checks:{strict:!0,contexts:e},enforce_admins:!1,required_pull_request_reviews:{required_approving_review_count:1,require_code_owner_reviews:!0,dismiss_stale_reviews:!0},restrictions:null,allow_force_pushes:!1,allow_deletions:!1},null,2)+`
`}function G(e){return`# Every change needs a review by an owner (the ruleset requires code-owner review); the skill docstrings
# the worker is prompted with, and the factory's rules, most of all.
*             ${e}
/ssot/skills/ ${e}
/ssot/rules/  ${e}
/.github/     ${e}
`}var K=`# G7 Factory configuration. Paths are relative to the repository root (the folder holding ssot/).
library: { root: library }            # the library SCAN reads; may live outside the repository
models: { LOW: gemini-2.5-flash-lite, MID: gemini-2.5-flash, HIGH: gemini-2.5-pro }
limits: { rpm: 60, tpm: 1000000, timeout_s: 120 }
budget: { per_truck_usd: 2.00, per_night_usd: 10.00 }
prices_per_mtok:
  gemini-2.5-flash-lite: { in: 0.10, out: 0.40 }
  gemini-2.5-flash: { in: 0.30, out: 2.50 }
  gemini-2.5-pro: { in: 1.25, out: 10.00 }
taxonomy: ssot/rules/tags.yaml
git: { commit: true, push: false }
`,H=`# Offline tagger rules: a chunk gets a tag when any of its patterns match (case-insensitive).
tags:
  - name: todo
    keywords: [TODO, FIXME]
  - name: money
    regex: ['\\\\$\\\\s?\\\\d']
    strike: true
`,P=["block-coreloop-auto-merge"];async function W(e,t){await q(s.dirname(e),{recursive:!0});let r=`${e}.tmp-${C(4).toString("hex")}`;await R(r,t);try{return await x(r,e),!0}catch(o){if(o.code==="EEXIST")return!1;throw o}finally{await S(r)}}async function Y(e){return _((await e.run(["remote","get-url","origin"],{allowFail:!0})).stdout)}async function Z(e,t,r,o={}){let a;try{a=I(o.action??$)}catch(i){throw new c(`--action: ${i.message}`)}if(o.appId!==void 0&&!/^\d+$/.test(o.appId))throw new c(`--app-id is the App's numeric ID (its settings page shows it), got "${o.appId}"`);if(o.owner!==void 0&&!/^@[\w.-]+(\/[\w.-]+)?$|^[^@\s]+@[^@\s]+$/.test(o.owner))throw new c(`--owner is @user, @org/team or an e-mail address, got "${o.owner}"`);let f=new k(e.repoRoot),p=await f.isRepo()?await Y(f):void 0,l=o.owner??(p?`@${p.split("/")[0]}`:void 0),g=o.appId?Number(o.appId):0,N=[e.plansDir,e.packsDir,e.packetsDir,e.runsDir,e.stateDir,e.reworkDir,e.libraryIndexDir,e.skillsDir,s.join(e.ssotDir,"rules"),s.join(e.auditDir,"ai-ask")];for(let i of N)await q(i,{recursive:!0});let n=s.join(e.repoRoot,".github"),O=[[e.factoryFile,K],[s.join(e.ssotDir,"rules","tags.yaml"),H],[s.join(e.ssotDir,".gitignore"),`# Written and read by g7 alone.
state/run.lock
*.tmp-*
`],[s.join(n,"workflows","factory.yml"),v(a)],[s.join(n,"workflows","ai-policy.yml"),A(a,y)],[s.join(n,"workflows","coreloop.yml"),E(a)],[s.join(n,"CODEOWNERS"),G(l??"@OWNER")],[s.join(n,"rulesets","main.json"),T(g,P)],[s.join(n,"branch-protection.json"),D(P)]];for(let[i,j]of O)t.out(await W(i,j)?`created ${r(i)}`:`kept    ${r(i)} (exists)`);let d=p??"OWNER/REPO",w=r(s.join(n,"rulesets","main.json"));return t.out(""),t.out("one-time settings on GitHub (a repository admin):"),t.out('  1. Secret GEMINI_API_KEY (Settings \u2192 Secrets and variables \u2192 Actions). Without it the offline worker runs and model cards stop with "no key".'),t.out(`  2. The factory's GitHub App (Contents, Checks, Pull requests, Issues: read and write), installed on ${d}; variable G7_APP_ID = its App ID, secret G7_APP_PRIVATE_KEY = a private key of it.`),t.out("     It pushes the evidence past protection (GITHUB_TOKEN cannot be a bypass actor) and opens coreloop pull requests that start CI."),t.out(`  3. The ruleset: ${g?"":`put the App ID in bypass_actors[0].actor_id of ${w} (or run g7 init --app-id ID before it exists), then `}gh api -X POST repos/${d}/rulesets --input ${w}`),t.out(`     (a repository without rulesets: gh api -X PUT repos/${d}/branches/main/protection --input ${r(s.join(n,"branch-protection.json"))}; the factory cannot push past it)`),t.out(`  4. CODEOWNERS: ${l?`${l} owns everything; change it if reviews belong to a team`:"replace @OWNER with the people or team who review (no GitHub remote to take it from)"}.`),t.out(`then: write a day plan in ${r(e.plansDir)}/dayplan_YYYYMMDD.yaml, g7 plan compile it, commit, push; the nightly workflow runs from there`),b.OK}export{Z as initSsot};
