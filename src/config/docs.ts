// The option tables of docs/configuration.md, generated from the schema and defaults.yaml so that
// the documentation always lists every option and environment variable the code reads.

import { envVariables } from './env.ts'
import { builtInDefaults } from './load.ts'
import { type Leaf, leaves, SECTION_NAMES, SECTIONS } from './schema.ts'
import { describe, type Tree } from './validate.ts'
import { formatDuration, formatSize } from './values.ts'

function formatDefault(spec: Leaf, value: unknown): string {
  if (value === undefined) return ''
  if (spec.kind === 'duration') return formatDuration(value as number)
  if (spec.kind === 'size') return formatSize(value as number)
  return Array.isArray(value) ? value.join(', ') : String(value)
}

/** One markdown table per section: variable(s), option, type, default, description. */
export function environmentTables(): string {
  const defaults = builtInDefaults()
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
      const type = describe(spec) + (spec.secret ? ', secret' : '')
      const value = path.reduce<unknown>((node, key) => (node as Tree | undefined)?.[key], defaults[section])
      const names = variables.get(option)?.join(', ') ?? 'code only'
      out.push(`| ${names} | \`${option}\` | ${type} | ${formatDefault(spec, value)} | ${spec.doc} |`)
    }
    out.push('')
  }
  return out.join('\n')
}
