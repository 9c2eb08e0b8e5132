import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { createHash, generateKeyPairSync } from 'node:crypto';
import { link, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { findSensitive } from '../../src/coreloop/sanitize/detect.js';
import { explain } from '../../src/contracts/validate.js';
import { tempRepo } from '../helpers.js';
import { rec, writeDay } from './mining.js';
import { initRepo } from './repo.js';

const KEY = 'AIzaSyD-0123456789abcdefghijklmnopqrstu';
const PEM = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

describe('sanitize: what it finds', () => {
  it('finds keys, tokens, private keys, JWTs, e-mails, URLs with credentials, phones and Luhn-valid cards', async () => {
    const cases: [string, string][] = [
      [`key=${KEY}`, 'g7/google-api-key'],
      ['token ghp_0123456789abcdefghijklmnopqrstuvwxyz', 'secretlint/github'],
      ['oauth ya29.a0AfB_byC1234567890abcdefghijklmnop', 'g7/google-oauth-token'],
      [PEM, 'secretlint/privatekey'],
      ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U', 'g7/jwt'],
      ['write to 김철수 <chulsoo.kim@example.co.kr>', 'g7/email'],
      ['fetch https://bob:hunter2@db.example.com/x', 'g7/url-credentials'],
      ['call 010-1234-5678', 'g7/phone'],
      ['call +82 10-1234-5678', 'g7/phone'],
      ['card 4111 1111 1111 1111', 'g7/card'],
    ];
    for (const [text, rule] of cases) expect((await findSensitive(text)).map((f) => f.rule), text.slice(0, 30)).toContain(rule);
  });

  it('leaves ordinary audit text alone: dates, card ids, offsets, a number failing Luhn', async () => {
    for (const text of ['2026-11-21T10:00:00Z', 'L1_SCAN_000123', 'tag disclosures/a.md@1048576+65536', 'not a card 4111111111111112', 'ts 1763700000000', 'https://example.com/docs']) expect(await findSensitive(text), text).toEqual([]);
  });
});

describe('g7 coreloop sanitize', () => {
  async function logs() {
    const repo = await tempRepo({ example: true });
    const records = [
      rec('TAG:tag', 'seq:1', `tag disclosures/삼성전자.md for kim@example.com with ${KEY}`, { error: `HTTP 403 for key ${KEY}` }),
      rec('TAG:tag', 'seq:1', 'tag disclosures/plain.md', { tool_calls: [{ ...rec('a', 'b', 'c').tool_calls[0]!, args: `{"q":"https://u:p@host.example/x"}` }] }),
    ];
    const file = await writeDay(repo.layout.auditDir, '2026-11-20', records);
    return { repo, file, original: await readFile(file) };
  }

  it('--check names file, line and field, never prints the secret, and exits 3', async () => {
    const { repo } = await logs();
    const r = await repo.g7('coreloop', 'sanitize', '--check');
    expect(r.code).toBe(3);
    expect(r.err).toContain('ssot/audit/ai-ask/2026-11-20.jsonl:1: question: a secret: AIza… (39 characters) [g7/google-api-key]');
    expect(r.err).toContain(':1: error: a secret');
    expect(r.err).toContain(':2: tool_calls[0].args: a URL with credentials');
    expect(r.err + r.out).not.toContain(KEY);
    expect(r.out).toMatch(/^2 records in 1 file\(s\): /);
    for (const part of ['2 g7/google-api-key', '1 g7/email', '1 g7/url-credentials']) expect(r.out).toContain(part);
  });

  it('mask, drop and hash write copies with no secret left; the originals stay byte for byte', async () => {
    const { repo, file, original } = await logs();
    const key = 'k'.repeat(32);
    process.env.G7_SANITIZE_KEY = key;
    try {
      for (const mode of ['mask', 'drop', 'hash']) {
        const out = path.join(repo.root, `shared-${mode}`);
        const r = await repo.g7('coreloop', 'sanitize', '--mode', mode, '--out', out);
        expect(r.code, r.err).toBe(0);
        const text = await readFile(path.join(out, '2026-11-20.jsonl'), 'utf8');
        expect(text).not.toContain(KEY);
        expect(text).not.toContain('kim@example.com');
        expect(text).not.toContain('u:p@');
        const rows = text.trim().split('\n').map((l) => JSON.parse(l));
        for (const row of rows) expect(explain('audit_record', row, { file: mode })).toEqual([]);
        if (mode === 'mask') expect(rows[0].question).toBe('tag [path] for [email] with [secret]');
        else expect(rows[0].question).toBeNull();
        if (mode === 'hash') {
          const q = `tag disclosures/삼성전자.md for kim@example.com with ${KEY}`;
          expect(rows[0].question_hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
          expect(rows[0].question_hash).not.toContain(createHash('sha256').update(q).digest('hex'));
        }
      }
      expect((await readFile(file)).equals(original)).toBe(true);
      expect(await readdir(path.dirname(file))).toEqual(['2026-11-20.jsonl']);
    } finally {
      delete process.env.G7_SANITIZE_KEY;
    }
  });

  it('refuses --out equal to or inside --in (also through a symlink), and a key too short to be secret', async () => {
    const { repo } = await logs();
    const input = path.join(repo.layout.auditDir, 'ai-ask');
    expect((await repo.g7('coreloop', 'sanitize', '--mode', 'mask', '--in', input, '--out', input)).err).toMatch(/is the same folder as --in/);
    expect((await repo.g7('coreloop', 'sanitize', '--mode', 'mask', '--out', path.join(input, 'shared'))).err).toMatch(/is inside --in/);
    await mkdir(path.join(repo.root, 'links'));
    await symlink(input, path.join(repo.root, 'links', 'to-input'));
    const viaLink = await repo.g7('coreloop', 'sanitize', '--mode', 'mask', '--out', path.join(repo.root, 'links', 'to-input', 'x'));
    expect(viaLink.code).toBe(2);
    expect(viaLink.err).toMatch(/is inside --in/);
    process.env.G7_SANITIZE_KEY = 'short';
    try {
      const weak = await repo.g7('coreloop', 'sanitize', '--mode', 'hash', '--out', path.join(repo.root, 'x'));
      expect(weak.code).toBe(2);
      expect(weak.err).toMatch(/G7_SANITIZE_KEY is 5 characters; it needs at least 16/);
    } finally {
      delete process.env.G7_SANITIZE_KEY;
    }
  });

  it('--in a day file with --out its own folder is refused in every mode, and the day stays byte for byte', async () => {
    const { repo, file, original } = await logs();
    for (const mode of ['mask', 'drop', 'hash']) {
      const r = await repo.g7('coreloop', 'sanitize', '--mode', mode, '--in', file, '--out', path.dirname(file));
      expect(r.code, mode).toBe(2);
      expect(r.err).toMatch(/would write .*2026-11-20\.jsonl over the input file/);
      expect(r.out).not.toContain('the originals are unchanged');
    }
    expect((await readFile(file)).equals(original)).toBe(true);
    expect(await readdir(path.dirname(file))).toEqual(['2026-11-20.jsonl']);
    // A hard link to the day in --out is the day too.
    const out = path.join(repo.root, 'shared');
    await mkdir(out);
    await link(file, path.join(out, '2026-11-20.jsonl'));
    const viaLink = await repo.g7('coreloop', 'sanitize', '--mode', 'mask', '--in', file, '--out', out);
    expect(viaLink.code).toBe(2);
    expect((await readFile(file)).equals(original)).toBe(true);
  });

  it('without G7_SANITIZE_KEY the factory makes its own key once, outside git; no mode leaves an unkeyed hash', async () => {
    const { repo, file } = await logs();
    const git = await initRepo(repo.root);
    const plain = JSON.parse((await readFile(file, 'utf8')).split('\n')[0]!);
    const rows: Record<string, Record<string, unknown>> = {};
    for (const mode of ['mask', 'drop', 'hash']) {
      const r = await repo.g7('coreloop', 'sanitize', '--mode', mode, '--out', path.join(repo.root, `out-${mode}`));
      expect(r.code, r.err).toBe(0);
      expect(r.out).toMatch(new RegExp(`hashes keyed with the factory's own key, \\S*ssot/store/keys/sanitize\\.key${mode === 'mask' ? ' \\(generated now\\)' : ''}, which git never tracks`));
      rows[mode] = JSON.parse((await readFile(path.join(repo.root, `out-${mode}`, '2026-11-20.jsonl'), 'utf8')).split('\n')[0]!);
    }
    const key = (await readFile(path.join(repo.root, 'ssot/store/keys/sanitize.key'), 'utf8')).trim();
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect((await git.run(['status', '--porcelain', '--untracked-files=all'])).stdout).not.toContain('sanitize.key');
    for (const [mode, row] of Object.entries(rows)) {
      expect(row.question_hash, mode).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
      expect(row.question_hash).toBe(rows.mask!.question_hash);
      expect(row.request_id).not.toBe(plain.request_id);
      const call = (row.tool_calls as Record<string, unknown>[])[0]!;
      expect(call.args_hash).not.toBe(plain.tool_calls[0].args_hash);
      expect(JSON.stringify(row)).not.toContain(plain.question_hash.replace(/^sha256:/, ''));
    }
  });

  it('mask masks Korean company names, listed names, URLs and e-mails in every string field, nested too', async () => {
    const repo = await tempRepo({ example: true });
    const yaml = await readFile(repo.layout.factoryFile, 'utf8');
    await writeFile(repo.layout.factoryFile, `${yaml.trimEnd()}\ncoreloop:\n  sanitize:\n    names: [가나다라, Initech]\n`);
    const question = '삼성전자와 (주)가온, 나래(주), 한빛주식회사, 주식회사 누리, 가나다라와 Initech, Acme Corp. 공시 요약';
    const step = { ...rec('a', 'b', 'c').tool_calls[0]!, args: '{"u":"see https://dart.fss.or.kr/x?rcp=1 now"}', ok: false, error: 'fetch failed: https://intranet.example.com/a/b (ask ops@example.com) for 미래에셋증권' };
    const file = await writeDay(repo.layout.auditDir, '2026-11-20', [rec('TAG:tag', 'seq:1', question, { hint: 'from www.example.org/filings', tool_calls: [step], error: 'LG에너지솔루션 chunk refused' })]);
    const original = await readFile(file);
    for (const mode of ['mask', 'drop', 'hash']) {
      const out = path.join(repo.root, `out-${mode}`);
      const r = await repo.g7('coreloop', 'sanitize', '--mode', mode, '--out', out);
      expect(r.code, r.err).toBe(0);
      const text = await readFile(path.join(out, '2026-11-20.jsonl'), 'utf8');
      const row = JSON.parse(text);
      expect(explain('audit_record', row, { file: mode })).toEqual([]);
      for (const plain of ['https://', 'dart.fss', 'intranet.example.com', 'www.example.org', 'ops@example.com']) expect(text, `${mode}: ${plain}`).not.toContain(plain);
      expect(row.tool_calls[0].error).toBe('fetch failed: [url] (ask [email]) for ' + (mode === 'mask' ? '[company]' : '미래에셋증권'));
      if (mode !== 'mask') continue;
      for (const name of ['삼성전자', '가온', '나래', '한빛', '누리', '가나다라', 'Initech', 'Acme', 'LG에너지솔루션', '미래에셋증권']) expect(text, name).not.toContain(name);
      expect(row.question).toBe('[company]와 [company], [company], [company], [company], [company]와 [company], [company] 공시 요약');
      expect(row.error).toBe('[company] chunk refused');
    }
    expect((await readFile(file)).equals(original)).toBe(true);
  });

  it('keyed hashes: the same question gets the same hash under one key and a different one under another', async () => {
    const { repo } = await logs();
    const run = async (key: string, dir: string) => {
      process.env.G7_SANITIZE_KEY = key;
      try {
        await repo.g7('coreloop', 'sanitize', '--mode', 'hash', '--out', path.join(repo.root, dir));
      } finally {
        delete process.env.G7_SANITIZE_KEY;
      }
      return JSON.parse((await readFile(path.join(repo.root, dir, '2026-11-20.jsonl'), 'utf8')).split('\n')[0]!).question_hash;
    };
    const a = await run('a'.repeat(20), 'a1');
    expect(await run('a'.repeat(20), 'a2')).toBe(a);
    expect(await run('b'.repeat(20), 'b1')).not.toBe(a);
  });
});
