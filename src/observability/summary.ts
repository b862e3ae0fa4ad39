// Running summary of durations (or sizes): count, mean and max of everything, percentiles from a
// bounded sample of the most recent values, so stats() costs the same however long a client runs.

const SAMPLE = 4096

export interface SummarySnapshot {
  count: number
  mean: number
  p50: number
  p99: number
  max: number
}

export class Summary {
  private count = 0
  private sum = 0
  private max = 0
  private readonly sample: number[] = []

  add(value: number): void {
    if (this.sample.length < SAMPLE) this.sample.push(value)
    else this.sample[this.count % SAMPLE] = value
    this.count++
    this.sum += value
    if (value > this.max) this.max = value
  }

  snapshot(): SummarySnapshot {
    const sorted = [...this.sample].sort((a, b) => a - b)
    const at = (q: number) =>
      sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
    return {
      count: this.count,
      mean: this.count ? this.sum / this.count : 0,
      p50: at(0.5),
      p99: at(0.99),
      max: this.max,
    }
  }
}
