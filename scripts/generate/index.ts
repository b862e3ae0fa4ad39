// `npm run generate` writes the generated sources; `npm run generate -- --check` fails when the
// committed ones differ from what the generator produces now.

import { readFileSync, writeFileSync } from 'node:fs'
import { relative } from 'node:path'
import { ROOT } from '../kafka/harness.ts'
import { ERROR_CODES_FILE, errorCodesSource } from './error-codes.ts'

const outputs: [file: string, source: () => string][] = [[ERROR_CODES_FILE, errorCodesSource]]

const check = process.argv.includes('--check')
const stale: string[] = []
for (const [file, source] of outputs) {
  const text = source()
  let current: string | undefined
  try {
    current = readFileSync(file, 'utf8')
  } catch {}
  if (current === text) continue
  if (check) stale.push(relative(ROOT, file))
  else writeFileSync(file, text)
}
if (stale.length > 0) {
  console.error(`generated files are out of date (run npm run generate): ${stale.join(', ')}`)
  process.exit(1)
}
