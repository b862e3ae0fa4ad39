// The life of a consumer's run(): it starts (connects, joins), then settles once the consumer has
// stopped; a failure to start stops the consumer and rejects run() with that failure. The run
// options' signal aborting, and SIGTERM or SIGINT with `handleSignals`, stop the consumer.

import type { RunOptions } from './options.ts'

/**
 * Starts with `begin` and returns both stages: `started` (begin's outcome) and `running` (run()'s
 * promise). A stop() that fails (its timeout) when the signal or a process signal called it, or
 * after a failed start, is given to `report`.
 */
export function runUntilStopped(
  begin: () => Promise<void>,
  stop: () => Promise<void>,
  stopped: Promise<void>,
  options: RunOptions,
  report: (error: Error) => void,
): { started: Promise<void>; running: Promise<void> } {
  const { signal, handleSignals } = options
  const onStop = () => void stop().catch(report)
  signal?.addEventListener('abort', onStop, { once: true })
  if (handleSignals) {
    process.once('SIGTERM', onStop)
    process.once('SIGINT', onStop)
  }
  const started = begin()
  const running = started
    .then(
      () => stopped,
      async (error) => {
        await stop().catch(report)
        throw error
      },
    )
    .finally(() => {
      signal?.removeEventListener('abort', onStop)
      process.off('SIGTERM', onStop)
      process.off('SIGINT', onStop)
    })
  return { started, running }
}
