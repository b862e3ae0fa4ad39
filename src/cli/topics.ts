// kafkax topics: list, describe, create, delete and alter the configs of topics (as
// kafka-topics.sh and kafka-configs.sh --entity-type topics).

import { Admin } from '../index.ts'
import { type Command, connectionConfig, flag, integer, pairs, positionals, strings, usageError } from './args.ts'
import { table } from './format.ts'

const SUBCOMMANDS = ['list', 'describe', 'create', 'delete', 'alter-configs']

export const topics: Command = {
  name: 'topics',
  summary: 'list, describe, create, delete topics and alter their configs',
  usage: [
    'topics [list] [--internal]',
    'topics describe TOPIC...',
    'topics create TOPIC [-P N] [-r N] [--config KEY=VALUE...]',
    'topics delete TOPIC...',
    'topics alter-configs TOPIC [--set KEY=VALUE...] [--delete KEY...]',
  ],
  description: 'describe shows the partitions (leader, replicas, in-sync replicas) and the configs set on the topic.',
  options: {
    internal: { help: 'list: include internal topics (__consumer_offsets...)' },
    partitions: { short: 'P', value: 'N', help: "create: partition count (default: the broker's num.partitions)" },
    'replication-factor': { short: 'r', value: 'N', help: "create: replicas per partition (default: the broker's)" },
    config: { value: 'KEY=VALUE', multiple: true, help: 'create: a topic config, e.g. --config retention.ms=3600000' },
    set: { value: 'KEY=VALUE', multiple: true, help: 'alter-configs: set a config' },
    delete: { value: 'KEY', multiple: true, help: 'alter-configs: remove a config (back to the default)' },
  },
  async run(args) {
    const [sub = 'list', ...names] = args.positionals
    if (!SUBCOMMANDS.includes(sub)) usageError(topics, `unknown subcommand ${sub}: use ${SUBCOMMANDS.join(', ')}`)
    const rest = { ...args, positionals: names }
    const admin = new Admin(connectionConfig(args).admin)
    try {
      if (sub === 'list') {
        positionals(topics, rest, 'no topic', 0)
        const list = await admin.listTopics({ includeInternal: flag(args, 'internal') })
        process.stdout.write(
          list
            .sort()
            .map((t) => `${t}\n`)
            .join(''),
        )
      } else if (sub === 'describe') {
        const wanted = positionals(topics, rest, 'TOPIC...', 'some')
        const [described, configs] = await Promise.all([
          admin.describeTopics(wanted),
          admin.describeConfigs(wanted.map((name) => ({ type: 'topic' as const, name }))),
        ])
        for (const [i, t] of described.entries()) {
          const set = configs[i].configs.filter((c) => c.source === 'dynamic-topic')
          const rf = t.partitions[0]?.replicas.length ?? 0
          process.stdout.write(
            `Topic: ${t.topic}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${set.map((c) => `${c.name}=${c.sensitive ? '(sensitive)' : c.value}`).join(',')}\n`,
          )
          const rows = t.partitions.map((p) => [
            p.partition,
            p.leader,
            p.replicas.join(','),
            p.isr.join(','),
            p.offline.join(',') || '-',
          ])
          process.stdout.write(table(['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'OFFLINE'], rows))
        }
      } else if (sub === 'create') {
        const [topic] = positionals(topics, rest, 'TOPIC', 1)
        const [created] = await admin.createTopics([
          {
            topic,
            partitions: integer(args, 'partitions', 1),
            replicationFactor: integer(args, 'replication-factor', 1),
            configs: Object.fromEntries(pairs('--config', strings(args, 'config'))),
          },
        ])
        process.stdout.write(
          `created topic ${created.topic} (${created.partitions} partitions, replication factor ${created.replicationFactor})\n`,
        )
      } else if (sub === 'delete') {
        const wanted = positionals(topics, rest, 'TOPIC...', 'some')
        await admin.deleteTopics(wanted)
        process.stdout.write(wanted.map((t) => `deleted topic ${t}\n`).join(''))
      } else {
        const [topic] = positionals(topics, rest, 'TOPIC', 1)
        const ops = [
          ...pairs('--set', strings(args, 'set')).map(([key, value]) => ({ key, op: 'set' as const, value })),
          ...strings(args, 'delete').map((key) => ({ key, op: 'delete' as const })),
        ]
        if (ops.length === 0) usageError(topics, 'alter-configs needs --set or --delete')
        await admin.incrementalAlterConfigs([{ type: 'topic', name: topic, ops }])
        process.stdout.write(
          ops.map((o) => `${topic}: ${o.op === 'set' ? `${o.key}=${o.value}` : `${o.key} deleted`}\n`).join(''),
        )
      }
    } finally {
      await admin.close()
    }
    return 0
  },
}
