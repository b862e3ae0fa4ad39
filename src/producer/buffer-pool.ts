// Batch buffers of one size, reused (as the Java client's BufferPool does for batch.size): a busy
// producer fills a full-size batch buffer per partition every few milliseconds, and a fresh one each
// time costs page faults and garbage collection of megabytes of external memory.

export class BufferPool {
  private readonly free: Buffer[] = []

  /** Keeps at most `maxFree` free buffers of `size` bytes. */
  constructor(
    readonly size: number,
    private readonly maxFree: number,
  ) {}

  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafe(this.size)
  }

  /** Returns a buffer nothing reads any more; one of another size (a batch that grew) is dropped. */
  give(buffer: Buffer): void {
    if (buffer.length === this.size && this.free.length < this.maxFree) this.free.push(buffer)
  }

  get freeCount(): number {
    return this.free.length
  }
}
