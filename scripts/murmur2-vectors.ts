// Regenerates fixtures/murmur2/vectors.json: seeded pseudo-random keys (random bytes and UTF-8
// strings, 0..64 bytes) hashed by the REAL Java client (Utils.murmur2, BuiltInPartitioner) from the
// harness's kafka-clients jar. Run: node --import tsx scripts/murmur2-vectors.ts

import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fetchLibs, ROOT, release } from './kafka/harness.ts'

/** xorshift32: deterministic keys without a dependency. */
function random(seed: number): () => number {
  let x = seed
  return () => {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    return (x >>> 0) / 0x1_0000_0000
  }
}

const next = random(0x6b61666b)
const keys: Buffer[] = []
for (let i = 0; i < 3000; i++) {
  const length = Math.floor(next() * 65)
  if (i % 2 === 0) keys.push(Buffer.from(Array.from({ length }, () => Math.floor(next() * 256))))
  else
    keys.push(Buffer.from(Array.from({ length }, () => String.fromCodePoint(32 + Math.floor(next() * 0x2ff))).join('')))
}

const rel = release('4.3')
fetchLibs(rel)
const java = spawnSync('java', ['-cp', `${rel.libs}/*`, join(ROOT, 'scripts/java/Murmur2Vectors.java')], {
  input: `${keys.map((k) => k.toString('hex')).join('\n')}\n`,
  encoding: 'utf8',
  maxBuffer: 64 * 1024 * 1024,
})
if (java.status !== 0) throw new Error(`Murmur2Vectors.java failed: ${java.stderr}`)
const vectors = java.stdout
  .trim()
  .split('\n')
  .map((line) => {
    const [key, hash, ...partitions] = line.split('\t')
    return [key, Number(hash), partitions.map(Number)]
  })
writeFileSync(
  join(ROOT, 'fixtures/murmur2/vectors.json'),
  `${JSON.stringify({ source: `kafka-clients ${rel.version}: Utils.murmur2, BuiltInPartitioner.partitionForKey(key, 1..12)`, format: ['keyHex', 'murmur2', 'partitionFor1to12'], vectors })}\n`,
)
console.log(`${vectors.length} vectors written`)
