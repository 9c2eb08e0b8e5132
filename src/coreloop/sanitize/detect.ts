// Finding sensitive text: secretlint's recommended preset (cloud keys, GitHub and npm tokens, private keys,
// connection strings, basic auth in URLs…) plus one rule of ours for what that preset lacks: Google API keys
// (AIza…), Google OAuth tokens, JWTs, e-mail addresses, URLs with credentials, phone numbers and card
// numbers (Luhn-checked). secretlint loads on first use.
import type { SecretLintCoreConfig, SecretLintRuleCreator } from '@secretlint/types';

export interface Finding {
  /** `secretlint/<rule>` or `g7/<kind>`. */
  rule: string;
  /** What is masked in its place: `[email]`, `[secret]`… */
  kind: string;
  start: number;
  end: number;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

interface Detector {
  kind: string;
  re: RegExp;
  accept?: (match: string) => boolean;
}

const DETECTORS: Record<string, Detector> = {
  'google-api-key': { kind: 'secret', re: /AIza[0-9A-Za-z_-]{35}/g },
  'google-oauth-token': { kind: 'secret', re: /\bya29\.[0-9A-Za-z_-]{20,}|\b1\/\/0[0-9A-Za-z_-]{30,}/g },
  jwt: { kind: 'secret', re: /\beyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]{8,}/g },
  'url-credentials': { kind: 'url', re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@"'<>]+:[^\s/@"'<>]+@[^\s"'<>]+/gi },
  email: { kind: 'email', re: /\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b/g },
  // +82 10-1234-5678, 010-1234-5678, (555) 123-4567, +1 555 123 4567: separators required, so ids and dates do not match.
  phone: { kind: 'phone', re: /(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,4}){2,3}|\b0\d{1,2}-\d{3,4}-\d{4}\b|\(\d{3}\) ?\d{3}-\d{4}\b)/g },
  // 13-19 digits, spaces or dashes allowed, starting like a real card (2-6), and passing the Luhn check.
  card: {
    kind: 'card',
    re: /\b[2-6]\d{3}(?:[ -]?\d){9,15}\b/g,
    accept: (m) => {
      const d = m.replace(/[ -]/g, '');
      return d.length >= 13 && d.length <= 19 && luhn(d);
    },
  },
};

const g7Rule: SecretLintRuleCreator = {
  messages: { FOUND: { en: (p: { kind: string }) => `found ${p.kind}` } },
  meta: { id: 'g7', type: 'scanner', recommended: true, supportedContentTypes: ['text'] },
  create(context) {
    const t = context.createTranslator(g7Rule.messages);
    return {
      file(source) {
        for (const [name, d] of Object.entries(DETECTORS)) {
          for (const m of source.content.matchAll(d.re)) {
            if (d.accept && !d.accept(m[0])) continue;
            context.report({ message: t('FOUND', { kind: name }), range: [m.index, m.index + m[0].length], data: { kind: name } });
          }
        }
      },
    };
  },
};

let config: Promise<{ lint: typeof import('@secretlint/core').lintSource; config: SecretLintCoreConfig }> | undefined;

function load() {
  config ??= (async () => {
    const [{ lintSource }, preset] = await Promise.all([import('@secretlint/core'), import('@secretlint/secretlint-rule-preset-recommend')]);
    return { lint: lintSource, config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: preset.creator }, { id: 'g7', rule: g7Rule }] } };
  })();
  return config;
}

/** Sensitive spans of a text, sorted and without overlaps (the longer one wins). */
export async function findSensitive(text: string): Promise<Finding[]> {
  const { lint, config: c } = await load();
  const r = await lint({ source: { content: text, filePath: '/audit.txt', ext: '.txt', contentType: 'text' }, options: { config: c, noPhysicFilePath: true } });
  const found: Finding[] = [];
  for (const m of r.messages) {
    if (m.type !== 'message') continue;
    const g7 = m.ruleId === 'g7' ? (m.data as { kind?: string } | undefined)?.kind : undefined;
    const rule = g7 ? `g7/${g7}` : `secretlint/${m.ruleId.replace(/^@secretlint\/secretlint-rule-/, '')}`;
    found.push({ rule, kind: g7 ? DETECTORS[g7]!.kind : 'secret', start: m.range[0], end: m.range[1] });
  }
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Finding[] = [];
  for (const f of found) {
    const prev = out.at(-1);
    if (prev && f.start < prev.end) {
      if (f.end > prev.end) prev.end = f.end;
      continue;
    }
    out.push(f);
  }
  return out;
}

export function maskSpans(text: string, found: Finding[]): string {
  let out = '';
  let at = 0;
  for (const f of found) {
    out += text.slice(at, f.start) + `[${f.kind}]`;
    at = f.end;
  }
  return out + text.slice(at);
}

/** The text with every sensitive span masked. */
export async function maskSensitive(text: string): Promise<string> {
  return maskSpans(text, await findSensitive(text));
}
