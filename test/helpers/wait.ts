// Waiting in tests: for a condition, with a deadline and a message saying what was awaited.

/** Resolves once `condition()` holds; rejects after `timeoutMs` naming `what` it waited for. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
