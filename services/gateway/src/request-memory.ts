/**
 * A cap on the request-body bytes the gateway holds across every request in flight. A review holds
 * up to 3 MiB and costs several times that while it is parsed and sent on: without a cap, 50
 * concurrent 2.9 MB reviews took the gateway past its 512 Mi container limit. Each request leases
 * bytes as its body arrives and gives them back when it ends, however it ends.
 */
export interface MemoryLease {
  /** Grows the lease to `total` bytes; false, and the lease unchanged, when that would pass the cap. */
  hold(total: number): boolean;
  /** Gives every leased byte back; later calls do nothing. */
  release(): void;
}

export class RequestMemoryBudget {
  private held = 0;

  constructor(readonly capBytes: number) {}

  /** Bytes leased now, across every request. */
  get heldBytes(): number {
    return this.held;
  }

  lease(): MemoryLease {
    let leased = 0;
    return {
      hold: (total) => {
        if (total <= leased) return true;
        if (this.held + total - leased > this.capBytes) return false;
        this.held += total - leased;
        leased = total;
        return true;
      },
      release: () => {
        this.held -= leased;
        leased = 0;
      },
    };
  }
}
