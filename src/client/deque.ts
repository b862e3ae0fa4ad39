/**
 * A FIFO whose shift() is O(1) at any length. Array.prototype.shift() moves every element once the
 * array is large (V8 trims only small arrays in place), and a consumer's partition queue (a whole
 * fetched response) or the producer's records waiting for buffer memory can be tens of thousands long.
 */
export class Deque<T> {
  private items: (T | undefined)[] = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  /** The item `i` places from the front (0: the next to leave). */
  at(i: number): T | undefined {
    return this.items[this.head + i]
  }

  push(item: T): void {
    this.items.push(item)
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined
    const item = this.items[this.head]
    this.items[this.head++] = undefined
    this.compact()
    return item
  }

  /** Removes and returns up to `n` items from the front. */
  take(n: number): T[] {
    const end = Math.min(this.items.length, this.head + n)
    const out = this.items.slice(this.head, end) as T[]
    this.items.fill(undefined, this.head, end)
    this.head = end
    this.compact()
    return out
  }

  /** Removes the item `i` places from the front. */
  removeAt(i: number): T {
    return this.items.splice(this.head + i, 1)[0] as T
  }

  /** Puts `item` `i` places from the front (0: it leaves next). */
  insertAt(i: number, item: T): void {
    this.items.splice(this.head + i, 0, item)
  }

  clear(): void {
    this.items = []
    this.head = 0
  }

  /**
   * Drops the consumed front once it is at least half the array: each item is copied O(1) times,
   * and a queue that empties after every item (the common case) reallocates once per 1024 items.
   */
  private compact(): void {
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
  }
}
