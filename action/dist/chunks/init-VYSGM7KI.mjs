import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a as O}from"./chunk-GFYF6DCQ.mjs";import{a as G}from"./chunk-3KX4UKIG.mjs";import{b as N}from"./chunk-FAZUNGYD.mjs";import{a as I,b as E}from"./chunk-4BFDPWXU.mjs";import{c as v}from"./chunk-SYDUBL2X.mjs";import"./chunk-TBLCUB5G.mjs";import{b as A}from"./chunk-5AYF4CN7.mjs";import{a as T,d as h}from"./chunk-N6VD4MY2.mjs";import"./chunk-UYGRN43V.mjs";import"./chunk-6NPPP7T4.mjs";import"./chunk-OMTOMJEE.mjs";import"./chunk-LTHNLRBS.mjs";import"./chunk-72W5J42C.mjs";import{e as l}from"./chunk-Q4KT5GYC.mjs";import"./chunk-PQRHRS2M.mjs";import"./chunk-2PYAGR7Y.mjs";import o from"node:path";import{link as z,mkdir as B,readFile as J,unlink as V,writeFile as Q}from"node:fs/promises";import{randomBytes as Z}from"node:crypto";var q=e=>`g7-factory/g7-factory/action@v${e}`;function P(e){if(!/^[0-9a-f]{40}$/.test(e)&&!/^v?\d+(\.\d+){0,2}([-+][\w.-]+)?$/.test(e))return`"${e}" is neither a release tag (v1.2.3) nor a full commit SHA: if it is a branch, every job runs whatever it holds that night, with GEMINI_API_KEY in hand`}function x(e){let t=/^([\w.-]+\/[\w.-]+)\/action@([\w./-]+)$/.exec(e.trim());if(!t)throw new Error(`an action reference looks like owner/repo/action@ref, got "${e}"`);return{local:!1,repo:t[1],ref:t[2]}}var u=e=>e.local?"./action":`${e.repo}/action@${e.ref}`,d=`      - name: the factory's App token
        id: app
        if: \${{ vars.G7_APP_ID != '' }}
        uses: actions/create-github-app-token@v1
        with:
          app-id: \${{ vars.G7_APP_ID }}
          private-key: \${{ secrets.G7_APP_PRIVATE_KEY }}
`,D='      - name: outcome\n        if: always()\n        env:\n          RUN_ID: ${{ steps.g7.outputs.run-id }}\n          STATE: ${{ steps.g7.outputs.state }}\n          PASSED: ${{ steps.g7.outputs.passed }}\n          FAILED: ${{ steps.g7.outputs.failed }}\n        run: echo "run ${RUN_ID:-none} \u2192 ${STATE:-?} (${PASSED:-0} passed, ${FAILED:-0} failed)"\n',S=`concurrency:
  # The night's runs (schedule, chained) replace each other while they wait; a person's dispatch is never replaced.
  group: g7-factory-\${{ github.event_name == 'workflow_dispatch' && inputs.chain == 0 && 'person' || 'night' }}
  cancel-in-progress: false
`,j=`      - name: wait for the factory's earlier runs
        timeout-minutes: 60
        env:
          GH_TOKEN: \${{ github.token }}
        run: |
          earlier() { gh api "repos/$GITHUB_REPOSITORY/actions/runs?status=in_progress&per_page=100" --jq '[.workflow_runs[] | select(.id < ($ENV.GITHUB_RUN_ID | tonumber) and (.path | startswith(".github/workflows/factory")))] | length'; }
          while [ "$(earlier)" != "0" ]; do echo "an earlier run of the factory is in progress: waiting for it"; sleep 30; done
`,w=e=>`      # The remote took the evidence neither on the branch nor on g7/unpushed/<run>: its commits would go with
      # this runner. The g7 step wrote them as a git bundle; its log and its unpushed-apply output say how to land it.
      - name: keep the unpushed evidence
        if: \${{ failure() && steps.g7.outputs.unpushed-bundle != '' }}
        uses: actions/upload-artifact@v4
        with:
          name: g7-unpushed-\${{ github.run_id }}-\${{ github.run_attempt }}${e}
          path: \${{ steps.g7.outputs.unpushed-bundle }}
          if-no-files-found: error
`,p=`          git config user.name "g7-factory[bot]"
          git config user.email "g7-factory@users.noreply.github.com"
`;function R(e,t=T){return`name: G7 factory
on:
  schedule:
    # The night of ssot/factory.yaml (${t.start}\u2013${t.end} ${t.tz}) in UTC, never on the hour (GitHub's
    # busiest minute): written by g7 init; run it again after changing the night (delete this file first).
    - cron: "${h(t)}"
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
${S}permissions:
  contents: write # commit and push the evidence
  checks: write # the check run on the evidence commit
  actions: write # a truck that leaves work inside the night starts the next run of this workflow (chaining)
jobs:
  truck:
    runs-on: ubuntu-latest
    timeout-minutes: 120
    steps:
${j}      # With the default branch protected (.github/rulesets/main.json), only the factory's GitHub App may
      # push to it: GITHUB_TOKEN cannot be a ruleset bypass actor. Without the App, the workflow token pushes.
${d}      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          token: \${{ steps.app.outputs.token || github.token }}
      - name: git identity for evidence commits
        run: |
${p}      - name: g7 resume
        if: \${{ github.event_name == 'workflow_dispatch' && inputs.resume }}
        uses: ${u(e)}
        with:
          command: resume
          dry-run: \${{ inputs.dry-run || false }}
      - name: g7
        id: g7
        uses: ${u(e)}
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
${D}`}function C(e){let t=`${d}      # The branch as it is now, not the commit that started the workflow: the prepare job pushed since.
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.ref_name }}
          fetch-depth: 0
          token: \${{ steps.app.outputs.token || github.token }}
      - name: git identity for evidence commits
        run: |
${p}`;return`name: G7 factory lanes
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
${S}permissions:
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
${j}${t}      - name: g7 lanes prepare
        id: g7
        uses: ${u(e)}
        with:
          command: prepare-lanes
          truck: \${{ inputs.truck != 'next' && inputs.truck || '' }}
          lanes: \${{ inputs.lanes }}
          chain-link: \${{ inputs.chain || 0 }}
          gemini-api-key: \${{ secrets.GEMINI_API_KEY }}
${w("-prepare")}  lane:
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
${t}      - name: g7 lanes run
        id: g7
        uses: ${u(e)}
        with:
          command: lane
          run-id: \${{ needs.prepare.outputs.run-id }}
          lanes: \${{ matrix.lane }}
          gemini-api-key: \${{ secrets.GEMINI_API_KEY }}
${w("-lane-${{ matrix.lane }}")}  merge:
    needs: [prepare, lane]
    # Always once the run departed, also when a lane failed or was cancelled: its cards go to the next run.
    if: \${{ always() && needs.prepare.outputs.lanes != '' }}
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
${t}      - name: g7 lanes merge
        id: g7
        uses: ${u(e)}
        with:
          command: merge-lanes
          run-id: \${{ needs.prepare.outputs.run-id }}
          chain-link: \${{ inputs.chain || 0 }}
${w("-merge")}${D}`}function K(e,t,s){let n=`[${t.join(", ")}]`,r=e.local?`      # The base branch's code, never the pull request's: the check must not run what it checks.
      - uses: actions/checkout@v4
        with:
          ref: \${{ github.event.pull_request.base.sha || github.event.merge_group.base_sha || github.sha }}
          persist-credentials: false
          sparse-checkout: action
`:"";return`name: AI policy
# block-coreloop-auto-merge: a coreloop pull request is merged by a person, never automatically. The required
# check (.github/rulesets/main.json) is the job named block-coreloop-auto-merge: the pull_request_target half,
# which runs the base branch's workflow with a token that can write even for a fork's pull request, and the
# merge_group run in a merge queue. The pull_request half runs the pull request's own copy of this file, so
# it is named apart and only reports; both halves decide the same, whichever runs last.
on:
  pull_request:
    types: ${n}
  pull_request_target:
    types: ${n}
  # A merge queue waits for its required checks on the queue's commit.
  merge_group:
    types: [checks_requested]
  # Auto-merge or a label put on by another workflow's GITHUB_TOKEN starts no workflow: the sweep finds it.
  schedule:
    - cron: '${s}'
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
${r}      - uses: ${u(e)}
        with:
          command: policy
          github-token: \${{ github.token }}
`}function H(e){let t=e.local?"./bin/g7.mjs":"node .g7/bin/g7.mjs",n=`      - uses: actions/setup-node@v4
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
${d}      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          token: \${{ steps.app.outputs.token || github.token }}
${n}      # GitHub's coreloop pull requests: one closed without merging is not proposed again. --open-prs does
      # nothing until \`g7 coreloop status\` says tier 2; from then on it promotes each Guide candidate as a
      # dispatched promote would (reproduction check, branch, draft pull request).
      - name: g7 coreloop pattern
        env:
          GEMINI_API_KEY: \${{ secrets.GEMINI_API_KEY }}
          GITHUB_TOKEN: \${{ steps.app.outputs.token || secrets.G7_PR_TOKEN || github.token }}
          # Which of the three it is: a pull request opened with GITHUB_TOKEN starts no checks, and g7 warns.
          G7_TOKEN_SOURCE: \${{ steps.app.outputs.token && 'app' || secrets.G7_PR_TOKEN && 'pat' || 'github-token' }}
        run: |
${p}          ${t} coreloop pattern --since 30d --min-repeat 3 --min-unique-questions 3 --min-chunk-len 400 --sanitize --open-prs
      - name: commit the candidates
        run: |
${p}          git add ssot/audit
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
${d}      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
          token: \${{ steps.app.outputs.token || secrets.G7_PR_TOKEN || github.token }}
${n}      # The reproduction check replays recorded cases (arm B with the change) through Gemini; then g7 pushes the
      # skill/docstring-* branch and opens the draft pull request itself. A Caveat (cx-\u2026) goes through refine.
      - name: g7 coreloop promote (or refine)
        env:
          CANDIDATE: \${{ inputs.candidate }}
          ID: \${{ inputs.id }}
          GEMINI_API_KEY: \${{ secrets.GEMINI_API_KEY }}
          GITHUB_TOKEN: \${{ steps.app.outputs.token || secrets.G7_PR_TOKEN || github.token }}
          # Which of the three it is: a pull request opened with GITHUB_TOKEN starts no checks, and g7 warns.
          G7_TOKEN_SOURCE: \${{ steps.app.outputs.token && 'app' || secrets.G7_PR_TOKEN && 'pat' || 'github-token' }}
        run: |
${p}          case "$ID" in cx-*) phase=refine ;; *) phase=promote ;; esac
          ${t} coreloop "$phase" --candidate "$CANDIDATE" --id "$ID" --confirm
`}function W(e,t){let s={name:"main: people merge, the factory pushes evidence",target:"branch",enforcement:"active",conditions:{ref_name:{include:["~DEFAULT_BRANCH"],exclude:[]}},bypass_actors:[{actor_id:e,actor_type:"Integration",bypass_mode:"always"}],rules:[{type:"deletion"},{type:"non_fast_forward"},{type:"pull_request",parameters:{required_approving_review_count:1,require_code_owner_review:!0,dismiss_stale_reviews_on_push:!0,require_last_push_approval:!1,required_review_thread_resolution:!1}},{type:"required_status_checks",parameters:{strict_required_status_checks_policy:!1,required_status_checks:t.map(n=>({context:n}))}}]};return JSON.stringify(s,null,2)+`
`}function U(e){return JSON.stringify({required_status_checks:{strict:!0,contexts:e},enforce_admins:!1,required_pull_request_reviews:{required_approving_review_count:1,require_code_owner_reviews:!0,dismiss_stale_reviews:!0},restrictions:null,allow_force_pushes:!1,allow_deletions:!1},null,2)+`
`}function Y(e){return`# Every change needs a review by an owner (the ruleset requires code-owner review); the skill docstrings
# the worker is prompted with, and the factory's rules, most of all.
*             ${e}
/ssot/skills/ ${e}
/ssot/rules/  ${e}
/.github/     ${e}
`}var ee=`# G7 Factory configuration. Paths are relative to the repository root (the folder holding ssot/).
library: { root: library }            # the library SCAN reads; may live outside the repository
models: { LOW: gemini-2.5-flash-lite, MID: gemini-2.5-flash, HIGH: gemini-2.5-pro }
limits: { rpm: 60, tpm: 1000000, timeout_s: 120 }
budget: { per_truck_usd: 2.00, per_night_usd: 10.00 }
# Local time: the scheduled jobs start inside it, and a truck that finishes with work left starts the next
# one until the end. g7 init writes the UTC cron of .github/workflows/factory.yml from it.
night: { start: "00:00", end: "07:00", tz: Asia/Seoul }
prices_per_mtok:
  gemini-2.5-flash-lite: { in: 0.10, out: 0.40 }
  gemini-2.5-flash: { in: 0.30, out: 2.50 }
  gemini-2.5-pro: { in: 1.25, out: 10.00 }
taxonomy: ssot/rules/tags.yaml
git: { commit: true, push: false }
`,te=`# Offline tagger rules: a chunk gets a tag when any of its patterns match (case-insensitive).
tags:
  - name: todo
    keywords: [TODO, FIXME]
  - name: money
    regex: ['\\$\\s?\\d']
    strike: true
`,M=["block-coreloop-auto-merge"];async function ne(e,t){await B(o.dirname(e),{recursive:!0});let s=`${e}.tmp-${Z(4).toString("hex")}`;await Q(s,t);try{return await z(s,e),!0}catch(n){if(n.code==="EEXIST")return!1;throw n}finally{await V(s)}}async function se(e){return v((await e.run(["remote","get-url","origin"],{allowFail:!0})).stdout)}async function ye(e,t,s,n={}){let r;try{r=x(n.action??q(O.version))}catch(a){throw new l(`--action: ${a.message}`)}if(n.appId!==void 0&&!/^\d+$/.test(n.appId))throw new l(`--app-id is the App's numeric ID (its settings page shows it), got "${n.appId}"`);if(n.owner!==void 0&&!/^@[\w.-]+(\/[\w.-]+)?$|^[^@\s]+@[^@\s]+$/.test(n.owner))throw new l(`--owner is @user, @org/team or an e-mail address, got "${n.owner}"`);let y=new N(e.repoRoot),m=await y.isRepo()?await se(y):void 0,f=n.owner??(m?`@${m.split("/")[0]}`:void 0),_=n.appId?Number(n.appId):0,{night:c}=await A(e,s),L=[e.plansDir,e.packsDir,e.packetsDir,e.runsDir,e.stateDir,e.reworkDir,e.libraryIndexDir,e.skillsDir,o.join(e.ssotDir,"rules"),e.auditDir];for(let a of L)await B(a,{recursive:!0});let i=o.join(e.repoRoot,".github"),F=[[e.factoryFile,ee],[o.join(e.ssotDir,"rules","tags.yaml"),te],[o.join(e.ssotDir,".gitignore"),`# Written and read by g7 alone.
state/run.lock
*.tmp-*
`],[o.join(i,"workflows","factory.yml"),R(r,c)],[o.join(i,"workflows","factory-lanes.yml"),C(r)],[o.join(i,"workflows","ai-policy.yml"),K(r,I,E)],[o.join(i,"workflows","coreloop.yml"),H(r)],[o.join(i,"CODEOWNERS"),Y(f??"@OWNER")],[o.join(i,"rulesets","main.json"),W(_,M)],[o.join(i,"branch-protection.json"),U(M)]];for(let[a,X]of F)t.out(await ne(a,X)?`created ${s(a)}`:`kept    ${s(a)} (exists)`);let g=m??"OWNER/REPO",k=s(o.join(i,"rulesets","main.json"));t.out("");let $=o.join(i,"workflows","factory.yml"),b=h(c);if(t.out(`the night: ${c.start}\u2013${c.end} ${c.tz}, scheduled jobs at cron "${b}" (UTC)`),(await J($,"utf8")).includes(`cron: "${b}"`)||t.out(`  ${s($)} was kept and runs at other times: delete it and run g7 init again to schedule this night`),t.out(""),!r.local){t.out(`the workflows use ${r.repo}/action@${r.ref}${n.action?"":` (the release of this g7; --action ${r.repo}/action@<full commit SHA> pins it harder)`}`);let a=P(r.ref);a&&t.out(`  warning: ${a}; pin a tag or a SHA with --action`)}return t.out("one-time settings on GitHub (a repository admin):"),t.out('  1. Secret GEMINI_API_KEY (Settings \u2192 Secrets and variables \u2192 Actions). Without it the offline worker runs and model cards stop with "no key".'),t.out(`  2. The factory's GitHub App (Contents, Checks, Pull requests, Issues: read and write; Actions: read and write if it dispatches the chained runs; Workflows: read and write only if a work pack may write .github/workflows/), installed on ${g}; variable G7_APP_ID = its App ID, secret G7_APP_PRIVATE_KEY = a private key of it.`),t.out("     It pushes the evidence past protection (GITHUB_TOKEN cannot be a bypass actor) and opens coreloop pull requests that start CI."),t.out(`  3. The ruleset: ${_?"":`put the App ID in bypass_actors[0].actor_id of ${k} (or run g7 init --app-id ID before it exists), then `}gh api -X POST repos/${g}/rulesets --input ${k}`),t.out(`     (a repository without rulesets: gh api -X PUT repos/${g}/branches/main/protection --input ${s(o.join(i,"branch-protection.json"))}; the factory cannot push past it)`),t.out(`  4. CODEOWNERS: ${f?`${f} owns everything; change it if reviews belong to a team`:"replace @OWNER with the people or team who review (no GitHub remote to take it from)"}.`),t.out(`then: write a day plan in ${s(e.plansDir)}/dayplan_YYYYMMDD.yaml, g7 plan compile it, commit, push; the nightly workflow runs from there`),G.OK}export{ye as initSsot};
