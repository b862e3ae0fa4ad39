// Command-line arguments: each command declares its options once (name, short letter, value, help
// line); parsing, `--help` text and the connection options every command shares come from that.
// Connection settings go through loadConfig, so the CLI reads the same kafkax.yaml and KAFKA_*
// variables as the library, with flags on top.

import { existsSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { parse as parseYaml } from 'yaml'
import { ConfigError, type KafkaxConfig, loadConfig } from '../index.ts'

export interface OptionSpec {
  short?: string
  /** The value's name in help (`N`, `FILE`); options without one are flags. */
  value?: string
  multiple?: boolean
  help: string
}
export type Options = Record<string, OptionSpec>

export interface Command {
  name: string
  /** One line for the command list. */
  summary: string
  /** Usage lines after `kafkax `, and a paragraph of description. */
  usage: string[]
  description?: string
  options: Options
  /** Leaves out the connection options (commands that never connect). */
  offline?: boolean
  run(args: Parsed): Promise<number | undefined>
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
}

/** Options every command that talks to Kafka takes (flags beat kafkax.yaml and KAFKA_* variables). */
export const CONNECTION: Options = {
  brokers: { short: 'b', value: 'LIST', help: 'bootstrap brokers host:port,... (KAFKA_BROKERS)' },
  'config-file': { value: 'FILE', help: 'kafkax YAML file (KAFKAX_CONFIG; default ./kafkax.yaml if present)' },
  'client-id': { value: 'ID', help: 'client id sent to the brokers (KAFKA_CLIENT_ID)' },
  tls: { help: 'connect with TLS, trusting the system CAs (KAFKA_TLS_ENABLED)' },
  'tls-ca': { value: 'FILE', help: 'CA certificates (PEM) to trust; implies --tls (KAFKA_TLS_CA_FILE)' },
  'tls-cert': { value: 'FILE', help: 'client certificate (PEM) for mutual TLS (KAFKA_TLS_CERT_FILE)' },
  'tls-key': { value: 'FILE', help: 'private key (PEM) of the client certificate (KAFKA_TLS_KEY_FILE)' },
  'sasl-mechanism': { value: 'M', help: 'plain, scram-sha-256 or scram-sha-512 (KAFKA_SASL_MECHANISM)' },
  'sasl-username': { value: 'USER', help: 'SASL user name (KAFKA_SASL_USERNAME)' },
  'sasl-password': { value: 'PASS', help: 'SASL password; prefer KAFKA_SASL_PASSWORD or _FILE' },
  option: {
    short: 'X',
    value: 'PATH=VALUE',
    multiple: true,
    help: 'any option of the YAML layout, e.g. -X producer.batch.lingerMs=20ms -X common.requestTimeoutMs=5s',
  },
}
const HELP: Options = { help: { short: 'h', help: 'show this help' } }

/** Parses `argv` against the command's options (and the connection ones); usage mistakes are ConfigErrors. */
export function parse(command: Command, argv: string[]): Parsed {
  const specs = { ...command.options, ...(command.offline ? {} : CONNECTION), ...HELP }
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, s]) => [
      name,
      {
        type: s.value ? ('string' as const) : ('boolean' as const),
        ...(s.short ? { short: s.short } : {}),
        ...(s.multiple ? { multiple: true } : {}),
      },
    ]),
  )
  // `-o -10` (kcat's "10 before the end"): a negative number is the option's value, not an option
  const valued = new Set(
    Object.entries(specs).flatMap(([name, s]) => (s.value ? [`--${name}`, ...(s.short ? [`-${s.short}`] : [])] : [])),
  )
  const args: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const option = argv[i]
    if (valued.has(option) && /^-\d+$/.test(argv[i + 1] ?? '')) {
      args.push(option.startsWith('--') ? `${option}=${argv[++i]}` : `${option}${argv[++i]}`)
    } else args.push(argv[i])
  }
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true })
    return { values: values as Parsed['values'], positionals }
  } catch (error) {
    // node:util's messages name the option; keep their first sentence, without Node's error code
    usageError(command, (error as Error).message.split('\n')[0].split('. ')[0])
  }
}

function optionLines(options: Options): string[] {
  const left = Object.entries(options).map(([name, s]) => {
    const flag = `${s.short ? `-${s.short}, ` : '    '}--${name}${s.value ? ` ${s.value}` : ''}`
    return [flag, s.help + (s.multiple ? ' (repeatable)' : '')] as const
  })
  const width = Math.max(...left.map(([flag]) => flag.length))
  return left.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`)
}

export function helpText(command: Command): string {
  const lines = [`usage: ${command.usage.map((u) => `kafkax ${u}`).join('\n       ')}`, '']
  if (command.description) lines.push(command.description, '')
  if (Object.keys(command.options).length > 0) lines.push('options:', ...optionLines(command.options), '')
  if (!command.offline)
    lines.push('connection (over kafkax.yaml and KAFKA_* variables):', ...optionLines(CONNECTION), '')
  lines.push(...optionLines(HELP))
  return `${lines.join('\n')}\n`
}

// ---------------------------------------------------------------------------------------------
// Values

export const string = (args: Parsed, name: string): string | undefined => args.values[name] as string | undefined
export const strings = (args: Parsed, name: string): string[] => (args.values[name] as string[] | undefined) ?? []
export const flag = (args: Parsed, name: string): boolean => args.values[name] === true

/** An integer option, at least `min`. */
export function integer(args: Parsed, name: string, min = 0): number | undefined {
  const text = string(args, name)
  if (text === undefined) return undefined
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < min)
    throw new ConfigError(`--${name}: expected an integer >= ${min}, got '${text}'`)
  return n
}

/** A 64-bit offset, at least `min`. */
export function offsetValue(what: string, text: string, min = 0n): bigint {
  if (!/^-?\d+$/.test(text) || BigInt(text) < min) {
    throw new ConfigError(`${what}: expected an offset >= ${min}, got '${text}'`)
  }
  return BigInt(text)
}

/** Milliseconds since the epoch, from a number or an ISO date (`2026-01-31T12:00:00Z`). */
export function timestampValue(what: string, text: string): number {
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text)
  if (!Number.isFinite(ms)) throw new ConfigError(`${what}: expected milliseconds or an ISO date, got '${text}'`)
  return ms
}

/** `KEY=VALUE` pairs (configs, headers): the first `=` splits. */
export function pairs(what: string, items: string[]): [string, string][] {
  return items.map((item) => {
    const at = item.indexOf('=')
    if (at <= 0) throw new ConfigError(`${what}: expected KEY=VALUE, got '${item}'`)
    return [item.slice(0, at), item.slice(at + 1)]
  })
}

/** A usage mistake: a ConfigError that points at the command's help. */
export function usageError(command: Command, text: string): never {
  throw new ConfigError(`${text} (see kafkax ${command.name} --help)`)
}

/** Exactly `count` positionals (or at least one with `'some'`), else a usage error naming them. */
export function positionals(command: Command, args: Parsed, names: string, count: number | 'some'): string[] {
  const n = args.positionals.length
  if (count === 'some' ? n === 0 : n !== count) {
    usageError(command, `expected ${names}, got ${n === 0 ? 'nothing' : args.positionals.join(' ')}`)
  }
  return args.positionals
}

// ---------------------------------------------------------------------------------------------
// Connection settings

const SECTIONS = ['common', 'producer', 'consumer', 'admin'] as const
type Overrides = NonNullable<Parameters<typeof loadConfig>[0]>['overrides']

function setPath(tree: Record<string, unknown>, path: string[], value: unknown): void {
  let node = tree
  for (const part of path.slice(0, -1)) {
    node[part] ??= {}
    node = node[part] as Record<string, unknown>
  }
  node[path.at(-1)!] = value
}

/**
 * loadConfig with the connection flags, `-X` options and a command's own settings (`sections`, e.g.
 * the producer's compression from -z) as its overrides layer, so all of them are validated alike.
 */
export function connectionConfig(
  args: Parsed,
  sections: Record<string, Record<string, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): KafkaxConfig {
  const tree: Record<string, unknown> = structuredClone(sections)
  for (const [path, text] of pairs('-X', strings(args, 'option'))) {
    const parts = path.split('.')
    if (!(SECTIONS as readonly string[]).includes(parts[0]) || parts.length < 2) {
      throw new ConfigError(`-X ${path}: expected SECTION.OPTION=VALUE with a section of ${SECTIONS.join(', ')}`)
    }
    // the value reads as it would in kafkax.yaml: 5, true, 20ms, [a, b], "quoted text"
    let value: unknown
    try {
      value = parseYaml(text)
    } catch {
      throw new ConfigError(`-X ${path}: the value is not a YAML scalar or list: ${text}`)
    }
    setPath(tree, parts, value)
  }
  const flags: [string[], string | undefined][] = [
    [['brokers'], string(args, 'brokers')],
    [['clientId'], string(args, 'client-id')],
    [['tls', 'caFile'], string(args, 'tls-ca')],
    [['tls', 'certFile'], string(args, 'tls-cert')],
    [['tls', 'keyFile'], string(args, 'tls-key')],
    [['sasl', 'mechanism'], string(args, 'sasl-mechanism')],
    [['sasl', 'username'], string(args, 'sasl-username')],
    [['sasl', 'password'], string(args, 'sasl-password')],
  ]
  for (const [path, value] of flags) if (value !== undefined) setPath(tree, ['common', ...path], value)
  if (flag(args, 'tls')) setPath(tree, ['common', 'tls', 'enabled'], true)
  const file =
    string(args, 'config-file') ?? env.KAFKAX_CONFIG ?? (existsSync('kafkax.yaml') ? 'kafkax.yaml' : undefined)
  return loadConfig({ file, env, overrides: tree as Overrides, overridesName: 'command line' })
}
