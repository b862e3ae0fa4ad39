// Environment variables, named from the schema: `KAFKA_<OPTION>` for the common section,
// `KAFKA_PRODUCER_<OPTION>`, `KAFKA_CONSUMER_<OPTION>`, `KAFKA_ADMIN_<OPTION>` for the others, with
// nested options joined by `_` (producer.batch.lingerMs -> KAFKA_PRODUCER_BATCH_LINGER_MS).
// Secrets and certificates may also come from a file named by `<VARIABLE>_FILE`.

import { CLIENT_FIELDS } from '../client/options.ts'
import { type Leaf, leaves, type Tree } from '../options/schema.ts'
import { readValueFile } from '../options/validate.ts'
import { didYouMean } from '../options/values.ts'
import { type Layer, SECTIONS, type SectionName, validateLayer } from './sections.ts'

export interface EnvVariable {
  name: string
  section: SectionName
  path: string[]
  spec: Leaf
  /** The variable names a file holding the value. */
  file: boolean
}

/** `batch.lingerMs` -> `BATCH_LINGER_MS`. */
export function envSegment(path: string[]): string {
  return path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_')
}

const prefix = (section: SectionName) => (section === 'common' ? 'KAFKA_' : `KAFKA_${section.toUpperCase()}_`)

/** Every variable the configuration reads, in schema order. */
export function envVariables(): EnvVariable[] {
  const out: EnvVariable[] = []
  for (const [section, fields] of Object.entries(SECTIONS) as [SectionName, typeof SECTIONS.common][]) {
    for (const [path, spec] of leaves(fields)) {
      if (spec.kind === 'function' || spec.kind === 'object') continue
      const name = prefix(section) + envSegment(path)
      out.push({ name, section, path, spec, file: false })
      if (spec.file || spec.secret) out.push({ name: `${name}_FILE`, section, path, spec, file: true })
    }
  }
  return out
}

// Variables under these prefixes are ours, so an unknown one is a typo worth reporting; other
// KAFKA_* variables (KAFKA_HEAP_OPTS, ...) belong to other tools.
const OWN_PREFIXES = [
  ...(['producer', 'consumer', 'admin'] as const).map(prefix),
  ...Object.entries(CLIENT_FIELDS)
    .filter(([, spec]) => spec.kind === 'group')
    .map(([name]) => `KAFKA_${envSegment([name])}_`),
]

/** The environment as a validated layer; files named by `_FILE` variables are read here. */
export function readEnv(env: Record<string, string | undefined>, problems: string[]): Layer {
  const variables = envVariables()
  const byName = new Map(variables.map((v) => [v.name, v]))
  const layer: Tree = {}
  const names = new Map<string, string>()
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || value === '') continue
    const variable = byName.get(name)
    if (!variable) {
      if (!OWN_PREFIXES.some((p) => name.startsWith(p))) continue
      const hint = didYouMean(name, byName.keys())
      problems.push(`unknown environment variable ${name}${hint ? `; did you mean ${hint}?` : ''}`)
      continue
    }
    const key = [variable.section, ...variable.path].join('.')
    if (names.has(key)) {
      problems.push(`${names.get(key)} and ${name} both set ${key}: set one`)
      continue
    }
    names.set(key, name)
    let text = value
    if (variable.file) {
      try {
        text = readValueFile(value)
      } catch (error) {
        problems.push(`${name}: cannot read ${value} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`)
        continue
      }
    }
    let node = layer
    for (const part of [variable.section, ...variable.path.slice(0, -1)]) {
      node[part] ??= {}
      node = node[part] as Tree
    }
    node[variable.path.at(-1)!] = text
  }
  const label = (path: string[]) => `${names.get(path.join('.'))} (${path.join('.')})`
  return validateLayer(layer, { name: 'environment', baseDir: process.cwd(), text: true, label }, problems)
}
