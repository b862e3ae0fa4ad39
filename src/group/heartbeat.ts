// Heartbeats on their own timer, as the Java client's heartbeat thread: a slow handler or a
// listener busy committing never costs the member its session. One beat at a time; the next is
// due an interval after the last one settled, or sooner when the beat says so (a backoff) or the
// member asks for one now (KIP-848: to join, to acknowledge an assignment). Waiting for the next
// beat does not keep the process alive.

export class HeartbeatTimer {
  /** The time between beats; the consumer protocol takes it from the broker's answers. */
  intervalMs: number
  private readonly beat: () => Promise<number | undefined>
  private timer: NodeJS.Timeout | undefined
  /** The beat in flight, if any. */
  private running: Promise<void> | undefined
  private stopped = true
  /** A beat was asked for while one was in flight: it goes as soon as that one settled. */
  private soon = false

  /**
   * `beat` sends one heartbeat and handles its answer; it must not reject. It may return the delay
   * before the next beat (default: the interval).
   */
  constructor(intervalMs: number, beat: () => Promise<number | undefined>) {
    this.intervalMs = intervalMs
    this.beat = beat
  }

  start(): void {
    this.stopped = false
    this.schedule(this.intervalMs)
  }

  /** No beat after this one; a beat in flight finishes. */
  stop(): void {
    this.stopped = true
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /** Resolves once the beat in flight (if any) settled. */
  async settled(): Promise<void> {
    await this.running
  }

  /** The next beat now, or as soon as the one in flight settled. */
  now(): void {
    if (this.stopped) return
    if (this.running !== undefined) {
      this.soon = true
      return
    }
    clearTimeout(this.timer)
    this.schedule(0)
  }

  private schedule(ms: number): void {
    this.timer = setTimeout(() => void this.run(), ms)
    // a beat asked for now goes, whatever else keeps the process alive
    if (ms > 0) this.timer.unref()
  }

  private async run(): Promise<void> {
    // marked before the beat starts: what it does synchronously may ask for the next one
    let settle!: () => void
    this.running = new Promise((resolve) => {
      settle = resolve
    })
    let delay: number | undefined
    try {
      delay = await this.beat()
    } finally {
      this.running = undefined
      settle()
    }
    if (this.stopped) return
    const next = this.soon ? 0 : (delay ?? this.intervalMs)
    this.soon = false
    this.schedule(next)
  }
}
