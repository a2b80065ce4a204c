// validate allocates 16 MiB blocks and keeps every one until memory.grow fails, which
// traps (the allocator's `unreachable`). Used to test the host's memory limits.
// Big blocks keep it quick: near the 4 GiB ceiling each memory.grow costs V8 a few ms.
import { registerPolicy } from '../lib/policy';
import { accepted } from '../lib/kubewarden';

export { __guest_call } from '../lib/policy';

const CHUNK: usize = 16 << 20;
// Global and growing: nothing allocated here can ever be freed.
const hoard = new Array<usize>();

function validate(_payload: string): string {
  // heap.alloc does not zero the block, so the host's RSS stays small even when the
  // linear memory reaches 4 GiB: the test measures limits, not the machine's RAM.
  for (;;) hoard.push(heap.alloc(CHUNK));
  return accepted();
}

registerPolicy(validate);
