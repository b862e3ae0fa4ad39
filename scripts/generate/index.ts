// `npm run generate` writes the generated sources; `npm run generate -- --check` fails when the
// committed ones differ from what the generator produces now.

import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { environmentTables, optionsTable } from '../../src/config/docs.ts'
import { SHARE_CONSUMER_FIELDS } from '../../src/share/options.ts'
import { ROOT } from '../kafka/harness.ts'
import { ERROR_CODES_FILE, errorCodesSource } from './error-codes.ts'
import { MESSAGES_DIR, messageSources } from './messages.ts'

const check = process.argv.includes('--check')
const stale: string[] = []

function emit(file: string, text: string): void {
  let current: string | undefined
  try {
    current = readFileSync(file, 'utf8')
  } catch {}
  if (current === text) return
  if (check) stale.push(relative(ROOT, file))
  else writeFileSync(file, text)
}

emit(ERROR_CODES_FILE, errorCodesSource())

// The option tables of docs/configuration.md come from the configuration schema.
const CONFIG_DOC = join(ROOT, 'docs/configuration.md')
emit(
  CONFIG_DOC,
  readFileSync(CONFIG_DOC, 'utf8').replace(
    /(<!-- options:begin -->\n)[\s\S]*(\n<!-- options:end -->)/,
    (_, begin, end) => `${begin}${environmentTables().trimEnd()}${end}`,
  ),
)

// The ShareConsumer's options (code only: loadConfig has no share section) in docs/share-groups.md.
const SHARE_DOC = join(ROOT, 'docs/share-groups.md')
emit(
  SHARE_DOC,
  readFileSync(SHARE_DOC, 'utf8').replace(
    /(<!-- options:begin -->\n)[\s\S]*(\n<!-- options:end -->)/,
    (_, begin, end) => `${begin}${optionsTable(SHARE_CONSUMER_FIELDS)}${end}`,
  ),
)

// The messages directory holds generated files only: stray ones (a message Kafka removed) go too.
const messages = messageSources()
mkdirSync(MESSAGES_DIR, { recursive: true })
for (const [name, text] of messages) emit(join(MESSAGES_DIR, name), text)
for (const name of readdirSync(MESSAGES_DIR)) {
  if (messages.has(name)) continue
  if (check) stale.push(relative(ROOT, join(MESSAGES_DIR, name)))
  else rmSync(join(MESSAGES_DIR, name))
}

if (stale.length > 0) {
  console.error(`generated files are out of date (run npm run generate): ${stale.join(', ')}`)
  process.exit(1)
}
