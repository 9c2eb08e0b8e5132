// A Guide or Caveats bullet as coreloop writes it: the text, then one line of provenance that starts with
// its stable id. Audit records name these ids, so each bullet's helpful and harmful record can be counted.
//
//   - Keep tags to the taxonomy's names: 5 of 5 recorded TAG cases passed that way.
//     [g7 G-3f2a9c1d | cand-2026-11-21-001 | rec 3f2a9c1d,8e7b6a5f,1c2d3e4f +2 | gemini-2.5-flash | 2026-11-21]

export interface Provenance {
  candidate: string;
  /** Short hashes of the audit records behind the bullet (the candidate file lists them all). */
  records: string[];
  recordsTotal: number;
  model: string;
  date: string;
}

export interface Bullet {
  /** `G-` + 8 hex for a Guide bullet, `C-` + 8 hex for a Caveat. */
  id: string;
  text: string;
  provenance: Provenance;
}

const ID = /\[g7 ([GC]-[0-9a-f]{8})\b/g;
const SHOWN_RECORDS = 3;

export function bulletLines(b: Bullet): string[] {
  const p = b.provenance;
  const shown = p.records.slice(0, SHOWN_RECORDS).map((r) => r.replace(/^[a-z0-9-]+:/, '').slice(0, 8));
  const more = p.recordsTotal > shown.length ? ` +${p.recordsTotal - shown.length}` : '';
  return [`- ${b.text.replace(/\s+/g, ' ').trim()}`, `  [g7 ${b.id} | ${p.candidate} | rec ${shown.join(',')}${more} | ${p.model} | ${p.date}]`];
}

/** The bullet ids present in a docstring's text. */
export function bulletIds(text: string): string[] {
  return [...text.matchAll(ID)].map((m) => m[1]!);
}
