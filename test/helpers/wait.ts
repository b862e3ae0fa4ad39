// Waiting in tests: for a condition, with a deadline and a message saying what was awaited, so a
// test that would hang fails instead and tells why. Short sleeps stay for pacing (sending at a
// rate), never for "long enough that it must have happened". What must NOT happen is checked
// throughout a window that the behaviour under test defines (a session timeout, a rebalance
// timeout), failing at once when it does happen: holdsFor.

export interface WaitOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number
  /** Look again this often (default 25 ms). */
  intervalMs?: number
  /** What to add to the failure message: the state the condition looked at. */
  state?: () => unknown
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves once `condition` holds; rejects after the deadline with `what` (and the state) in the message. */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await condition()) return
    if (Date.now() >= deadline) {
      const state = options.state ? ` (state: ${describe(options.state())})` : ''
      throw new Error(`waited ${timeoutMs} ms for ${what}${state}`)
    }
    await sleep(options.intervalMs ?? 25)
  }
}

/**
 * Resolves after `durationMs` if `condition` held at every look; rejects at the first look where
 * it does not, naming `what` (and the state). For what must not happen within a window the test
 * itself defines, not for "long enough".
 */
export async function holdsFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  durationMs: number,
  options: Omit<WaitOptions, 'timeoutMs'> = {},
): Promise<void> {
  const started = Date.now()
  const end = started + durationMs
  for (;;) {
    if (!(await condition())) {
      const state = options.state ? ` (state: ${describe(options.state())})` : ''
      throw new Error(`${what} stopped holding after ${Date.now() - started} of ${durationMs} ms${state}`)
    }
    if (Date.now() >= end) return
    await sleep(Math.min(options.intervalMs ?? 25, Math.max(0, end - Date.now())))
  }
}

/** `promise`'s outcome, or a rejection naming `what` when it does not settle within `timeoutMs`. */
export function within<T>(what: string, promise: Promise<T>, timeoutMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${timeoutMs} ms`)), timeoutMs)
  })
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer))
}

function describe(value: unknown): string {
  try {
    return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))
  } catch {
    return String(value)
  }
}
