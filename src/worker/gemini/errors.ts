// What a Gemini API error means for the orchestrator. The SDK throws ApiError whose message is the JSON
// error body (or, for an HTML page from Google's front end, the page wrapped in JSON); its google.rpc details
// say whether to wait (RetryInfo.retryDelay), whether the quota that ran out is a daily one (QuotaFailure: a
// quota id with "PerDay"), where waiting minutes is pointless, or one this key does not have at all
// (quotaValue "0"), where waiting is pointless forever.

export type ErrorKind =
  | 'retry' // 408, 429 with the server's word on it, 5xx, network, timeout: back off and try again
  | 'rate' // 429 without QuotaFailure or RetryInfo: back off toward the per-minute window
  | 'daily-quota' // 429 on a per-day quota: stop now, RECOVERABLE, resume after the quota resets
  | 'no-quota' // 429 on a quota whose value is 0: this key cannot use this model; a person must act
  | 'auth' // bad or missing key, permission denied: a person must act
  | 'request' // 400/404 for any other reason: our request is wrong, retrying will not help
  | 'local'; // the SDK threw before sending anything (a bad argument): retrying will not help

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
  violations?: { quotaId?: string; quotaMetric?: string; quotaValue?: string }[];
}

/** "26s", "0.5s", "1.250s" → milliseconds (the protobuf Duration JSON form). */
export function parseDuration(d: string | undefined): number | undefined {
  const m = d ? /^(\d+(?:\.\d+)?)s$/.exec(d.trim()) : null;
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}

/** An HTML error page becomes its title and first lines of text: enough to say what happened, not a page of markup. */
function plain(message: string): string {
  if (!/^\s*<(!doctype|html)/i.test(message)) return message;
  const title = /<title>([^<]*)<\/title>/i.exec(message)?.[1]?.trim();
  const text = message.replace(/<style[\s\S]*?<\/style>|<title>[\s\S]*?<\/title>/gi, ' ').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
  return `${title ? `${title}: ` : ''}${text}`.slice(0, 200);
}

/** Errors of the network, of our own timeout, or of a garbled answer: sending again may work. */
function isNetworkError(e: { name?: string; code?: string; cause?: { code?: string; name?: string } } | undefined): boolean {
  if (!e) return false;
  if (e.name === 'AbortError' || e.name === 'TimeoutError' || e.name === 'SyntaxError' || e.cause?.name === 'AbortError') return true;
  const code = e.code ?? e.cause?.code ?? '';
  return e instanceof TypeError || /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/.test(code);
}

export function classifyApiError(err: unknown): ClassifiedError {
  const e = err as { status?: number; message?: string; name?: string; code?: string; cause?: { code?: string; name?: string } };
  const status = typeof e?.status === 'number' ? e.status : undefined;
  let body: { error?: { code?: number; message?: string; status?: string; details?: RpcDetail[] } } | undefined;
  try {
    body = JSON.parse(e?.message ?? '');
  } catch {
    body = undefined;
  }
  const details = body?.error?.details ?? [];
  const message = plain(body?.error?.message ?? e?.message ?? String(err));
  const retryDelayMs = parseDuration(details.find((d) => d['@type']?.endsWith('google.rpc.RetryInfo'))?.retryDelay);
  if (status === undefined) {
    // No HTTP status: the connection failed, our per-call timeout aborted it, or the SDK refused the call
    // before sending it (a plain Error of its own): only the first two are worth another try.
    if (!isNetworkError(e)) return { kind: 'local', status, retryDelayMs: undefined, message };
    return { kind: 'retry', status, retryDelayMs: undefined, message: e?.name === 'AbortError' || /abort/i.test(message) ? 'timed out' : message };
  }
  if (status === 429) {
    const hasFailure = details.some((d) => d['@type']?.endsWith('google.rpc.QuotaFailure'));
    const quotas = details.filter((d) => d['@type']?.endsWith('google.rpc.QuotaFailure')).flatMap((d) => d.violations ?? []);
    if (quotas.some((v) => v.quotaValue === '0')) return { kind: 'no-quota', status, retryDelayMs, message };
    if (quotas.some((v) => /PerDay/i.test(v.quotaId ?? ''))) return { kind: 'daily-quota', status, retryDelayMs, message };
    if (!hasFailure && retryDelayMs === undefined) return { kind: 'rate', status, retryDelayMs, message };
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

/**
 * For a 429 that names no quota and no delay: waits that double up to one whole rate window by the last
 * attempt (window/8, /4, /2, 1 for five attempts), each stretched by up to a quarter at random, so that the
 * retries outlast the per-minute window that most likely ran out.
 */
export function windowBackoffMs(attempt: number, attempts: number, windowMs: number, random: () => number): number {
  const base = windowMs / 2 ** Math.max(0, attempts - 2 - attempt);
  return Math.floor(base * (1 + random() / 4));
}

/** The next midnight in America/Los_Angeles after `now` (ms): when the Gemini API's per-day quotas reset. */
export function nextPacificMidnight(now: number): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Los_Angeles', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' }).formatToParts(new Date(now));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  // Pacific time is UTC-8 or UTC-7: the next local midnight is the one of those two candidates that is
  // midnight there and after now.
  const midnightUtc = Date.UTC(get('year'), get('month') - 1, get('day') + 1);
  for (const offsetH of [7, 8]) {
    const at = midnightUtc + offsetH * 3_600_000;
    const local = new Intl.DateTimeFormat('en-US', { timeZone: 'America/Los_Angeles', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' }).format(new Date(at));
    if (local === '00:00' && at > now) return at;
  }
  return midnightUtc + 8 * 3_600_000;
}
