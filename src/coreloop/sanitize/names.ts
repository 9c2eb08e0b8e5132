// What `sanitize` masks besides secrets: URLs (in every mode, every string field), and in mask mode company
// names: the Korean legal forms ((주)가온, 가온(주), ㈜가온, 가온주식회사, 주식회사 가온, 유한회사 …), Korean names
// ending in a line of business (삼성전자, 미래에셋증권), Latin names with a legal suffix (Acme Corp., Foo Co., Ltd.)
// and the names a person lists in factory.yaml (`coreloop.sanitize.names`). Over-masking is the safe side.

const URL = /\b(?:https?|ftp|wss?):\/\/[^\s"'<>)\]]+|\bwww\.[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+[^\s"'<>)\]]*/giu;

export function maskUrls(s: string): string {
  return s.replace(URL, '[url]');
}

const WORD = '[\\p{L}\\p{N}&·-]+';
const FORM = '(?:\\(주\\)|㈜|\\(株\\)|\\(유\\))';
const LEGAL = '(?:주식회사|유한회사|유한책임회사|합자회사)';
// A line of business that ends many Korean company names; two letters or more before it.
const TRADE = '(?:전자|전기|그룹|증권|은행|보험|생명|화재|손해보험|홀딩스|지주|금융지주|건설|화학|케미칼|제약|바이오|물산|상사|중공업|조선|해운|항공|자동차|모터스|반도체|디스플레이|에너지|통신|텔레콤|카드|캐피탈|투자|자산운용|엔터테인먼트|푸드|제과|식품|철강|제철|정유|산업|솔루션|시스템|시스템즈|테크|네트웍스|소프트|랩스|파트너스)';
const LATIN_SUFFIX = '(?:Inc|Corp|Corporation|Co\\.,?\\s?Ltd|Co|Ltd|LLC|PLC|GmbH|AG|N\\.V|S\\.A)';

const COMPANY = new RegExp(
  [
    `${FORM}\\s?${WORD}`, // (주)가온, ㈜ 가온
    `${LEGAL}\\s+${WORD}`, // 주식회사 가온
    `(?<![\\p{L}\\p{N}])[가-힣A-Za-z]{2,}${TRADE}`, // 삼성전자, 미래에셋증권, LG에너지솔루션
    `${WORD}${LEGAL}`, // 가온주식회사
    `${WORD}${FORM}`, // 가온(주)
    `\\b(?:[A-Z][\\w&-]*\\s){0,3}[A-Z][\\w&-]*,?\\s${LATIN_SUFFIX}\\b\\.?`, // Acme Corp., Foo Bar Co., Ltd.
  ].join('|'),
  'gu',
);

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A masker for company names: the built-in forms and the listed names (longest first, Latin case-blind). */
export function companyMasker(names: readonly string[]): (s: string) => string {
  const listed = [...new Set(names.map((n) => n.trim()).filter(Boolean))].sort((a, b) => b.length - a.length);
  const list = listed.length ? new RegExp(listed.map(escape).join('|'), 'giu') : undefined;
  return (s) => (list ? s.replace(list, '[company]') : s).replace(COMPANY, '[company]');
}
