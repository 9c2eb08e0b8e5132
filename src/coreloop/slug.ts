// A stable ASCII slug for branch names. Hangul is romanized (Revised Romanization, syllable by syllable:
// 수익성 → suikseong); other letters lose their accents; anything that cannot be spelled in ASCII adds a
// short hash of the whole name, so two different names never share a slug and the same name always gets
// the same one.
import { createHash } from 'node:crypto';

const INITIAL = ['g', 'kk', 'n', 'd', 'tt', 'r', 'm', 'b', 'pp', 's', 'ss', '', 'j', 'jj', 'ch', 'k', 't', 'p', 'h'];
const MEDIAL = ['a', 'ae', 'ya', 'yae', 'eo', 'e', 'yeo', 'ye', 'o', 'wa', 'wae', 'oe', 'yo', 'u', 'wo', 'we', 'wi', 'yu', 'eu', 'ui', 'i'];
const FINAL = ['', 'k', 'k', 'k', 'n', 'n', 'n', 't', 'l', 'k', 'm', 'l', 'l', 'l', 'p', 'l', 'm', 'p', 'p', 't', 't', 'ng', 't', 't', 'k', 't', 'p', 't'];

function romanize(ch: string): string | undefined {
  const c = ch.codePointAt(0)!;
  if (c < 0xac00 || c > 0xd7a3) return undefined;
  const i = c - 0xac00;
  return INITIAL[Math.floor(i / 588)]! + MEDIAL[Math.floor((i % 588) / 28)]! + FINAL[i % 28]!;
}

export function axisSlug(name: string, max = 40): string {
  let lossy = false;
  let out = '';
  for (const ch of name.normalize('NFC')) {
    const r = romanize(ch);
    if (r !== undefined) {
      out += r;
      continue;
    }
    for (const c of ch.normalize('NFKD').replace(/\p{M}/gu, '')) {
      if (/[A-Za-z0-9]/.test(c)) out += c.toLowerCase();
      else {
        if (c.charCodeAt(0) > 127) lossy = true;
        out += '-';
      }
    }
  }
  let slug = out.replace(/-+/g, '-').replace(/^-|-$/g, '').slice(0, max).replace(/-$/, '');
  if (lossy || slug === '') slug = `${slug ? `${slug}-` : ''}${createHash('sha256').update(name).digest('hex').slice(0, 6)}`;
  return slug;
}
