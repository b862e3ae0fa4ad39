// The sections of a configuration file, each described by its client's own options: `common` holds
// the options of every client and applies to the three others.

import { ADMIN_OPTIONS } from '../admin/options.ts'
import { CLIENT_FIELDS } from '../client/options.ts'
import { CONSUMER_OPTIONS } from '../consumer/options.ts'
import { type Fields, group, type Tree } from '../options/schema.ts'
import { type Source, Validator } from '../options/validate.ts'
import { PRODUCER_OPTIONS } from '../producer/options.ts'

export const SECTIONS: Record<'common' | 'producer' | 'consumer' | 'admin', Fields> = {
  common: CLIENT_FIELDS,
  producer: PRODUCER_OPTIONS.fields,
  consumer: CONSUMER_OPTIONS.fields,
  admin: ADMIN_OPTIONS.fields,
}

export type SectionName = keyof typeof SECTIONS
export const SECTION_NAMES = Object.keys(SECTIONS) as SectionName[]

/** One layer of configuration (a file, the environment, overrides): its sections, validated. */
export type Layer = Partial<Record<SectionName, Tree>>

const SECTION_GROUPS = Object.fromEntries(SECTION_NAMES.map((name) => [name, group(name, SECTIONS[name])]))

/** An option put beside the sections, not in one: says which section holds it. */
function whereItBelongs(key: string): string | undefined {
  const sections = SECTION_NAMES.filter((name) => Object.hasOwn(SECTIONS[name], key))
  if (sections.length === 0) return undefined
  const names = sections.includes('common') ? ['common'] : sections
  return `; options go in a section: did you mean ${names.map((s) => `${s}.${key}`).join(' or ')}?`
}

/** Validates a whole layer: `{ common?, producer?, consumer?, admin? }`. */
export function validateLayer(raw: unknown, source: Source, problems: string[]): Layer {
  const layer = { fields: SECTION_GROUPS, unknownHint: whereItBelongs }
  return (new Validator(source, problems).group(layer, raw ?? {}, []) ?? {}) as Layer
}
