// Exit codes of `g7`, documented in the README. Scripts and the action branch on these.
export const EXIT = {
  OK: 0,
  /** A bug in g7 itself: please report it with the output. */
  INTERNAL: 1,
  /** The command line was wrong. */
  USAGE: 2,
  /** An input file is invalid (plan, backlog, pack, config): the message names file, line and field. */
  INVALID_INPUT: 3,
  /** The truck stopped on a non-transient failure (FAIL_STOP): read the rework pack, then `g7 resume`. */
  FAIL_STOP: 4,
  /** The truck stopped on a transient failure (RECOVERABLE): the next run resumes by itself. */
  RECOVERABLE: 5,
  /** The truck did not depart: the evidence gate or the state said no (the message says why); or coreloop refused a candidate (its reproduction check, propose-axis thresholds). */
  REFUSED: 6,
  /** Another `g7 run` holds the lock on this SSOT. */
  BUSY: 7,
  /** The remote refused the push (branch protection, a hook, permissions): the evidence (or a coreloop branch) is committed here, not there. */
  UNPUSHED: 8,
  /** `g7 plan estimate`: the plan does not fit its budgets or the night window (the output says what to change). */
  OVER_BUDGET: 9,
  /** Stopped cleanly by SIGINT (128 + 2); by SIGTERM it is 143 (128 + 15). */
  CANCELLED: 130,
} as const;
