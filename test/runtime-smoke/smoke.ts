// Shared by the runtime smoke tests: the broker addresses scripts/runtimes.ts passes in, unique topic
// names, and waits with deadlines. These files run from an installed kafkax package (`import 'kafkax'`)
// under Node.js, Bun and Deno alike, so they use nothing but kafkax and node: modules.

import { randomBytes } from 'node:crypto'

function env(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set: run the smoke suite with npm run runtimes -- smoke`)
  return value
}

/** The PLAINTEXT bootstrap list. */
export const brokers = (): string[] => env('KAFKA_BROKERS').split(',')
/** The harness broker's SASL_SSL listener and the CA of its certificate. */
export const saslSsl = (): { broker: string; caFile: string } => ({
  broker: env('KAFKAX_SMOKE_SASL_SSL'),
  caFile: env('KAFKAX_SMOKE_CA_FILE'),
})

/** `bun`, `deno` or `node`: in topic and group names, so runs under several runtimes never meet. */
export const runtime = process.versions.bun ? 'bun' : (process.versions as { deno?: string }).deno ? 'deno' : 'node'

export function uniqueTopic(prefix: string): string {
  return `smoke-${runtime}-${prefix}-${randomBytes(4).toString('hex')}`
}

/** Resolves once `condition()` holds; fails after `timeoutMs` saying what it waited for. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
