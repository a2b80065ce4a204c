import { describe, expect, it } from 'vitest';
import { formatServiceLine } from './log-lines.js';

describe('formatServiceLine', () => {
  it('shortens pino JSON to level, message and the fields a user needs', () => {
    const line = JSON.stringify({
      level: 40,
      time: 1,
      pid: 7,
      hostname: 'h',
      msg: 'fetch failed',
      url: 'registry://r/p:v1',
      code: 'CASTELLAN_OCI_NOT_FOUND',
      err: { message: 'repository p not found on r', stack: '…' },
    });
    expect(formatServiceLine('fetcher', line)).toBe(
      'fetcher   warn  fetch failed url=registry://r/p:v1 code=CASTELLAN_OCI_NOT_FOUND error="repository p not found on r"',
    );
  });

  it('passes other lines through', () => {
    expect(formatServiceLine('gateway', 'plain text')).toBe('gateway   plain text');
  });
});
