// kafkax produce TOPIC: records from stdin or a file, one per line, as kcat -P and
// kafka-console-producer.sh read them: plain values, KEY<sep>VALUE, or JSON objects.

import { constants, createReadStream } from 'node:fs'
import { access } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { ConfigError, Producer, type ProducerRecord } from '../index.ts'
import { type Command, connectionConfig, flag, integer, pairs, positionals, string, strings } from './args.ts'
import { Progress } from './format.ts'

/** Records published and not yet acknowledged before reading waits (memory stays bounded). */
const WINDOW = 10_000

type Parse = (line: string, lineNumber: number) => ProducerRecord | undefined

function jsonRecord(topic: string, line: string, n: number): ProducerRecord {
  let o: unknown
  try {
    o = JSON.parse(line)
  } catch (error) {
    throw new ConfigError(`line ${n}: not JSON: ${(error as Error).message}`)
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o) || !('value' in o)) {
    throw new ConfigError(
      `line ${n}: expected an object with a value, like {"key":"k","value":"v","headers":{"h":"1"}}`,
    )
  }
  const r = o as { key?: unknown; value: unknown; headers?: unknown; partition?: unknown; timestamp?: unknown }
  const text = (v: unknown, what: string) => {
    if (v !== null && typeof v !== 'string') throw new ConfigError(`line ${n}: ${what} must be a string or null`)
    return v
  }
  let headers: ProducerRecord['headers']
  if (Array.isArray(r.headers)) {
    headers = r.headers.map((h: { key?: unknown; value?: unknown }) => ({
      key: String(text(h?.key, 'a header key')),
      value: text(h?.value ?? null, 'a header value'),
    }))
  } else if (r.headers !== undefined) {
    if (typeof r.headers !== 'object' || r.headers === null)
      throw new ConfigError(`line ${n}: headers must be an object or a list`)
    headers = Object.entries(r.headers).map(([key, value]) => ({ key, value: text(value, `header ${key}`) }))
  }
  if (r.partition !== undefined && !Number.isInteger(r.partition))
    throw new ConfigError(`line ${n}: partition must be an integer`)
  if (r.timestamp !== undefined && !Number.isFinite(r.timestamp))
    throw new ConfigError(`line ${n}: timestamp must be milliseconds`)
  return {
    topic,
    key: r.key === undefined ? null : text(r.key, 'key'),
    // a string value is sent as it is; anything else as its JSON text
    value: typeof r.value === 'string' || r.value === null ? r.value : JSON.stringify(r.value),
    headers,
    partition: r.partition as number | undefined,
    timestamp: r.timestamp as number | undefined,
  }
}

export const produce: Command = {
  name: 'produce',
  summary: 'write records from stdin or a file to a topic',
  usage: ['produce TOPIC [options] [< records]'],
  description: [
    'Each input line is one record: its value, KEY<sep>VALUE with -K, or with --json an object',
    '{"key": "k", "value": "v", "headers": {"h": "1"}, "partition": 0, "timestamp": 1767225600000}',
    '(a value that is not a string is sent as its JSON text). Blank lines are skipped.',
  ].join('\n'),
  options: {
    file: { short: 'f', value: 'FILE', help: 'read FILE instead of stdin' },
    'key-separator': { short: 'K', value: 'SEP', help: 'each line is KEY<SEP>VALUE (kcat -K)' },
    json: { short: 'J', help: 'each line is a JSON object (see above)' },
    header: { short: 'H', value: 'KEY=VALUE', multiple: true, help: 'a header on every record' },
    partition: { short: 'p', value: 'N', help: 'every record to partition N (default: by key, murmur2)' },
    compression: { short: 'z', value: 'CODEC', help: 'none, gzip, snappy, lz4 or zstd (producer.compression)' },
    acks: { value: 'ACKS', help: 'all, leader or none (producer.acks)' },
    quiet: { short: 'q', help: 'no summary on stderr' },
  },
  async run(args) {
    const [topic] = positionals(produce, args, 'TOPIC', 1)
    const separator = string(args, 'key-separator')
    if (separator === '') throw new ConfigError('--key-separator: must not be empty')
    if (separator !== undefined && flag(args, 'json')) throw new ConfigError('--key-separator and --json: choose one')
    const partition = integer(args, 'partition')
    const headers = pairs('--header', strings(args, 'header')).map(([key, value]) => ({ key, value }))
    const settings = Object.fromEntries(
      Object.entries({ compression: string(args, 'compression'), acks: string(args, 'acks') }).filter(([, v]) => v),
    )
    const config = connectionConfig(args, { producer: settings })

    const parse: Parse = flag(args, 'json')
      ? (line, n) => jsonRecord(topic, line, n)
      : separator !== undefined
        ? (line, n) => {
            const at = line.indexOf(separator)
            if (at < 0) throw new ConfigError(`line ${n}: no key separator '${separator}'`)
            return { topic, key: line.slice(0, at), value: line.slice(at + separator.length) }
          }
        : (line) => ({ topic, value: line })

    const file = string(args, 'file')
    if (file !== undefined) {
      await access(file, constants.R_OK).catch((error: NodeJS.ErrnoException) => {
        throw new ConfigError(`--file ${file}: cannot read it (${error.code ?? error.message})`)
      })
    }
    const input = file === undefined ? process.stdin : createReadStream(file)
    const producer = new Producer(config.producer)
    const progress = new Progress(`produce ${topic}`)
    const started = performance.now()
    let inFlight = 0
    let delivered = 0
    let failed = 0
    let firstError: Error | undefined
    let drained: (() => void) | undefined
    const onDelivery = (error: Error | null) => {
      inFlight--
      if (error) {
        failed++
        firstError ??= error
      } else {
        delivered++
        progress.add()
      }
      if (inFlight < WINDOW / 2) drained?.()
    }
    // Ctrl-C: stop reading, deliver what was accepted, exit 130
    let interrupted = false
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })
    const interrupt = () => {
      interrupted = true
      lines.close()
    }
    process.once('SIGINT', interrupt)
    let n = 0
    try {
      for await (const line of lines) {
        n++
        if (line.trim() === '') continue
        const record = parse(line, n)!
        if (partition !== undefined) record.partition ??= partition
        if (headers.length > 0) record.headers = [...headers, ...((record.headers as typeof headers) ?? [])]
        inFlight++
        producer.publish(record, onDelivery)
        if (inFlight >= WINDOW) await new Promise<void>((resolve) => (drained = resolve))
        drained = undefined
        if (firstError) break
      }
    } catch (error) {
      if (!interrupted) throw error
    } finally {
      process.off('SIGINT', interrupt)
      await producer.close()
      progress.stop()
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    if (firstError) {
      process.stderr.write(`kafkax produce: ${delivered} records delivered, ${failed} not (first error below)\n`)
      throw firstError
    }
    if (!flag(args, 'quiet') || interrupted) {
      process.stderr.write(
        `kafkax produce: ${delivered} records to ${topic} in ${seconds} s${interrupted ? ', interrupted' : ''}\n`,
      )
    }
    return interrupted ? 130 : 0
  },
}
