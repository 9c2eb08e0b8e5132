// pull_request webhook payloads as GitHub sends them: the community examples of @octokit/webhooks-examples,
// reshaped for the pull request a test needs.
import { createRequire } from 'node:module';
import type { Json } from './github-server.js';

const require = createRequire(import.meta.url);
const definitions = require('@octokit/webhooks-examples') as { name: string; examples: Json[] }[];
const prExamples = definitions.find((d) => d.name === 'pull_request')!.examples;

/** A real pull_request payload of this activity (the `labeled` one reshaped when the package has none). */
export function webhookPayload(action: string, pr: { number: number; nodeId: string; title: string; head: string; labels: string[]; autoMerge: boolean }): Json {
  const base = structuredClone(prExamples.find((e) => e.action === action) ?? prExamples.find((e) => e.action === 'labeled')!);
  base.action = action;
  base.number = pr.number;
  const p = base.pull_request as Json;
  const labelShape = ((p.labels as Json[])[0] ?? {}) as Json;
  Object.assign(p, {
    number: pr.number,
    node_id: pr.nodeId,
    title: pr.title,
    labels: pr.labels.map((name, i) => ({ ...labelShape, id: 9000 + i, name })),
    auto_merge: pr.autoMerge ? { enabled_by: p.user, merge_method: 'squash', commit_title: pr.title, commit_message: '' } : null,
  });
  p.head = { ...(p.head as Json), ref: pr.head };
  if (action === 'labeled' || action === 'unlabeled') base.label = { ...labelShape, name: pr.labels.at(-1) ?? 'auto-merge' };
  return base;
}

