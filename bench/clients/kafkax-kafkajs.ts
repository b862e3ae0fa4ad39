// kafkax/kafkajs as its users run it: the compiled package's `kafkax/kafkajs` entry (dist/kafkajs,
// built by bench/run.ts), driven by the very code that drives kafkajs. Only the import differs:
// what a kafkajs user gains by changing it.

import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The `kafkax/kafkajs` module, in place of `require('kafkajs')`. */
export async function kafkaxKafkajs() {
  const entry = new URL('../../dist/kafkajs/index.js', import.meta.url)
  if (!existsSync(fileURLToPath(entry))) throw new Error('dist/kafkajs is missing: run `npm run build` first')
  return (await import(entry.href)) as typeof import('../../src/kafkajs/index.ts')
}
