// kafkax groups: list, describe (with the lag of every partition), reset offsets and delete
// consumer groups, as kafka-consumer-groups.sh does.

import { Admin, KafkaxError, type OffsetSpec } from '../index.ts'
import {
  type Command,
  connectionConfig,
  flag,
  offsetValue,
  type Parsed,
  positionals,
  string,
  strings,
  timestampValue,
  usageError,
} from './args.ts'
import { table } from './format.ts'

const SUBCOMMANDS = ['list', 'describe', 'reset-offsets', 'delete']
const RESETS = ['to-earliest', 'to-latest', 'to-offset', 'to-timestamp'] as const

export const groups: Command = {
  name: 'groups',
  summary: 'list, describe (lag per partition), reset offsets of and delete consumer groups',
  usage: [
    'groups [list]',
    'groups describe GROUP...',
    'groups reset-offsets GROUP (--topic TOPIC... | --all-topics) (--to-earliest | --to-latest |',
    '       --to-offset N | --to-timestamp TIME) [--dry-run]',
    'groups delete GROUP...',
  ],
  description: [
    'describe prints, per partition the group reads or has committed: its committed offset, the',
    'end of the log, the lag between them and the member it is assigned to.',
    'reset-offsets commits new offsets for a group without active members (stop them first);',
    "--to-offset N is kept within each partition's earliest and latest offsets.",
  ].join('\n'),
  options: {
    topic: { short: 't', value: 'TOPIC', multiple: true, help: 'reset-offsets: of this topic' },
    'all-topics': { help: 'reset-offsets: of every topic the group has committed offsets for' },
    'to-earliest': { help: 'reset-offsets: to the earliest offset' },
    'to-latest': { help: 'reset-offsets: to the end of each partition' },
    'to-offset': { value: 'N', help: 'reset-offsets: to offset N' },
    'to-timestamp': { value: 'TIME', help: 'reset-offsets: to the first record at or after TIME (ms or ISO date)' },
    'dry-run': { help: 'reset-offsets: print the new offsets, change nothing' },
  },
  async run(args) {
    const [sub = 'list', ...names] = args.positionals
    if (!SUBCOMMANDS.includes(sub)) usageError(groups, `unknown subcommand ${sub}: use ${SUBCOMMANDS.join(', ')}`)
    const rest = { ...args, positionals: names }
    const admin = new Admin(connectionConfig(args).admin)
    try {
      if (sub === 'list') {
        positionals(groups, rest, 'no group', 0)
        const list = (await admin.listGroups()).sort((a, b) => a.groupId.localeCompare(b.groupId))
        process.stdout.write(
          table(
            ['GROUP', 'TYPE', 'STATE'],
            list.map((g) => [g.groupId, g.type || '-', g.state || '-']),
          ),
        )
      } else if (sub === 'describe') {
        for (const groupId of positionals(groups, rest, 'GROUP...', 'some')) await describe(admin, groupId)
      } else if (sub === 'reset-offsets') {
        const [groupId] = positionals(groups, rest, 'GROUP', 1)
        await resetOffsets(admin, groupId, args)
      } else {
        const wanted = positionals(groups, rest, 'GROUP...', 'some')
        await admin.deleteGroups(wanted)
        process.stdout.write(wanted.map((g) => `deleted group ${g}\n`).join(''))
      }
    } finally {
      await admin.close()
    }
    return 0
  },
}

const key = (topic: string, partition: number) => `${topic}\u0000${partition}`

async function describe(admin: Admin, groupId: string): Promise<void> {
  const [[group], committed] = await Promise.all([
    admin.describeGroups([groupId]),
    admin.fetchCommittedOffsets(groupId),
  ])
  const owner = new Map<string, (typeof group.members)[number]>()
  for (const m of group.members)
    for (const a of m.assignment ?? []) for (const p of a.partitions) owner.set(key(a.topic, p), m)
  const offsets = new Map(committed.map((c) => [key(c.topic, c.partition), c.offset]))
  const partitions = new Map<string, number[]>()
  for (const k of new Set([...owner.keys(), ...offsets.keys()])) {
    const [topic, p] = k.split('\u0000')
    partitions.set(topic, [...(partitions.get(topic) ?? []), Number(p)])
  }
  const ends = new Map<string, bigint>()
  await Promise.all(
    [...partitions].map(async ([topic, list]) => {
      for (const o of await admin.listOffsets({ topic, partitions: list, at: 'latest' }))
        ends.set(key(topic, o.partition), o.offset)
    }),
  )
  const members = group.members.length
  process.stdout.write(
    members > 0
      ? `\nConsumer group '${groupId}' (${group.type}) is ${group.state} with ${members} member${members === 1 ? '' : 's'}${group.protocol ? `, assignor ${group.protocol}` : ''}.\n\n`
      : `\nConsumer group '${groupId}' has no active members (${group.state}).\n\n`,
  )
  const rows = [...partitions]
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([topic, list]) =>
      list
        .sort((a, b) => a - b)
        .map((p) => {
          const k = key(topic, p)
          const [current, end, member] = [offsets.get(k), ends.get(k), owner.get(k)]
          const lag = current !== undefined && end !== undefined ? (end > current ? end - current : 0n) : undefined
          return [
            groupId,
            topic,
            p,
            current ?? '-',
            end ?? '-',
            lag ?? '-',
            member?.memberId ?? '-',
            member?.clientHost ?? '-',
            member?.clientId ?? '-',
          ]
        }),
    )
  const header = [
    'GROUP',
    'TOPIC',
    'PARTITION',
    'CURRENT-OFFSET',
    'LOG-END-OFFSET',
    'LAG',
    'CONSUMER-ID',
    'HOST',
    'CLIENT-ID',
  ]
  process.stdout.write(table(header, rows))
}

async function resetOffsets(admin: Admin, groupId: string, args: Parsed): Promise<void> {
  const chosen = RESETS.filter((r) => args.values[r] !== undefined)
  if (chosen.length !== 1) usageError(groups, `reset-offsets needs one of --${RESETS.join(', --')}`)
  const all = flag(args, 'all-topics')
  if (all === strings(args, 'topic').length > 0)
    usageError(groups, 'reset-offsets needs --topic or --all-topics (one of them)')
  const [[group], committed] = await Promise.all([
    admin.describeGroups([groupId]),
    admin.fetchCommittedOffsets(groupId),
  ])
  if (group.members.length > 0) {
    throw new KafkaxError(
      `group ${groupId} is ${group.state} with ${group.members.length} active members: offsets can only be reset while it has none`,
      'EGROUPACTIVE',
    )
  }
  const topics = all ? [...new Set(committed.map((c) => c.topic))] : strings(args, 'topic')
  const previous = new Map(committed.map((c) => [key(c.topic, c.partition), c.offset]))
  const reset = chosen[0]
  // --to-offset looks up the earliest offsets: the lower bound it is kept within
  const target: OffsetSpec =
    reset === 'to-latest'
      ? 'latest'
      : reset === 'to-timestamp'
        ? { timestamp: timestampValue('--to-timestamp', string(args, 'to-timestamp')!) }
        : 'earliest'
  const wantedOffset = reset === 'to-offset' ? offsetValue('--to-offset', string(args, 'to-offset')!) : undefined
  const plan: { topic: string; partition: number; offset: bigint }[] = []
  for (const t of await admin.describeTopics(topics)) {
    const partitions = t.partitions.map((p) => p.partition)
    const at = (spec: OffsetSpec) => admin.listOffsets({ topic: t.topic, partitions, at: spec })
    const [found, latest] = await Promise.all([at(target), at('latest')])
    for (const [i, o] of found.entries()) {
      const end = latest[i].offset
      let offset = o.offset < 0n ? end : o.offset // no record at or after the time: the end
      if (wantedOffset !== undefined)
        offset = wantedOffset < o.offset ? o.offset : wantedOffset > end ? end : wantedOffset
      plan.push({ topic: t.topic, partition: o.partition, offset })
    }
  }
  if (!flag(args, 'dry-run') && plan.length > 0) await admin.alterCommittedOffsets(groupId, plan)
  const rows = plan.map((p) => [
    groupId,
    p.topic,
    p.partition,
    previous.get(key(p.topic, p.partition)) ?? '-',
    p.offset,
  ])
  process.stdout.write(table(['GROUP', 'TOPIC', 'PARTITION', 'PREVIOUS-OFFSET', 'NEW-OFFSET'], rows))
  if (flag(args, 'dry-run')) process.stderr.write('kafkax groups: dry run, no offsets changed\n')
}
