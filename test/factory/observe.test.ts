// Coreloop Observe from the run loop: one audit record per worker call, naming the steps its card took and
// how each went, so that cards that went the same way group together and cards that went differently do
// not; the prompt carries the skill's docstring (not the code around it) and the records name its bullets;
// G7_AUDIT_DISABLE=1 turns it off; a log that cannot be written is counted in the evidence, never fatal.
import { describe, expect, it } from 'vitest';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { factory, g7Process, runDir, type CardSpec } from './fixture.js';
import { explain } from '../../src/contracts/validate.js';
import type { AuditRecord } from '../../src/contracts/types.gen.js';

const SKILL = `// the tagger module
import { x } from './x';

/**
 * Tag one chunk against the taxonomy.
 *
 * @when A TAG card.
 * @how Compare with the taxonomy.
 * @param chunk - the chunk.
 * @returns the tags.
 * @guide
 * - Keep tags to the taxonomy's names.
 *   [g7 G-0a1b2c3d | cand-2026-11-01-001 | rec a,b,c | rules | 2026-11-01]
 * @caveats
 * @verified
 * @example
 * tag(chunk)
 */
export function tag(chunk: string): string[] {
  return x(chunk);
}
`;

const cards = (n: number): CardSpec[] => [
  ...Array.from({ length: n }, (_, i) => ({ id: `L1_SCAN_${String(i + 1).padStart(6, '0')}`, prio: 'A' as const, input: [`doc${String(i + 1).padStart(3, '0')}.md`], output: `ssot/library_index/scan/${i + 1}.jsonl`, accept: `lines>=1:ssot/library_index/scan/${i + 1}.jsonl` })),
  ...Array.from({ length: n }, (_, i) => ({
    id: `L2_TAG_${String(i + 1).padStart(6, '0')}`, prio: 'B' as const, input: `ssot/library_index/scan/${i + 1}.jsonl`, output: `ssot/library_index/tags/${i + 1}.jsonl`,
    // The last card's accept rule cannot hold: it fails, is reworked once, fails again.
    accept: i === n - 1 ? `lines>=999:ssot/library_index/tags/${i + 1}.jsonl` : `json:ssot/library_index/tags/${i + 1}.jsonl`,
    deps: [`L1_SCAN_${String(i + 1).padStart(6, '0')}`],
  })),
];

const FACTORY = 'library: { root: library }\ntaxonomy: ssot/rules/tags.yaml\nsensors: ssot/rules/sensors.yaml\nscan: { chunk_bytes: 1024 }\nskills: { TAG: "src/tagger.ts::tag" }\n';

async function records(ssot: string): Promise<AuditRecord[]> {
  // The store's shards (a folder per day, a file per process and hour), oldest first.
  const dir = path.join(ssot, 'store', 'audit', 'ai-ask');
  const out: AuditRecord[] = [];
  for (const f of (await readdir(dir, { recursive: true })).map(String).filter((n) => n.endsWith('.jsonl')).sort()) for (const l of (await readFile(path.join(dir, f), 'utf8')).split('\n').filter(Boolean)) out.push(JSON.parse(l));
  return out;
}

describe('Observe: audit records from the run loop', () => {
  it('one record per worker call, grouped by the steps the card took and their outcomes', async () => {
    const f = await factory(cards(3), { files: { 'ssot/factory.yaml': FACTORY, 'src/tagger.ts': SKILL } });
    const r = await f.g7('run');
    expect(r.code).toBe(4); // the last TAG card fails twice: FAIL_STOP
    const recs = await records(f.ssot);
    for (const rec of recs) expect(explain('audit_record', rec, { file: 'audit' })).toEqual([]);
    // 3 TAG cards over a 40-line file of 1024-byte chunks each; the failing one twice.
    const byCard = (id: string) => recs.filter((x) => JSON.parse(String(x.tool_calls[0]!.name === 'rework' ? x.tool_calls[1]!.args : x.tool_calls[0]!.args)).card === id);
    const good = [...byCard('L2_TAG_000001'), ...byCard('L2_TAG_000002')];
    const bad = byCard('L2_TAG_000003');
    expect(good.length).toBeGreaterThan(2);
    expect(recs).toHaveLength(good.length + bad.length);
    expect(new Set(good.map((x) => x.tool_sequence_hash)).size).toBe(1);
    expect(good[0]!.tool_calls.map((t) => `${t.name}:${t.ok}`)).toEqual(['ask:true', 'check:true', 'apply:true', 'accept:json:true']);
    const first = bad.filter((x) => x.tool_calls[0]!.name === 'ask');
    const rework = bad.filter((x) => x.tool_calls[0]!.name === 'rework');
    expect(first.length).toBe(rework.length);
    expect(first[0]!.tool_calls.map((t) => `${t.name}:${t.ok}`)).toEqual(['ask:true', 'check:true', 'apply:true', 'accept:lines>=999:false']);
    expect(rework[0]!.tool_calls.map((t) => t.name)).toEqual(['rework', 'ask', 'check', 'apply', 'accept:lines>=999']);
    const seqs = new Set([good[0]!.tool_sequence_hash, first[0]!.tool_sequence_hash, rework[0]!.tool_sequence_hash]);
    expect(seqs.size).toBe(3);
    // Same kind of work (type, entry or lane, skill, input kind): one category.
    expect(new Set(recs.map((x) => x.category_hash)).size).toBe(1);
    expect(recs[0]).toMatchObject({ category_hash: expect.stringMatching(/^TAG:lane2#[0-9a-f]{8}$/), skill_used: 'src/tagger.ts::tag', skill_bullets: ['G-0a1b2c3d'], provider: 'offline', error: null, violation: null });
    // chunk_len is the size of the chunk asked about, not of the (short, structured) answer.
    expect(recs.every((x) => x.chunk_len >= 400 && x.chunk_len <= 1100)).toBe(true);

    // The prompt held the docstring's lines, not the code around it.
    // (The response cache keeps each skill text once, by its digest, beside the answers.)
    const parts = path.join(f.ssot, 'store', 'cache', 'parts');
    const skills = await readdir(parts);
    expect(skills).toHaveLength(1);
    const skill = await readFile(path.join(parts, skills[0]!), 'utf8');
    expect(skill).toMatch(/^Tag one chunk against the taxonomy\.\n/);
    expect(skill).toContain('[g7 G-0a1b2c3d');
    expect(skill).not.toContain('import {');
    expect(skill).not.toContain('return x(chunk)');
    const result = JSON.parse(await readFile(path.join(runDir(f, 'run_0001'), 'cards', (await readdir(path.join(runDir(f, 'run_0001'), 'cards'))).find((d) => d.includes('L2_TAG_000001'))!, 'attempt-1.json'), 'utf8'));
    expect(result.audit_records).toEqual({ written: byCard('L2_TAG_000001').length });
  });

  it('G7_AUDIT_DISABLE=1 writes nothing; a log that cannot be written is counted and the run goes on', async () => {
    const off = await factory(cards(2).filter((c) => !c.accept?.startsWith('lines>=999')), { files: { 'ssot/factory.yaml': FACTORY, 'src/tagger.ts': SKILL } });
    const r = await g7Process(off.root, ['run'], { G7_AUDIT_DISABLE: '1' });
    expect(r.code, r.err).toBe(0);
    await expect(readdir(path.join(off.ssot, 'store', 'audit'))).rejects.toThrow();

    const broken = await factory(cards(2).filter((c) => !c.accept?.startsWith('lines>=999')), { files: { 'ssot/factory.yaml': FACTORY, 'src/tagger.ts': SKILL } });
    await rm(path.join(broken.ssot, 'store', 'audit'), { recursive: true, force: true });
    await mkdir(path.join(broken.ssot, 'store'), { recursive: true });
    await writeFile(path.join(broken.ssot, 'store', 'audit'), 'not a folder\n'); // every append fails
    const b = await g7Process(broken.root, ['run']);
    expect(b.code, b.err).toBe(0);
    expect(b.err).toMatch(/L2_TAG_000001: audit log not written: /);
    const cardsDir = path.join(runDir(broken, 'run_0001'), 'cards');
    const tagDir = (await readdir(cardsDir)).find((d) => d.includes('L2_TAG_000001'))!;
    const result = JSON.parse(await readFile(path.join(cardsDir, tagDir, 'attempt-1.json'), 'utf8'));
    expect(result.audit_records).toMatchObject({ written: 0, not_written: expect.stringMatching(/^audit log not written: /) });
    expect((await g7Process(broken.root, ['verify', 'run_0001'])).code).toBe(0);
  });

  it('backfill rebuilds from run evidence the records the run loop would have written, once', async () => {
    const opts = { files: { 'ssot/factory.yaml': FACTORY, 'src/tagger.ts': SKILL } };
    const live = await factory(cards(3), opts);
    await g7Process(live.root, ['run']);
    const quiet = await factory(cards(3), opts);
    await g7Process(quiet.root, ['run'], { G7_AUDIT_DISABLE: '1' });
    const dry = await g7Process(quiet.root, ['coreloop', 'backfill']);
    expect(dry.out).toMatch(/0 already in the log, 0 not rebuildable \(the cache holds no request\), (\d+) record\(s\) rebuilt\nnothing was written/);
    await expect(readdir(path.join(quiet.ssot, 'store', 'audit'))).rejects.toThrow();
    const done = await g7Process(quiet.root, ['coreloop', 'backfill', '--confirm']);
    expect(done.code, done.err).toBe(0);
    const key = (r: AuditRecord) => [r.request_hash, r.category_hash, r.tool_sequence_hash, r.question_hash, r.chunk_len, (r.skill_bullets ?? []).join(','), r.error, r.violation].join(' ');
    const want = (await records(live.ssot)).map(key).sort();
    expect(want.length).toBeGreaterThan(4);
    expect((await records(quiet.ssot)).map(key).sort()).toEqual(want);
    const again = await g7Process(quiet.root, ['--json', 'coreloop', 'backfill', '--confirm']);
    expect(JSON.parse(again.out)).toMatchObject({ rebuilt: 0, present: want.length, written: 0 });
  });
});
