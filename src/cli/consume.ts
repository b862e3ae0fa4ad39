// kafkax consume TOPIC: prints records as kcat -C does (its -f format tokens), or as JSON lines;
// from an offset, a time or the ends of the partitions, in a consumer group or without one.

import { once } from 'node:events'
import { Admin, ConfigError, Consumer, type ConsumerOptions, type Message } from '../index.ts'
import {
  type Command,
  connectionConfig,
  flag,
  integer,
  offsetValue,
  type Parsed,
  positionals,
  string,
  strings,
  timestampValue,
} from './args.ts'
import { messageFormat, messageJson, Progress } from './format.ts'

/** Where to start: kcat's -o values. */
type Start =
  | { kind: 'beginning' | 'end' | 'stored' }
  | { kind: 'offset'; offset: bigint }
  | { kind: 'from-end'; count: bigint }
  | { kind: 'time'; timestamp: number }

function start(text: string | undefined, group: boolean): Start | undefined {
  if (text === undefined) return undefined
  if (text === 'beginning' || text === 'end' || text === 'stored') return { kind: text }
  if (group) throw new ConfigError(`--offset ${text}: with --group, use beginning, end or stored`)
  if (text.startsWith('@')) return { kind: 'time', timestamp: timestampValue('--offset', text.slice(1)) }
  if (text.startsWith('-')) return { kind: 'from-end', count: offsetValue('--offset', text.slice(1), 1n) }
  return { kind: 'offset', offset: offsetValue('--offset', text) }
}

/** A thrown marker: handlers called after the last message wanted leave them uncommitted. */
const FINISHED = new Error('kafkax consume: finished')

export const consume: Command = {
  name: 'consume',
  summary: 'print the records of a topic',
  usage: ['consume TOPIC [options]'],
  description: [
    'Without --group: every partition (or those of -p) from --offset, which is beginning (the default),',
    'end, N, -N (N before the end), or @TIME (milliseconds or an ISO date: the first record at or after it).',
    "With --group: the group's committed offsets; -o beginning or end says where to start without one.",
    'Printed records are committed (in a group); stop with Ctrl-C, --count or --exit.',
    '',
    'Format tokens (kcat -f): %t topic  %p partition  %o offset  %k key  %K key length  %s value',
    '%S value length  %T timestamp (ms)  %h headers (k=v,...)  %% percent; escapes \\n \\t \\r \\\\.',
    '--json prints {"topic","partition","offset","timestamp","key","value","headers"} per line, the',
    'offset as a string (exact past 2^53), bytes that are not UTF-8 as {"base64": "..."}.',
  ].join('\n'),
  options: {
    offset: { short: 'o', value: 'WHERE', help: 'beginning, end, stored, N, -N or @TIME (see above)' },
    group: { short: 'G', value: 'ID', help: 'consume in consumer group ID and commit what was printed' },
    partition: { short: 'p', value: 'N', multiple: true, help: 'only partition N (without --group)' },
    count: { short: 'c', value: 'N', help: 'exit after N records' },
    exit: { short: 'e', help: 'exit once every partition is read to the end it had at the start (kcat -e)' },
    format: { short: 'f', value: 'FMT', help: "output format, default '%s\\n' (the value)" },
    json: { short: 'J', help: 'one JSON object per record' },
    quiet: { short: 'q', help: 'no summary on stderr' },
  },
  async run(args) {
    const [topic] = positionals(consume, args, 'TOPIC', 1)
    const groupId = string(args, 'group')
    const from = start(string(args, 'offset'), groupId !== undefined)
    const count = integer(args, 'count', 1)
    const wanted = strings(args, 'partition')
      .map((p) => offsetValue('--partition', p))
      .map(Number)
    if (groupId !== undefined && wanted.length > 0)
      throw new ConfigError('--partition: not with --group (the group assigns them)')
    if (flag(args, 'json') && string(args, 'format') !== undefined)
      throw new ConfigError('--format and --json: choose one')
    const render = flag(args, 'json')
      ? (m: Message) => `${messageJson(m)}\n`
      : messageFormat(string(args, 'format') ?? '%s\\n')
    const config = connectionConfig(args)
    const admin = new Admin(config.admin)
    try {
      return await consumeWith(args, { admin, topic, groupId, from, count, wanted, render, config: config.consumer })
    } finally {
      await admin.close()
    }
  },
}

interface Plan {
  admin: Admin
  topic: string
  groupId: string | undefined
  from: Start | undefined
  count: number | undefined
  wanted: number[]
  render: (m: Message) => string | Buffer
  config: ConsumerOptions
}

async function consumeWith(args: Parsed, plan: Plan): Promise<number> {
  const { admin, topic, groupId, from, count } = plan
  const [description] = await admin.describeTopics([topic])
  const all = description.partitions.map((p) => p.partition)
  const missing = plan.wanted.filter((p) => !all.includes(p))
  if (missing.length > 0)
    throw new ConfigError(`--partition ${missing.join(', ')}: ${topic} has partitions 0-${all.length - 1}`)
  const partitions = plan.wanted.length > 0 ? plan.wanted : all
  const offsets = async (at: 'earliest' | 'latest' | { timestamp: number }) =>
    new Map((await admin.listOffsets({ topic, partitions, at })).map((o) => [o.partition, o.offset]))
  const [earliest, latest] = await Promise.all([offsets('earliest'), offsets('latest')])

  // the next offset to print per partition; --exit stops when each one consumed reaches `latest`
  const next = new Map<number, bigint>()
  const options: ConsumerOptions = { ...plan.config, concurrency: 1, batch: undefined }
  if (groupId === undefined) {
    const times = from?.kind === 'time' ? await offsets({ timestamp: from.timestamp }) : undefined
    for (const p of partitions) {
      const [low, high] = [earliest.get(p)!, latest.get(p)!]
      let offset = low
      if (from?.kind === 'end') offset = high
      if (from?.kind === 'offset') offset = from.offset
      if (from?.kind === 'from-end') offset = high - from.count > low ? high - from.count : low
      if (from?.kind === 'time') offset = times!.get(p)! < 0n ? high : times!.get(p)!
      next.set(p, offset)
    }
    options.assign = partitions.map((partition) => ({ topic, partition, offset: next.get(partition)! }))
    options.groupId = undefined
    options.topics = undefined
  } else {
    options.groupId = groupId
    options.topics = [topic]
    options.assign = undefined
    if (from?.kind === 'beginning' || from?.kind === 'end') options.fromBeginning = from.kind === 'beginning'
    const committed = await admin.fetchCommittedOffsets(groupId, [topic])
    for (const p of partitions) next.set(p, (options.fromBeginning ? earliest : latest).get(p)!)
    for (const c of committed) next.set(c.partition, c.offset)
  }

  let finished = false
  let printed = 0
  const progress = new Progress(`consume ${topic}`)
  const consumer = new Consumer({
    ...options,
    onError: (error) => {
      if (error !== FINISHED && (error as Error & { cause?: unknown }).cause !== FINISHED) {
        progress.clear()
        process.stderr.write(`kafkax consume: ${error.message}\n`)
      }
    },
  })
  const finish = () => {
    if (finished) return
    finished = true
    clearInterval(watch)
    consumer.stop().catch((error: Error) => process.stderr.write(`kafkax consume: ${error.message}\n`))
  }
  // --exit: done once every partition this consumer reads is at the end it had at the start
  const atEnd = () => {
    const reading = groupId === undefined ? partitions : consumer.assignment().map((tp) => tp.partition)
    return reading.length > 0 && reading.every((p) => next.get(p)! >= latest.get(p)!)
  }
  const watch = setInterval(() => {
    if (flag(args, 'exit') && atEnd()) finish()
  }, 100)
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    // the reader went away (| head): a normal end
    if (error.code === 'EPIPE') finish()
  })
  if (flag(args, 'exit') && groupId === undefined && atEnd()) finish()

  const handle = (m: Message): Promise<void> | undefined => {
    if (finished) throw FINISHED
    progress.clear()
    const more = process.stdout.write(plan.render(m))
    printed++
    progress.add()
    next.set(m.partition, m.offset + 1n)
    if (count !== undefined && printed >= count) finish()
    else if (flag(args, 'exit') && atEnd()) finish()
    return more ? undefined : once(process.stdout, 'drain').then(() => undefined)
  }
  try {
    if (!finished) await consumer.run(handle, { handleSignals: true })
  } finally {
    finish()
    progress.stop()
  }
  if (!flag(args, 'quiet')) process.stderr.write(`kafkax consume: ${printed} records from ${topic}\n`)
  return 0
}
