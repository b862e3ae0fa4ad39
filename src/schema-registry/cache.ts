// The registry client's caches. Schema ids and the schemas they name never change, so those are kept
// for the client's life; a subject's latest version changes, so it is kept for a time. Concurrent
// loads of one key share one request, and a failed load is not kept.

export class LoadingCache<K, V> {
  private readonly values = new Map<K, { value: V; expires: number }>()
  private readonly loading = new Map<K, Promise<V>>()

  /** `ttlMs`: how long a value is kept (default: for ever). */
  constructor(private readonly ttlMs = Number.POSITIVE_INFINITY) {}

  /** The value when it is cached and fresh. */
  get(key: K): V | undefined {
    const entry = this.values.get(key)
    if (entry === undefined) return undefined
    if (entry.expires > Date.now()) return entry.value
    this.values.delete(key)
    return undefined
  }

  /** The cached value, or the one `load` yields; one `load` at a time per key. */
  load(key: K, load: () => Promise<V>): Promise<V> {
    const cached = this.get(key)
    if (cached !== undefined) return Promise.resolve(cached)
    let pending = this.loading.get(key)
    if (pending === undefined) {
      pending = load().then(
        (value) => {
          this.loading.delete(key)
          this.set(key, value)
          return value
        },
        (error) => {
          this.loading.delete(key)
          throw error
        },
      )
      this.loading.set(key, pending)
    }
    return pending
  }

  set(key: K, value: V): void {
    this.values.set(key, { value, expires: Date.now() + this.ttlMs })
  }

  /** Forgets the keys `matches` picks. */
  forget(matches: (key: K) => boolean): void {
    for (const key of this.values.keys()) if (matches(key)) this.values.delete(key)
  }
}
