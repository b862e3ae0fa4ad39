// Heartbeats on their own timer, as the Java client's heartbeat thread: a slow handler or a
// listener busy committing never costs the member its session. One beat at a time; the next is
// due an interval after the last one settled. The timer does not keep the process alive.

export class HeartbeatTimer {
  private readonly intervalMs: number
  private readonly beat: () => Promise<void>
  private timer: NodeJS.Timeout | undefined

  /** `beat` sends one heartbeat and handles its answer; it must not reject. */
  constructor(intervalMs: number, beat: () => Promise<void>) {
    this.intervalMs = intervalMs
    this.beat = beat
  }

  start(): void {
    this.timer = setTimeout(() => void this.run(), this.intervalMs)
    this.timer.unref()
  }

  /** No beat after this one; a beat in flight finishes. */
  stop(): void {
    clearTimeout(this.timer)
    this.timer = undefined
  }

  private async run(): Promise<void> {
    await this.beat()
    if (this.timer) this.start()
  }
}
