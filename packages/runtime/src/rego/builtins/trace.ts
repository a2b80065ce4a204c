/** `trace` as burrego implements it (`crates/burrego/src/builtins/debugging.rs`). */
import { expectArity, expectString } from './builtin.js';
import type { RegoBuiltin } from './builtin.js';

/**
 * burrego logs the message at debug level and returns `null` (OPA returns `true`; the compiled policy only
 * checks that the result is not `false`, so both let evaluation continue).
 */
export function createTrace(onTrace: (message: string) => void): RegoBuiltin {
  return (...args: unknown[]): null => {
    expectArity('trace', args, 1, 'Wrong number of arguments');
    onTrace(expectString('trace', args[0], '1st parameter is not a string'));
    return null;
  };
}
