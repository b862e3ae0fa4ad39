// The option tables of docs/configuration.md (and of the clients loadConfig does not configure, such
// as the ShareConsumer in docs/share-groups.md), generated from the options' descriptions (with their
// defaults) so that the documentation always lists every option and environment variable the code
// reads.

import { type Fields, type Leaf, leaves } from '../options/schema.ts'
import { describe } from '../options/validate.ts'
import { formatDuration, formatSize } from '../options/values.ts'
import { envVariables } from './env.ts'
import { SECTION_NAMES, SECTIONS } from './sections.ts'

function formatDefault(spec: Leaf): string {
  const value = spec.default
  if (value === undefined) return ''
  if (spec.kind === 'duration') return formatDuration(value as number)
  if (spec.kind === 'size') return formatSize(value as number)
  return Array.isArray(value) ? value.join(', ') : String(value)
}

const typeOf = (spec: Leaf) => describe(spec) + (spec.secret ? ', secret' : '')

/** One markdown table per section: variable(s), option, type, default, description. */
export function environmentTables(): string {
  const variables = new Map<string, string[]>()
  for (const v of envVariables()) {
    const key = [v.section, ...v.path].join('.')
    variables.set(key, [...(variables.get(key) ?? []), `\`${v.name}\``])
  }
  const out: string[] = []
  for (const section of SECTION_NAMES) {
    out.push(`### ${section}`, '')
    out.push('| Variable | Option | Type | Default | Description |', '|---|---|---|---|---|')
    for (const [path, spec] of leaves(SECTIONS[section])) {
      const option = [section, ...path].join('.')
      const type = typeOf(spec)
      const names = variables.get(option)?.join(', ') ?? 'code only'
      out.push(`| ${names} | \`${option}\` | ${type} | ${formatDefault(spec)} | ${spec.doc} |`)
    }
    out.push('')
  }
  return out.join('\n')
}

/** One markdown table of a client's options in code (no environment variables): option, type, default, description. */
export function optionsTable(fields: Fields): string {
  const out = ['| Option | Type | Default | Description |', '|---|---|---|---|']
  for (const [path, spec] of leaves(fields)) {
    out.push(`| \`${path.join('.')}\` | ${typeOf(spec)} | ${formatDefault(spec)} | ${spec.doc} |`)
  }
  return out.join('\n')
}
