// How an option is described: its type, allowed values, bounds, default and a doc line. Each
// client layer describes its own options with these (client/options.ts, producer/options.ts,
// consumer/options.ts...); the constructors validate and complete what users pass with them, and
// config/ derives loadConfig's validation, the environment variable names and the documentation
// tables from the same descriptions.

export type Tree = Record<string, unknown>

/** What a string (or each item of a list) must look like, beyond being a non-empty string. */
export interface Format {
  /** For messages: 'host:port', 'topic name'. */
  name: string
  /** The same for a list: 'host:port', 'topic names'. */
  plural: string
  test(text: string): boolean
}

export interface Leaf {
  kind:
    | 'string'
    | 'integer'
    | 'number'
    | 'boolean'
    | 'duration' // milliseconds: a number, or '250ms', '5s', '2m', '1h'
    | 'size' // bytes: a number, or '512B', '16KiB', '1MB', '1MiB', '1GiB'
    | 'enum'
    | 'list' // of strings; a comma-separated string is accepted too
    | 'assignments' // [{ topic, partition, offset? }] or 'topic:partition[:offset]' strings
    | 'pem' // a PEM string or Buffer (code: also a list of them)
    | 'function' // code only
    | 'object' // code only
  doc: string
  /** The value when the option is not set; absent when there is none or it depends on other options. */
  default?: unknown
  min?: number
  max?: number
  /** Allowed values of an enum, or of each list item; compared case-insensitively. */
  values?: readonly string[]
  /** Other spellings of enum values, e.g. acks -1 for 'all'. */
  aliases?: Record<string, string>
  /** A string, or each item of a list, must have this form. */
  format?: Format
  /** Never shown in messages; implies `file`. */
  secret?: boolean
  /** May be read from a file: `<name>File` in YAML and overrides, `<VARIABLE>_FILE` in the environment. */
  file?: boolean
  /** Code may pass a function instead of a named value (a custom partitioner). */
  orFunction?: boolean
  /** Code may pass RegExp items in the list (topic patterns). */
  orRegExp?: boolean
  /** Code may pass objects as list items (assignors of your own). */
  orObject?: boolean
  /** An object must be an instance of this class (kind 'object'). */
  instanceOf?: abstract new (
    ...args: never[]
  ) => unknown
}

export interface OptionGroup<F extends Fields = Fields> {
  kind: 'group'
  doc: string
  fields: F
  /** Fields that must be set once the group is set at all. */
  required?: readonly string[]
  /** `true`/`false` stand for `{ enabled: true/false }` (tls). */
  shorthand?: boolean
  /** Absent, the group stays absent (a mode such as the consumer's `batch`); else its defaults apply. */
  optional?: boolean
  /** Further keys code may pass through unchecked (Node's TLS options). */
  passThrough?: readonly string[]
  /** Says more about an unknown key when it is no typo of a known one (where it belongs instead). */
  unknownHint?: (key: string) => string | undefined
}

export type Spec = Leaf | OptionGroup
export type Fields = Record<string, Spec>
/** A description of every option of T: `{ ... } satisfies FieldsOf<MyOptions>` finds the missing ones. */
export type FieldsOf<T> = { [K in KeysOf<NonNullable<T>>]-?: Spec }
/** Every key of every member of a union (the options of each SASL mechanism). */
type KeysOf<T> = T extends unknown ? keyof T : never

export function group<F extends Fields>(doc: string, fields: F): OptionGroup<F>
export function group<F extends Fields, const E extends Partial<Omit<OptionGroup, 'kind' | 'doc' | 'fields'>>>(
  doc: string,
  fields: F,
  extra: E,
): OptionGroup<F> & E
export function group(doc: string, fields: Fields, extra: Partial<OptionGroup> = {}): OptionGroup {
  return { kind: 'group', doc, fields, ...extra }
}

/** `fields` without `names`, e.g. the consumer's options without `retry` of the client's. */
export function omit<F extends Fields, K extends keyof F & string>(fields: F, ...names: K[]): Omit<F, K> {
  const out: Fields = { ...fields }
  for (const name of names) delete out[name]
  return out as Omit<F, K>
}

/** Only `names` of `fields`, e.g. the client options a connection takes. */
export function pick<F extends Fields, K extends keyof F & string>(fields: F, ...names: K[]): Pick<F, K> {
  return Object.fromEntries(names.map((name) => [name, fields[name]])) as Pick<F, K>
}

/** Every leaf option under `fields`, with its path, depth first in schema order. */
export function* leaves(fields: Fields, path: string[] = []): Generator<[string[], Leaf]> {
  for (const [name, spec] of Object.entries(fields)) {
    if (spec.kind === 'group') yield* leaves(spec.fields, [...path, name])
    else yield [[...path, name], spec]
  }
}

/** A plain mapping of options (not a list, a Buffer, a RegExp...). */
export const isPlainObject = (v: unknown): v is Tree =>
  typeof v === 'object' && v !== null && [Object.prototype, null].includes(Object.getPrototypeOf(v))

const copy = (value: unknown) => (Array.isArray(value) ? [...value] : value)

/** `options` with the default of every option it leaves unset, in every group that applies. */
export function withDefaults<T extends object, F extends Fields>(fields: F, options: T): Resolved<T, F> {
  const out: Tree = { ...(options as Tree) }
  for (const [key, spec] of Object.entries(fields)) {
    const value = out[key]
    if (spec.kind === 'group') {
      if (isPlainObject(value)) out[key] = withDefaults(spec.fields, value)
      else if (value === undefined && !spec.optional) out[key] = withDefaults(spec.fields, {})
    } else if (value === undefined && spec.default !== undefined) out[key] = copy(spec.default)
  }
  return out as Resolved<T, F>
}

/** The defaults of the leaves of F that have one. */
export type Defaults<F> = {
  [K in keyof F as F[K] extends { default: unknown } ? K : never]: F[K] extends { default: infer D } ? D : never
}

/** The defaults of `fields`, for a part that fills in what its caller left unset. */
export const defaultsOf = <F extends Fields>(fields: F): Defaults<F> =>
  withDefaults(fields, {}) as unknown as Defaults<F>

/** Options of F always set once the defaults apply: those with a default, and the groups not optional. */
type Filled<F> = {
  [K in keyof F]: F[K] extends { default: unknown }
    ? K
    : F[K] extends { kind: 'group'; optional: true }
      ? never
      : F[K] extends { kind: 'group' }
        ? K
        : never
}[keyof F]
type OptionalGroups<F> = { [K in keyof F]: F[K] extends { kind: 'group'; optional: true } ? K : never }[keyof F]

/**
 * Options of type T as their constructor sees them once the defaults of schema F are applied: an
 * option with a default is always set, and so is every group that is not optional.
 */
export type Resolved<T, F extends Fields> = T extends object
  ? Omit<T, Filled<F> | OptionalGroups<F>> & {
      [K in keyof T & Filled<F>]-?: F[K] extends OptionGroup<infer G>
        ? Resolved<Exclude<T[K], undefined>, G>
        : Exclude<T[K], undefined>
    } & {
      [K in keyof T & OptionalGroups<F>]?: F[K] extends OptionGroup<infer G>
        ? Resolved<Exclude<T[K], undefined>, G>
        : never
    }
  : T

/** Legal topic names (Kafka's Topic.java: 1 to 249 of [a-zA-Z0-9._-], not '.' or '..'). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/

export const TOPIC: Format = {
  name: 'topic name',
  plural: 'topic names',
  test: (text) => TOPIC_NAME.test(text) && text !== '.' && text !== '..',
}
