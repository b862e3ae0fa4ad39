// loadConfig: the user's YAML file < environment variables < overrides from code, each layer
// validated by the options' own descriptions (the ones the constructors check with), merged option
// by option, and turned into plain options for Producer, Consumer and Admin. What no layer sets
// takes its default in the constructor, from the same descriptions.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import type { ClientOptions } from '../client/options.ts'
import { type SaslOptions, saslMechanism } from '../client/sasl/index.ts'
import type { ConsumerOptions } from '../consumer/options.ts'
import { type Fields, isPlainObject, type Tree } from '../options/schema.ts'
import { checkRequired, problemsError, settle } from '../options/validate.ts'
import type { ProducerOptions } from '../producer/options.ts'
import { readEnv } from './env.ts'
import { type Layer, SECTIONS, type SectionName, validateLayer } from './sections.ts'

/** The YAML parser, loaded on first use: importing kafkax does not pay for it. */
const yaml = (): typeof import('yaml') => createRequire(import.meta.url)('yaml')

/** What loadConfig returns: options for each client, ready for its constructor. */
export interface KafkaxConfig {
  producer: ProducerOptions
  consumer: ConsumerOptions
  admin: ClientOptions
}

/** Where loadConfig reads from, above the built-in defaults. */
export interface LoadConfigOptions {
  /** A YAML file with the sections `common`, `producer`, `consumer`, `admin` (docs/configuration.md). */
  file?: string
  /** Default `process.env`; pass `{}` to ignore the environment. */
  env?: Record<string, string | undefined>
  /** How messages name the overrides layer (default 'overrides'; the CLI says 'command line'). */
  overridesName?: string
  overrides?: {
    common?: Partial<ClientOptions>
    producer?: Partial<ProducerOptions>
    consumer?: Partial<ConsumerOptions>
    admin?: Partial<ClientOptions>
  }
}

function readYaml(path: string, name: string, problems: string[]): Layer {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    problems.push(`cannot read config file ${name} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`)
    return {}
  }
  let raw: unknown
  try {
    raw = yaml().parse(text)
  } catch (error) {
    // Only the first line: the rest quotes the offending line, which may hold a secret.
    problems.push(`${name}: not valid YAML: ${(error as Error).message.split('\n')[0]}`)
    return {}
  }
  return validateLayer(raw, { name, baseDir: dirname(path) }, problems)
}

/** `b` over `a`, option by option; lists and other leaves are replaced whole. */
function merge(fields: Fields, a: Tree, b: Tree | undefined): Tree {
  const out = { ...a }
  for (const [key, value] of Object.entries(b ?? {})) {
    const spec = fields[key]
    // Groups and lists are copied so that the three sections never share a mutable object.
    if (spec.kind === 'group') out[key] = merge(spec.fields, (out[key] as Tree) ?? {}, value as Tree)
    else out[key] = Array.isArray(value) ? [...value] : value
  }
  return out
}

/** One section's options as every layer sets them: a layer's section beats its `common`. */
function effective(section: Exclude<SectionName, 'common'>, layers: Layer[]): Tree {
  const fields = SECTIONS[section]
  let tree: Tree = {}
  for (const layer of layers) {
    const { retry, ...common } = layer.common ?? {}
    // The consumer's `retry` is its handler retry; the client's request retry is `clientRetry`.
    if (retry) Object.assign(common, section === 'consumer' ? { clientRetry: retry } : { retry })
    tree = merge(fields, merge(fields, tree, common), layer[section])
  }
  return tree
}

/** Validated options -> constructor options: brokers are required, tls becomes Node's form. */
function finish(section: SectionName, tree: Tree, problems: string[]): Tree {
  checkRequired(SECTIONS[section], tree, [section], problems)
  if (tree.brokers === undefined) {
    problems.push(`${section}.brokers: required: set common.brokers in the file, KAFKA_BROKERS or overrides`)
  }
  if (isPlainObject(tree.sasl) && tree.sasl.mechanism !== undefined) {
    try {
      saslMechanism(tree.sasl as unknown as SaslOptions)
    } catch (error) {
      problems.push(`${section}.${(error as Error).message}`)
    }
  }
  return settle(SECTIONS[section], tree)
}

function fail(problems: string[]): never {
  throw problemsError('invalid kafkax configuration', problems)
}

/** Loads and validates the configuration; throws one ConfigError naming every problem. */
export function loadConfig(options: LoadConfigOptions = {}): KafkaxConfig {
  const problems: string[] = []
  const layers: Layer[] = []
  if (options.file !== undefined) layers.push(readYaml(resolve(options.file), options.file, problems))
  layers.push(readEnv(options.env ?? process.env, problems))
  if (options.overrides) {
    const name = options.overridesName ?? 'overrides'
    layers.push(validateLayer(options.overrides, { name, baseDir: process.cwd(), code: true }, problems))
  }
  if (problems.length > 0) fail(problems)
  const config = {
    producer: finish('producer', effective('producer', layers), problems),
    consumer: finish('consumer', effective('consumer', layers), problems),
    admin: finish('admin', effective('admin', layers), problems),
  }
  if (problems.length > 0) fail(problems)
  return config as unknown as KafkaxConfig
}
