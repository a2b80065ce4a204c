/** `glob.quote_meta` as burrego implements it (`crates/burrego/src/builtins/glob.rs`). */
import { expectArity, expectString } from './builtin.js';

export function globQuoteMeta(...args: unknown[]): string {
  const name = 'glob.quote_meta';
  expectArity(name, args, 1, 'wrong number of arguments');
  // burrego escapes exactly these characters; OPA's own implementation differs, so this is not Go's.
  return expectString(name, args[0], '1st parameter is not a string').replace(/[*?\\[\]{}]/g, '\\$&');
}
