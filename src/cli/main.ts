#!/usr/bin/env node
// The kafkax command line (`npx kafkax ...`, package.json `bin`): one module per command; this one
// dispatches, prints help, and turns errors into one line on stderr and an exit code.

import { createRequire } from 'node:module'
import { AuthenticationError, ConfigError, ConnectionError, KafkaxError, TimeoutError } from '../index.ts'
import { runtimeName } from '../protocol/runtime.ts'
import { type Command, helpText, parse } from './args.ts'
import { cluster } from './cluster.ts'
import { consume } from './consume.ts'
import { groups } from './groups.ts'
import { ping } from './ping.ts'
import { produce } from './produce.ts'
import { topics } from './topics.ts'

const COMMANDS: Command[] = [produce, consume, topics, groups, cluster, ping]
const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }

/** Exit codes (README, `kafkax --help`). */
const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3, interrupted: 130 } as const

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return [
    `kafkax ${version}: produce, consume and administer Kafka from the command line`,
    '',
    'usage: kafkax COMMAND [options]      kafkax COMMAND --help   shows its options',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Connection settings come from kafkax.yaml (or --config-file FILE), the KAFKA_* environment variables',
    'and flags, in that order, as loadConfig() reads them (docs/configuration.md lists every option).',
    '',
    'exit codes: 0 done; 1 failed (a broker refused, a record was not delivered); 2 usage or',
    'configuration error; 3 the cluster is unreachable or refused the credentials; 130 interrupted.',
    '',
  ].join('\n')
}

function exitCode(error: unknown): number {
  if (error instanceof ConfigError) return EXIT.usage
  if (error instanceof ConnectionError || error instanceof AuthenticationError || error instanceof TimeoutError) {
    return EXIT.unreachable
  }
  return EXIT.failed
}

/** One line: what failed, with the option or broker the error names. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const first = error.message.split('\n')[0]
  // ConfigError lists its problems on the following lines: keep them, one per line
  if (error instanceof ConfigError && error.message.includes('\n')) return error.message
  if (error instanceof ConfigError) return first
  return error instanceof KafkaxError ? `${error.name}: ${first}` : `internal error: ${error.stack ?? first}`
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const command = COMMANDS.find((c) => c.name === rest[0])
    process.stdout.write(command ? helpText(command) : mainHelp())
    return name === undefined ? EXIT.usage : EXIT.ok
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`kafkax ${version} (${runtimeName()})\n`)
    return EXIT.ok
  }
  const command = COMMANDS.find((c) => c.name === name)
  try {
    if (!command) throw new ConfigError(`unknown command ${name}: use ${COMMANDS.map((c) => c.name).join(', ')}`)
    const args = parse(command, rest)
    if (args.values.help) {
      process.stdout.write(helpText(command))
      return EXIT.ok
    }
    return (await command.run(args)) ?? EXIT.ok
  } catch (error) {
    process.stderr.write(`kafkax${command ? ` ${command.name}` : ''}: ${describe(error)}\n`)
    return exitCode(error)
  }
}

process.exitCode = await main(process.argv.slice(2))
