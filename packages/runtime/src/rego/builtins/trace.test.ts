import { describe, expect, it, vi } from 'vitest';
import { createTrace } from './trace.js';

describe('trace', () => {
  it('hands the message over and returns null, as burrego does', () => {
    const onTrace = vi.fn();
    expect(createTrace(onTrace)('checking pod')).toBeNull();
    expect(onTrace).toHaveBeenCalledWith('checking pod');
  });

  it('rejects non-strings and wrong arity with burrego wording', () => {
    const trace = createTrace(() => undefined);
    expect(() => trace(1)).toThrow('Builtin error ["trace"]: "1st parameter is not a string"');
    expect(() => trace()).toThrow('Builtin error ["trace"]: "Wrong number of arguments"');
  });
});
