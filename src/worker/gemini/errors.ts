// What a Gemini API error means for the orchestrator. The SDK throws ApiError whose message is the JSON
// error body; its google.rpc details say whether to wait (RetryInfo.retryDelay), and whether the quota
// that ran out is a daily one (QuotaFailure: a quota id with "PerDay"), where waiting minutes is pointless.

export type ErrorKind =
  | 'retry' // 408, 429 per-minute, 5xx, network, timeout: back off and try again
  | 'daily-quota' // 429 on a per-day quota: stop now, RECOVERABLE, resume tomorrow
  | 'auth' // bad or missing key, permission denied: a person must act
  | 'request'; // 400 for any other reason: our request is wrong, retrying will not help

export interface ClassifiedError {
  kind: ErrorKind;
  status: number | undefined;
  /** google.rpc.RetryInfo.retryDelay in milliseconds, when the server said how long to wait. */
  retryDelayMs: number | undefined;
  message: string;
}

interface RpcDetail {
  '@type'?: string;
  retryDelay?: string;
  reason?: string;
  violations?: { quotaId?: string; quotaMetric?: string }[];
}

/** "26s", "0.5s", "1.250s" → milliseconds (the protobuf Duration JSON form). */
export function parseDuration(d: string | undefined): number | undefined {
  const m = d ? /^(\d+(?:\.\d+)?)s$/.exec(d.trim()) : null;
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

export function classifyApiError(err: unknown): ClassifiedError {
  const e = err as { status?: number; message?: string; name?: string; code?: string; cause?: { code?: string } };
  const status = typeof e?.status === 'number' ? e.status : undefined;
  let body: { error?: { code?: number; message?: string; status?: string; details?: RpcDetail[] } } | undefined;
  try {
    body = JSON.parse(e?.message ?? '');
  } catch {
    body = undefined;
  }
  const details = body?.error?.details ?? [];
  const message = body?.error?.message ?? e?.message ?? String(err);
  const retryDelayMs = parseDuration(details.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay);
  if (status === undefined) {
    // No HTTP status: the connection failed, or our per-call timeout aborted it.
    return { kind: 'retry', status, retryDelayMs: undefined, message: e?.name === 'AbortError' || /abort/i.test(message) ? 'timed out' : message };
  }
  if (status === 429) {
    const quotas = details.filter((d) => d['@type']?.endsWith('google.rpc.QuotaFailure')).flatMap((d) => d.violations ?? []);
    if (quotas.some((v) => /PerDay/i.test(v.quotaId ?? ''))) return { kind: 'daily-quota', status, retryDelayMs, message };
    return { kind: 'retry', status, retryDelayMs, message };
  }
  if (status === 408 || status >= 500) return { kind: 'retry', status, retryDelayMs, message };
  const reason = details.find((d) => d['@type']?.endsWith('google.rpc.ErrorInfo'))?.reason;
  if (status === 401 || status === 403 || reason === 'API_KEY_INVALID') return { kind: 'auth', status, retryDelayMs: undefined, message };
  return { kind: 'request', status, retryDelayMs: undefined, message };
}

/** Exponential backoff with full jitter: uniform in [0, min(cap, base·2^attempt)]. */
export function backoffMs(attempt: number, random: () => number, baseMs = 1000, capMs = 60_000): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
