// Small statistics helpers shared by the runner and the client processes.

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** p50/p99/p99.9 of latencies in milliseconds (sorts in place). */
export function percentiles(latencies: number[]): { p50Ms: number; p99Ms: number; p999Ms: number } {
  latencies.sort((a, b) => a - b)
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]
  return { p50Ms: at(0.5), p99Ms: at(0.99), p999Ms: at(0.999) }
}
