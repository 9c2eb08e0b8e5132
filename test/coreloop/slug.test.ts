import { describe, expect, it } from 'vitest';
import { axisSlug } from '../../src/coreloop/slug.js';

describe('axis slug', () => {
  it('romanizes Hangul, drops accents, keeps ASCII, and is stable', () => {
    expect(axisSlug('수익성')).toBe('suikseong');
    expect(axisSlug('감사의견 한정')).toBe('gamsauigyeon-hanjeong');
    expect(axisSlug('Café Crème')).toBe('cafe-creme');
    expect(axisSlug('related-party loans')).toBe('related-party-loans');
    expect(axisSlug('수익성')).toBe(axisSlug('수익성'.normalize('NFD')));
  });

  it('adds a hash when a name cannot be spelled in ASCII, so different names never collide', () => {
    const a = axisSlug('收益性');
    const b = axisSlug('收益率');
    expect(a).toMatch(/^[0-9a-f]{6}$/);
    expect(a).not.toBe(b);
    expect(axisSlug('TAG 收益')).toMatch(/^tag-[0-9a-f]{6}$/);
    expect(axisSlug('')).toMatch(/^[0-9a-f]{6}$/);
  });
});
