// The kafkax the client processes measure: the compiled package in dist/ (`npm run build`, which
// bench/run.ts does first), the code users run. The TypeScript sources through tsx would add work
// users never pay for (esbuild's keepNames wraps every closure created per record in `__name`).
// Loaded on demand, so that the peers' processes never load it.

import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export async function kafkaxBuild() {
  const dist = new URL('../../dist/', import.meta.url)
  if (!existsSync(fileURLToPath(dist))) throw new Error('dist/ is missing: run `npm run build` first')
  const load = (path: string) => import(new URL(path, dist).href)
  return {
    ...((await load('producer/producer.js')) as typeof import('../../src/producer/producer.ts')),
    ...((await load('consumer/consumer.js')) as typeof import('../../src/consumer/consumer.ts')),
    ...((await load('consumer/fetcher.js')) as typeof import('../../src/consumer/fetcher.ts')),
    ...((await load('client/cluster.js')) as typeof import('../../src/client/cluster.ts')),
    ...((await load('share/consumer.js')) as typeof import('../../src/share/consumer.ts')),
  }
}
