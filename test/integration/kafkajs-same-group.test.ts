// The rolling migration a kafkajs user does: kafkajs 2.2.4 consumers (the devDependency) and
// kafkax/kafkajs consumers in one group, replaced one by one while records keep coming, and one
// rolled back; with kafkajs's round-robin assigner and with range (kafkax/kafkajs's, which kafkajs
// runs as a custom assigner). A kafkajs member leads a group with kafkax/kafkajs members in it and
// the other way round; no record is lost, and the group ends committed at the end of every partition.

import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { after, describe, it } from 'node:test'
import * as ours from '../../src/kafkajs/index.ts'
import { brokers, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const require = createRequire(import.meta.url)
const kafkajs = require('kafkajs') as unknown as typeof ours

const PARTITIONS = 12
const settings = { maxWaitTimeInMs: 100, heartbeatInterval: 500, sessionTimeout: 10_000, rebalanceTimeout: 10_000 }
const config = { clientId: 'same-group', brokers: brokers(), logLevel: ours.logLevel.NOTHING }
const admin = new ours.Kafka(config).admin()

after(() => admin.disconnect())

interface Member {
  name: string
  kind: 'kafkajs' | 'kafkax'
  consumer: ours.Consumer
  /** GROUP_JOIN payloads: whether it led, and the members of the group then. */
  joins: { isLeader: boolean; memberId: string; partitions: number }[]
}

describe('kafkajs 2.2.4 and kafkax/kafkajs consumers in one group', { timeout: 240_000 }, () => {
  for (const assigner of ['roundRobin', 'range'] as const) {
    it(`${assigner}: a rolling migration and a rollback while records come; nothing lost`, async () => {
      const topic = uniqueTopic(`same-group-${assigner}`)
      const groupId = `g-${topic}`
      await admin.createTopics({ topics: [{ topic, numPartitions: PARTITIONS }] })
      const seen = new Set<string>()
      const handledBy = new Map<string, number>()
      let duplicates = 0
      const members = new Map<string, Member>()

      const start = async (name: string, kind: Member['kind']) => {
        const lib = kind === 'kafkajs' ? kafkajs : ours
        const consumer = new lib.Kafka(config).consumer({
          groupId,
          // kafkajs has no range assigner: its members run kafkax/kafkajs's, which is in kafkajs's shape
          partitionAssigners: [
            assigner === 'range' ? ours.PartitionAssigners.range : lib.PartitionAssigners.roundRobin,
          ],
          ...settings,
        })
        const member: Member = { name, kind, consumer, joins: [] }
        consumer.on(consumer.events.GROUP_JOIN, ({ payload }) =>
          member.joins.push({
            isLeader: payload.isLeader,
            memberId: payload.memberId,
            partitions: Object.values(payload.memberAssignment).flat().length,
          }),
        )
        await consumer.connect()
        await consumer.subscribe({ topic, fromBeginning: true })
        await consumer.run({
          eachMessage: async ({ message }) => {
            const value = message.value!.toString()
            if (seen.has(value)) duplicates++
            seen.add(value)
            handledBy.set(name, (handledBy.get(name) ?? 0) + 1)
          },
        })
        members.set(name, member)
        return member
      }
      const stop = async (name: string) => {
        await members.get(name)!.consumer.disconnect()
        members.delete(name)
      }
      const handling = (name: string) =>
        waitFor(`${name} handling records`, () => (handledBy.get(name) ?? 0) > 0, { timeoutMs: 60_000 })
      /** Every member has its share of a stable group that has them all. */
      const settled = (what: string) =>
        waitFor(
          what,
          async () => {
            const group = await admin.describeGroups([groupId])
            const described = group.groups[0]
            if (described.state !== 'Stable' || described.members.length !== members.size) return false
            return [...members.values()].every((m) => {
              const last = m.joins.at(-1)
              return last !== undefined && described.members.some((d) => d.memberId === last.memberId)
            })
          },
          { timeoutMs: 60_000, intervalMs: 200, state: () => [...members.keys()] },
        )

      // records all along: 20 per partition every 100 ms, numbered
      const producer = new ours.Kafka(config).producer({ createPartitioner: ours.Partitioners.DefaultPartitioner })
      await producer.connect()
      let sent = 0
      let producing = true
      const sending = (async () => {
        while (producing) {
          const messages = Array.from({ length: PARTITIONS * 20 }, (_, i) => ({
            partition: i % PARTITIONS,
            value: String(sent + i),
          }))
          await producer.send({ topic, messages })
          sent += messages.length
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      })()

      await start('kafkajs-1', 'kafkajs')
      await start('kafkajs-2', 'kafkajs')
      await settled('two kafkajs members')
      // the first kafkax/kafkajs member joins a group a kafkajs member leads
      const first = await start('kafkax-1', 'kafkax')
      await settled('kafkax-1 beside two kafkajs members')
      const mixedLeader = [...members.values()].find((m) => m.joins.at(-1)!.isLeader)!
      assert.equal(mixedLeader.kind, 'kafkajs', 'the kafkajs member that led keeps leading')
      assert.ok(first.joins.at(-1)!.partitions > 0)
      // every member, of either kind, handles records before it leaves
      for (const name of ['kafkax-1', 'kafkajs-1', 'kafkajs-2']) await handling(name)
      await stop('kafkajs-1')
      await start('kafkax-2', 'kafkax')
      await stop('kafkajs-2')
      await settled('two kafkax/kafkajs members')
      // a rollback: a kafkajs member joins a group led by kafkax/kafkajs
      const back = await start('kafkajs-3', 'kafkajs')
      await settled('kafkajs-3 beside two kafkax/kafkajs members')
      const leader = [...members.values()].find((m) => m.joins.at(-1)!.isLeader)!
      assert.equal(leader.kind, 'kafkax', 'a kafkax/kafkajs member leads')
      assert.ok(back.joins.at(-1)!.partitions > 0)
      await handling('kafkajs-3')
      await stop('kafkajs-3')
      await settled('the two kafkax/kafkajs members again')

      producing = false
      await sending
      await waitFor('every record handled', () => seen.size === sent, {
        timeoutMs: 60_000,
        state: () => ({ sent, seen: seen.size }),
      })
      for (const name of [...members.keys()]) await stop(name)
      await producer.disconnect()
      // each number once at least (a revoked partition's last batch may come twice, never go missing)
      for (let i = 0; i < sent; i++) assert.ok(seen.has(String(i)), `record ${i} lost`)
      assert.ok(duplicates < sent / 10, `${duplicates} duplicates`)
      assert.ok((handledBy.get('kafkax-2') ?? 0) > 0, 'kafkax-2 handled records')
      const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
      const ends = await admin.fetchTopicOffsets(topic)
      assert.deepEqual(
        committed.partitions.sort((a, b) => a.partition - b.partition).map((p) => p.offset),
        ends.sort((a, b) => a.partition - b.partition).map((e) => e.high),
      )
    })
  }
})
