// The job summary of a truck: a Mermaid chart GitHub renders (a pie of the cards' outcomes, failures by
// triage class) and the table of cards. Pure: Markdown out, written by the caller.
import type { VerifyReport } from '../contracts/types.gen.js';

export interface SummaryLinks {
  /** The evidence folder in the pushed commit, when it reached the remote. */
  evidenceUrl?: string | undefined;
  commitUrl?: string | undefined;
  /** Why there is no evidence URL: dry run, push off, or a push that did not go through. */
  notOnRemote?: string | undefined;
}

/** Mermaid pie labels are quoted strings: keep them to characters its grammar takes. */
function label(s: string): string {
  return s.replace(/["\n\r]/g, ' ');
}

/** Outcomes of the truck's slots: PASS, FAIL by triage class, SKIP, and cards not reached yet. */
export function outcomeCounts(report: VerifyReport): [string, number][] {
  const counts = new Map<string, number>();
  const add = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  for (const c of report.cards) add(c.status === 'FAIL' ? `FAIL ${c.triage?.class ?? '?'}` : c.status);
  if (report.counts.pending) counts.set('not run yet', report.counts.pending);
  const order = (k: string) => (k === 'PASS' ? 0 : k.startsWith('FAIL') ? 1 : k === 'SKIP' ? 2 : 3);
  return [...counts].sort((a, b) => order(a[0]) - order(b[0]) || a[0].localeCompare(b[0]));
}

export function outcomeChart(report: VerifyReport): string {
  const total = report.cards.length + report.counts.pending;
  return [
    '```mermaid',
    `pie showData title ${label(`${report.run_id}: ${total} cards of truck ${report.truck}`)}`,
    ...outcomeCounts(report).map(([k, n]) => `    "${label(k)}" : ${n}`),
    '```',
  ].join('\n');
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

export function truckSummary(report: VerifyReport, message: string, links: SummaryLinks = {}): string {
  const c = report.counts;
  const lines = [
    `## G7 ${report.run_id}: truck ${report.truck} of ${report.day} — ${report.state}`,
    '',
    cell(message),
    '',
    `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped, ${c.pending} not run yet; ${(report.tokens?.in ?? 0) + (report.tokens?.out ?? 0)} tokens, $${(report.cost_usd ?? 0).toFixed(4)}`,
    '',
  ];
  if (links.evidenceUrl) lines.push(`Evidence: [${report.run_id}](${links.evidenceUrl})${links.commitUrl ? ` in [this commit](${links.commitUrl})` : ''}`, '');
  else lines.push(`Evidence: in the runner's checkout only (${links.notOnRemote ?? 'not pushed'}).`, '');
  if (report.cards.length + c.pending > 0) lines.push(outcomeChart(report), '');
  lines.push('| slot | card | type | status | attempts | triage | ms |', '|---:|---|---|---|---:|---|---:|');
  for (const k of report.cards)
    lines.push(`| ${k.slot} | ${k.id} | ${k.type} | ${k.status} | ${k.attempts} | ${k.triage ? cell(`${k.triage.class}: ${k.triage.reason}`) : ''} | ${k.duration_ms} |`);
  return lines.join('\n') + '\n';
}
