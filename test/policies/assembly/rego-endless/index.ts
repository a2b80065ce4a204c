// Evaluation never ends: used to test the host's deadline for Rego policies.
import { JSONValue } from '../lib/json';
import { definePolicy } from '../lib/rego';

export * from '../lib/opa';

// Written on every iteration, and the condition depends on a value the host passes
// at run time, so the optimizer can neither drop the loop nor prove it finite.
let spins: u64 = 0;

function main(entrypoint: i32, _input: JSONValue | null, _data: JSONValue | null): JSONValue {
  while (entrypoint >= 0) spins++;
  return JSONValue.newArray();
}

definePolicy('{"policy/main":0}', '{}', main);
