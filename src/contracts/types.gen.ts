// Generated from schemas/*.schema.json by scripts/gen-types.mjs. Do not edit by hand.

/**
 * One work card: an execution contract, one JSONL line of a backlog.
 */
export interface WorkCard {
  /**
   * L{lane}_{TYPE}_{NNNNNN}, or eight digits past the 99,999th card of an entry (L{lane}_{TYPE}_{E}{NNNNNNN}); stable across recompiles of the same plan.
   */
  id: string;
  lane: number;
  prio: "A" | "B" | "C" | "D";
  type: "SCAN" | "TAG" | "STRIKE" | "TEST" | "PATCH" | "VERIFY" | "TRIAGE";
  /**
   * A path, a command (TEST), a path with a line range (path#L1-L10), or a list of library paths.
   */
  input: string | [string, ...string[]];
  /**
   * Repository-relative path the card writes.
   */
  output: string;
  /**
   * Pass rule: &&-joined predicates.
   */
  accept: string;
  /**
   * Fail rule: &&-joined predicates, or 'never'.
   */
  failfast: string;
  cost_hint: "LOW" | "MID" | "HIGH";
  deps: string[];
  /**
   * Work pack id (file backlog/packs/<id>.json).
   */
  pack?: string;
  /**
   * The day-plan entry that generated this card.
   */
  entry?: string;
}

/**
 * A work pack (개집NNN.json): the contract for one job of work.
 */
export interface WorkPack {
  id: string;
  goal: string;
  files: {
    create: string[];
    modify: string[];
  };
  forbidden: string[];
  success: string[];
  evidence: string[];
  skills?: string[];
}

export type PlanAfter =
  | string
  | {
      entry: string;
      mode?: "each" | "all";
    };

/**
 * A person-written day plan (at most 30 lines). Each entry generates work cards.
 */
export interface DayPlan {
  date: string;
  goal: string;
  /**
   * @minItems 1
   */
  entries: [PlanEntry, ...PlanEntry[]];
}
export interface PlanEntry {
  name: string;
  lane: number;
  prio: "A" | "B" | "C" | "D";
  type: "SCAN" | "TAG" | "STRIKE" | "TEST" | "PATCH" | "VERIFY" | "TRIAGE";
  each?: PlanEach;
  input?: string;
  output: string;
  accept?: string;
  failfast?: string;
  cost_hint?: "LOW" | "MID" | "HIGH";
  pack?: string;
  after?: PlanAfter | [PlanAfter, ...PlanAfter[]];
}
export interface PlanEach {
  count?: number;
  glob?: string;
  lines?: string;
  per_card?: number;
}

/**
 * ssot/factory.yaml. Paths are relative to the repository root (the folder that holds the SSOT folder).
 */
export interface FactoryConfig {
  library?: {
    root: string;
  };
  models?: {
    LOW?: string;
    MID?: string;
    HIGH?: string;
  };
  limits?: {
    rpm?: number;
    tpm?: number;
    timeout_s?: number;
    max_input_tokens?: number;
    /**
     * A retryDelay the Gemini API asks for that is longer than this stops the truck RECOVERABLE with retry_after, instead of sleeping in the runner. Default 90.
     */
    max_retry_delay_s?: number;
  };
  budget?: {
    per_truck_usd?: number;
    per_night_usd?: number;
  };
  /**
   * The night the factory works in, in local time: the scheduled jobs start inside it (g7 init derives the UTC cron from it, off the hour) and a truck that finishes with work left dispatches the next job until `end`. Default 00:00-07:00 Asia/Seoul.
   */
  night?: {
    /**
     * HH:MM, 24-hour local time.
     */
    start: string;
    /**
     * HH:MM, 24-hour local time; at or before start means the next morning.
     */
    end: string;
    /**
     * An IANA time zone, e.g. Asia/Seoul or UTC.
     */
    tz: string;
  };
  prices_per_mtok?: {
    [k: string]: {
      in: number;
      out: number;
      /**
       * Prompt tokens served from the context cache (cachedContentTokenCount); the `in` price when unset.
       */
      cached_in?: number;
      /**
       * A Batch API answer costs (1 - batch_discount) x the online price. Default 0.5.
       */
      batch_discount?: number;
    };
  };
  skills?: {
    /**
     * This interface was referenced by `undefined`'s JSON-Schema definition
     * via the `patternProperty` "^(SCAN|TAG|STRIKE|TEST|PATCH|VERIFY|TRIAGE)$".
     */
    [k: string]: string;
  };
  taxonomy?: string;
  sensors?: string;
  coreloop?: {
    sanitize?: {
      /**
       * Company, stock and person names `g7 coreloop sanitize --mode mask` masks wherever they appear (besides the Korean company forms it finds by itself: (주)X, X주식회사, 주식회사 X).
       */
      names?: string[];
    };
  };
  scan?: {
    chunk_bytes?: number;
  };
  git?: {
    commit?: boolean;
    push?: boolean;
    remote?: string;
    branch?: string;
  };
  /**
   * The store (ssot/store/, never committed) and the data branch that carries it between jobs (README "Where each kind of data lives").
   */
  store?: {
    /**
     * The data branches are this prefix + cache (g7/cache) and + audit (g7/audit). Default g7/.
     */
    branch_prefix?: string;
    /**
     * Days of answers the data branch g7/cache keeps: a segment older than this leaves it (the answers stay in a store that persists, e.g. a self-hosted runner's disk). Default 30.
     */
    cache_days?: number;
    /**
     * Days of coreloop's audit log kept, in the store and on the data branch g7/audit: older records leave both (SPEC 10). Default 90, the longest window a coreloop command reads (the reproduction check's).
     */
    audit_days?: number;
  };
  gemini?: {
    base_url?: string;
    batch_min_requests?: number;
    /**
     * The project's usage tier (AI Studio shows it): picks the documented per-model limit on tokens enqueued in batch jobs at once. Default 1.
     */
    tier?: 1 | 2 | 3;
    /**
     * Per model id: the tokens that may be enqueued in batch jobs at once, when the project's limit differs from the tier's documented one (AI Studio, rate limits).
     */
    batch_enqueued_tokens?: {
      [k: string]: number;
    };
    /**
     * Batch jobs in flight at once across the factory; the service runs at most 100. Default 100.
     */
    max_batch_jobs?: number;
    /**
     * Output tokens for the answer itself; the thinking budget comes on top. A rework after MAX_TOKENS gets four times this. Default 2048.
     */
    max_output_tokens?: number;
    /**
     * Thinking tokens per cost hint: 0 turns thinking off (not on 2.5 Pro, whose minimum is 128), -1 lets the model decide. Defaults LOW 0, MID 512, HIGH 1024.
     */
    thinking_budget?: {
      LOW?: number;
      MID?: number;
      HIGH?: number;
    };
  };
  /**
   * OPS_120PLUS120 is fixed. These keys may only restate it; any other value is an error.
   */
  trucks?: {
    slots?: 120;
    per_round?: 2;
    bundles?: 6;
    quotas?: {
      A?: 60;
      B?: 36;
      C?: 18;
      D?: 6;
    };
  };
}

/**
 * One line of packets/<YYYYMMDD>/round_NN/packet_{A,B}.jsonl: a card loaded into a truck slot.
 */
export interface PacketSlot {
  day: string;
  /**
   * The round of the day: two trucks per round, as many rounds as the backlog needs.
   */
  round: number;
  truck: "A" | "B";
  slot: number;
  bundle: number;
  /**
   * The quota section whose slot the card fills.
   */
  quota: "A" | "B" | "C" | "D";
  /**
   * True when the card fills an empty slot of another class's quota.
   */
  backfill: boolean;
  card: WorkCard;
}

/**
 * state/factory_state.json: the factory's state machine.
 */
export interface FactoryState {
  schema_version: 1;
  state: "READY" | "RUNNING" | "FAIL_STOP" | "RECOVERABLE";
  day?: string | null;
  /**
   * The round of the day the truck at hand belongs to (absent: round 1).
   */
  round?: number | null;
  truck?: "A" | "B" | null;
  run_id?: string | null;
  owner?: {
    host: string;
    pid: number;
    started_at: string;
  } | null;
  heartbeat_at?: string | null;
  bundle?: number | null;
  last_stop?: {
    at: string;
    reason: string;
    card?: string | null;
    triage?: "IMPORT" | "PATH" | "SCHEMA" | "TEST" | "API" | null;
    transient?: boolean;
    /**
     * RECOVERABLE: no run before this ISO time (quota reset, night budget, retryDelay, or the default backoff).
     */
    retry_after?: string | null;
    /**
     * What a person should set or fix, when the cause says so.
     */
    hint?: string | null;
    files: string[];
  } | null;
  /**
   * Resumes of a RECOVERABLE truck in a row that made no progress; the third escalates to FAIL_STOP.
   */
  stalled?: number;
  /**
   * Set when a push was refused: the evidence is committed here but not on the remote branch. The next run lands it (from the side branch, when it was parked there) and pushes before it departs.
   */
  unpushed?: {
    since: string;
    reason: string;
    /**
     * The side branch on the remote that holds the commits (g7/unpushed/<run>); null when even that push failed.
     */
    parked?: string | null;
  } | null;
  batches?: {
    name: string;
    card: string;
    submitted_at: string;
    state?: string;
  }[];
  updated_at: string;
}

/**
 * One line of state/journal.jsonl, the append-only record of what the factory did. Card statuses are derived from it. A `skip` event is a person dropping a card (g7 resume --skip), with the reason in `detail`.
 */
export interface JournalEvent {
  ts: string;
  event: "run_start" | "card_result" | "bundle_done" | "run_stop" | "run_resumed" | "resume" | "requeue" | "skip";
  day: string;
  run?: string;
  truck?: "A" | "B";
  /**
   * The round of the day (two trucks per round); absent in journals written before rounds: round 1.
   */
  round?: number;
  card?: string;
  slot?: number;
  bundle?: number;
  status?: "PASS" | "FAIL" | "SKIP";
  attempt?: number;
  state?: "READY" | "RUNNING" | "FAIL_STOP" | "RECOVERABLE";
  detail?: string;
  /**
   * Outputs of a PASS card with their sha256 at the time.
   */
  outputs?: {
    path: string;
    sha256: string;
  }[];
  /**
   * sha256 of the card as it ran (a PASS), so that a recompile can tell a done card from one whose input has changed since.
   */
  card_sha256?: string;
  triage?: "IMPORT" | "PATH" | "SCHEMA" | "TEST" | "API";
  transient?: boolean;
  lanes?: number[];
}

/**
 * runs/run_NNNN/verify_report.json: one entry per card of the run.
 */
export interface VerifyReport {
  schema_version: 1;
  run_id: string;
  day: string;
  /**
   * The round of the day the truck belongs to (absent in reports written before rounds: round 1).
   */
  round?: number;
  truck: "A" | "B";
  started_at: string;
  finished_at: string;
  state: "READY" | "RUNNING" | "FAIL_STOP" | "RECOVERABLE";
  counts: {
    passed: number;
    failed: number;
    skipped: number;
    pending: number;
  };
  cost_usd?: number;
  tokens?: TokenCount;
  cards: CardResult[];
}
export interface TokenCount {
  in: number;
  out: number;
}
export interface CardResult {
  id: string;
  slot: number;
  lane: number;
  type: string;
  status: "PASS" | "FAIL" | "SKIP";
  attempts: number;
  accept: RuleResult[];
  failfast: RuleResult[];
  triage: {
    class: "IMPORT" | "PATH" | "SCHEMA" | "TEST" | "API";
    transient: boolean;
    reason: string;
  } | null;
  duration_ms: number;
  tokens: TokenCount;
  cost_usd: number;
  outputs: {
    path: string;
    sha256: string;
    bytes: number;
  }[];
  /**
   * Folder of per-card evidence, relative to the run folder.
   */
  detail?: string;
}
export interface RuleResult {
  rule: string;
  ok: boolean;
  detail?: string;
}

/**
 * runs/run_NNNN/hash_manifest.json: an in-toto Statement v1 whose subjects are every evidence file and every output.
 */
export interface HashManifest {
  _type: "https://in-toto.io/Statement/v1";
  /**
   * @minItems 1
   */
  subject: [
    {
      name: string;
      digest: {
        sha256: string;
      };
    },
    ...{
      name: string;
      digest: {
        sha256: string;
      };
    }[]
  ];
  predicateType: "https://g7-factory.dev/evidence/v1";
  predicate: {
    run_id: string;
    day: string;
    round?: number;
    truck: string;
    state: string;
    created_at: string;
    /**
     * Repository-relative folder of the run; subjects under it are evidence, others are outputs.
     */
    evidence_root: string;
  };
}

/**
 * One line of audit/ai-ask/YYYY-MM-DD.jsonl (coreloop Observe, schema v2): one worker call.
 */
export interface AuditRecord {
  schema_version: 2;
  ts: string;
  /**
   * This record's own id, unique in the log: a cached replay of a request gets an id of its own (records written before request_hash existed used the request hash's first 16 hex digits, so a replay there shares its call's id).
   */
  request_id: string;
  /**
   * The request's digest (the response cache's key): every record of one request shares it, a paid call and its replays alike. Absent in records written before it existed (their request_id is its prefix).
   */
  request_hash?: string;
  /**
   * true: the answer came from the response cache, a replay of a call recorded before (a resumed card, a rerun), not a new question; readers of cases skip it (coreloop/records.ts isMarkedReplay).
   */
  cached?: boolean;
  /**
   * Prompt summary; null when sanitized.
   */
  question: string | null;
  /**
   * hmac-sha256: after g7 coreloop sanitize --mode hash (keyed, so it cannot be found from a word list).
   */
  question_hash: string;
  category_hash: string;
  hint?: string | null;
  provider: string;
  model: string;
  tool_calls: {
    name: string;
    /**
     * Arguments; string values capped at 500 characters.
     */
    args: string | {} | null;
    args_hash: string;
    ok: boolean;
    error: string | null;
    duration_ms: number;
    result_size_bytes: number;
    overrides_used: string[] | null;
    extreme_flags: string[];
  }[];
  /**
   * seq: + a hash of the names of the steps the card took (ask, check, apply, accept:..., failfast, rework), not their outcomes: the outcome is what a group's success rate measures.
   */
  tool_sequence_hash: string;
  override_calls: {
    tool: string;
    override_keys: string[];
    trigger: string;
    succeeded: boolean;
  }[];
  rounds: number;
  /**
   * Characters of the material the worker was asked about (the library chunk of a TAG or STRIKE call, the goal and files of a PATCH). Answers here are short structured JSON by design, so their length says nothing; a tiny input does.
   */
  chunk_len: number;
  error: string | null;
  violation: string | null;
  skill_used: string | null;
  /**
   * Ids of the Guide/Caveats bullets that were in the prompt: each bullet's helpful/harmful record is counted from these.
   */
  skill_bullets?: string[];
  duration_total_ms: number;
  tokens?: {
    in: number;
    out: number;
  };
  /**
   * True when the line was over 4 KB and was summarised.
   */
  summarized?: boolean;
  judgment: {
    verdict: string | null;
    judged_at: string | null;
    judged_by: string | null;
    pr_url: string | null;
  };
}

/**
 * What the worker must answer, per card type. Each definition is also sent to Gemini as responseJsonSchema.
 */
export interface WorkerAnswers {
  [k: string]: unknown;
}
/**
 * This interface was referenced by `WorkerAnswers`'s JSON-Schema
 * via the `definition` "TAG".
 */
export interface TagAnswer {
  tags: string[];
  strike: boolean;
  why: string;
}
/**
 * This interface was referenced by `WorkerAnswers`'s JSON-Schema
 * via the `definition` "STRIKE".
 */
export interface StrikeAnswer {
  findings: {
    sensor: string;
    verdict: "hit" | "no" | "unclear";
    quote: string;
  }[];
}
/**
 * This interface was referenced by `WorkerAnswers`'s JSON-Schema
 * via the `definition` "PATCH".
 */
export interface PatchAnswer {
  edits: {
    path: string;
    /**
     * For a file you were shown: search texts copied verbatim from it (each matching exactly once) and their replacements, in file order.
     */
    changes?: {
      search: string;
      replace: string;
    }[];
    /**
     * The whole file: only for a file you create, or one shown whole that you rewrite entirely.
     */
    content?: string;
  }[];
}

/**
 * audit/candidates/DATE-candidates.json (pattern) or audit/counterexamples/DATE-counterexamples.json (refine): proposed changes to skill docstrings, with the evidence behind each.
 */
export interface CoreloopCandidates {
  schema_version: 1;
  kind: "pattern" | "refine";
  generated_at: string;
  window: {
    since: string;
    until: string;
  };
  params: {
    [k: string]: number | boolean | string | unknown[];
  };
  scanned: {
    files: number;
    records: number;
    invalid: number;
    excluded: {
      [k: string]: number;
    };
  };
  /**
   * Candidates found again but not proposed: already rejected, merged or proposed.
   */
  skipped: {
    key: string;
    reason: "rejected" | "merged" | "proposed";
  }[];
  near_misses: {
    category_hash: string;
    tool_sequence_hash: string;
    records: number;
    unique_questions: number;
    success_rate: number;
    reason: string;
  }[];
  candidates: Candidate[];
}
export interface Candidate {
  id: string;
  /**
   * Stable identity of the candidate across runs: rejections and merges are remembered by it.
   */
  key: string;
  action: "append" | "retire";
  section: "Guide" | "Caveats";
  /**
   * The skill target (path or path::symbol); null when no skill is configured for this kind of work.
   */
  target: string | null;
  engine: string;
  axis: string;
  category_hash: string;
  tool_sequence_hash: string | null;
  bullet: {
    id: string;
    text: string;
  };
  evidence: {
    records: number;
    unique_questions: number;
    unique_questions_capped?: boolean;
    successes: number;
    success_rate: number;
    wilson_lower: number;
    chunk_len?: {
      min: number;
      max: number;
      mean: number;
    };
    steps?: string[];
    models: string[];
    first_seen: string;
    last_seen: string;
    excluded?: {
      [k: string]: number;
    };
    signal?: {
      type: string;
      cause: string;
      detail: string;
    };
    helpful?: number;
    harmful?: number;
  };
  /**
   * request_id of the records behind the candidate (at most 50).
   */
  record_ids: string[];
  /**
   * Up to three example inputs (question texts); empty with --sanitize.
   */
  examples: string[];
}

/**
 * runs/run_NNNN/lanes.json: a lane run as its prepare job departed it. Every lane job takes the run id from here; the merge job seals the run over the lanes it names.
 */
export interface LanePlan {
  schema_version: 1;
  run: string;
  day: string;
  round: number;
  truck: "A" | "B";
  created_at: string;
  /**
   * The state the truck departed from: a resume from RECOVERABLE counts towards the stall rule.
   */
  resumed_from: "READY" | "RUNNING" | "FAIL_STOP" | "RECOVERABLE";
  /**
   * The lanes with cards to run, in order, each with how many.
   */
  lanes: {
    lane: number;
    cards: number;
  }[];
}
