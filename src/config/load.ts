// loadConfig: built-in defaults (defaults.yaml, shipped beside this module) < the user's YAML file
// < environment variables < overrides from code, each layer validated by the one schema, merged
// option by option, and turned into plain options for Producer, Consumer and Admin.

import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ClientOptions } from '../client/options.ts'
import { type SaslOptions, saslMechanism } from '../client/sasl/index.ts'
import type { ConsumerOptions } from '../consumer/consumer.ts'
import type { ProducerOptions } from '../producer/producer.ts'
import { ConfigError } from '../protocol/errors.ts'
import { readEnv } from './env.ts'
import { SECTIONS, type SectionName, type Spec } from './schema.ts'
import { isPlainObject, type Layer, type Tree, validateLayer } from './validate.ts'

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
  /** A YAML file with the layout of defaults.yaml: `common`, `producer`, `consumer`, `admin`. */
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

export const DEFAULTS_FILE = fileURLToPath(new URL('./defaults.yaml', import.meta.url))

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
function merge(fields: Record<string, Spec>, a: Tree, b: Tree | undefined): Tree {
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

function checkRequired(fields: Record<string, Spec>, tree: Tree, path: string[], problems: string[]): void {
  for (const [key, spec] of Object.entries(fields)) {
    const value = tree[key]
    if (spec.kind !== 'group' || !isPlainObject(value)) continue
    const at = [...path, key].join('.')
    for (const name of spec.required ?? []) {
      if (value[name] === undefined) problems.push(`${at}.${name}: required when ${at} is set`)
    }
    checkRequired(spec.fields, value, [...path, key], problems)
  }
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
  if (tree.tls) {
    const { enabled, ...tls } = tree.tls as Tree
    if (enabled === false) delete tree.tls
    else tree.tls = Object.keys(tls).length > 0 ? tls : true
  }
  return tree
}

function fail(problems: string[]): never {
  const text = problems.length === 1 ? problems[0] : `${problems.length} problems:\n- ${problems.join('\n- ')}`
  throw new ConfigError(`invalid kafkax configuration: ${text}`)
}

/** Loads and validates the configuration; throws one ConfigError naming every problem. */
export function loadConfig(options: LoadConfigOptions = {}): KafkaxConfig {
  const problems: string[] = []
  const layers = [readYaml(DEFAULTS_FILE, 'defaults.yaml', problems)]
  if (options.file !== undefined) layers.push(readYaml(resolve(options.file), options.file, problems))
  layers.push(readEnv(options.env ?? process.env, problems))
  if (options.overrides) {
    const name = options.overridesName ?? 'overrides'
    layers.push(validateLayer(options.overrides, { name, baseDir: process.cwd() }, problems))
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

/** The built-in defaults of each section, as loadConfig starts from them (for the documentation). */
export function builtInDefaults(): Record<SectionName, Tree> {
  const problems: string[] = []
  const layers = [readYaml(DEFAULTS_FILE, 'defaults.yaml', problems)]
  if (problems.length > 0) fail(problems)
  return {
    common: layers[0].common ?? {},
    producer: effective('producer', layers),
    consumer: effective('consumer', layers),
    admin: effective('admin', layers),
  }
}
