/**
 * The state of a guest instance right after initialisation: its whole linear memory and every
 * mutable global (the module is instrumented so that non-exported globals, such as a stack pointer,
 * are reachable). Restoring it before a call gives that call exactly the state a fresh instance
 * would have — Kubewarden's isolation between requests — for the price of one memory copy instead
 * of an instantiation and a re-run of the guest's initialisation code.
 */
export class InstanceSnapshot {
  private constructor(
    private readonly memoryImage: Uint8Array,
    private readonly globalValues: readonly unknown[],
  ) {}

  static take(memory: WebAssembly.Memory, globals: readonly WebAssembly.Global[]): InstanceSnapshot {
    return new InstanceSnapshot(
      new Uint8Array(memory.buffer).slice(),
      globals.map((global) => global.value as unknown),
    );
  }

  get memoryBytes(): number {
    return this.memoryImage.length;
  }

  /**
   * Puts memory and globals back. Memory cannot shrink: pages a call grew are zeroed, which is
   * what a fresh instance would find there after growing the same way (allocators learn the
   * memory size from `memory.grow`, never assume it).
   */
  restore(memory: WebAssembly.Memory, globals: readonly WebAssembly.Global[]): void {
    const bytes = new Uint8Array(memory.buffer);
    bytes.set(this.memoryImage, 0);
    if (bytes.length > this.memoryImage.length) bytes.fill(0, this.memoryImage.length);
    globals.forEach((global, index) => {
      global.value = this.globalValues[index];
    });
  }
}
