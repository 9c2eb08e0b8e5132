import { describe, expect, it } from 'vitest';

describe('test runtime', () => {
  it('is Node 24, the runtime the action runs on (installed by npm ci from the `node` package)', () => {
    expect(process.versions.node.split('.')[0]).toBe('24');
  });
});
