// Share groups (KIP-932) against the real broker, with many members: kafkax ShareConsumers beside
// the Java client's KafkaShareConsumers in one group on 50k records, and members that die (SIGKILL)
// or hang (SIGSTOP) while holding records, whose records go to the others. Kafka 4.x only.

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { after, describe, it } from 'node:test'
import { javaShareMember } from '../../bench/lib/share-member.ts'
import { ROOT, release } from '../../scripts/kafka/harness.ts'
import { Admin } from '../../src/admin/admin.ts'
import { brokers } from '../helpers/kafka.ts'
import { shareConsumer, shareGroup, start, topicWith } from '../helpers/share.ts'
import { waitFor } from '../helpers/wait.ts'

const admin = new Admin({ brokers: brokers() })
after(() => admin.close())

/** Kafka 3.9 has no share groups (share-group.test.ts tests the typed error there). */
if (release().line !== '3.9') {
  describe('members of both clients, and members that die', () => {
    it('4 kafkax and 2 Java share consumers on one 2-partition topic: 50k records, each accepted once, work spread over all six', async () => {
      const total = 50_000
      const topic = await topicWith(admin, 2, total)
      const groupId = await shareGroup(admin)
      // the JVMs first: compiling and starting them takes longer than the Node members' join
      const java = await Promise.all(
        [0, 1].map(() => javaShareMember({ bootstrap: brokers()[0], groupId, topic, handlerMs: 1 })),
      )
      await Promise.all(java.map((j) => j.started))
      const handled: string[][] = [[], [], [], []]
      const node = handled.map((list) => {
        const consumer = shareConsumer(groupId, topic, { concurrency: 2 })
        return {
          consumer,
          run: start(consumer, async (m) => {
            list.push(`${m.partition}:${m.offset}`)
            await new Promise((r) => setTimeout(r, 1))
          }),
        }
      })
      const accepted = () =>
        node.reduce((n, m) => n + m.consumer.stats().accepted, 0) + java.reduce((n, j) => n + j.accepted(), 0)
      await waitFor(`${total} records accepted`, () => accepted() >= total, {
        timeoutMs: 90_000,
        state: () => ({ node: node.map((m) => m.consumer.stats().accepted), java: java.map((j) => j.accepted()) }),
      })
      await Promise.all([...node.map((m) => m.run.stop()), ...java.map((j) => j.stop())])

      const all = [...handled.flat(), ...java.flatMap((j) => j.offsets)]
      assert.equal(all.length, total, 'no record handled twice')
      assert.equal(new Set(all).size, total, 'every record handled')
      const shares = [...handled.map((h) => h.length), ...java.map((j) => j.offsets.length)]
      assert.ok(
        shares.every((n) => n >= total * 0.02),
        `each member took a share of the work: ${shares.join(', ')}`,
      )
      for (const { consumer, run } of node) {
        const stats = consumer.stats()
        assert.deepEqual([stats.locksLost, stats.acknowledgeErrors, stats.released, stats.rejected], [0, 0, 0, 0])
        assert.deepEqual(run.errors, [])
      }
      assert.deepEqual(
        java.flatMap((j) => j.failures),
        [],
      )
      const offsets = await admin.listShareGroupOffsets(groupId)
      assert.deepEqual(
        offsets.map((o) => o.lag),
        [0n, 0n],
        'nothing left to deliver',
      )
    })

    /** A share consumer in a child process that acquired all 200 records of `topic` and handles none. */
    async function holdingChild(topic: string, groupId: string) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'test/helpers/child-share-consumer.ts', brokers().join(','), topic, groupId],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      )
      let held = 0
      let heldAt = 0
      child.stdout.setEncoding('utf8')
      child.stdout.on('data', (chunk: string) => {
        for (const line of chunk.split('\n').filter((l) => l.startsWith('{'))) held = JSON.parse(line).held
        if (held === 200 && heldAt === 0) heldAt = Date.now()
      })
      const exited = new Promise((r) => child.once('exit', r))
      const kill = async () => {
        child.kill('SIGKILL')
        await exited
      }
      try {
        await waitFor('the child holding every record', () => held === 200, { timeoutMs: 30_000 })
      } catch (error) {
        await kill()
        throw error
      }
      return { child, heldAt, kill }
    }

    /** A member taking over: resolves once it accepted all 200 records, with their delivery counts and when the first came. */
    async function survivor(topic: string, groupId: string) {
      const counts = new Map<number, number>()
      let firstAt = 0
      const consumer = shareConsumer(groupId, topic, { concurrency: 4 })
      const run = start(consumer, (m) => {
        firstAt ||= Date.now()
        counts.set(Number(m.value), m.deliveryCount)
      })
      await waitFor('every record accepted by the survivor', () => consumer.stats().accepted === 200, {
        timeoutMs: 30_000,
        state: () => consumer.stats(),
      })
      await run.stop()
      assert.deepEqual(
        [...counts.keys()].sort((a, b) => a - b),
        Array.from({ length: 200 }, (_, i) => i),
        'none lost',
      )
      assert.ok(
        [...counts.values()].every((n) => n === 2),
        'each delivered a second time: the other member had them',
      )
      assert.deepEqual(run.errors, [])
      return firstAt
    }

    it('a member killed with SIGKILL while holding records: the broker releases them with its connection, none lost', async () => {
      const topic = await topicWith(admin, 1, 200)
      const groupId = await shareGroup(admin, { 'share.record.lock.duration.ms': '15000' })
      const { kill } = await holdingChild(topic, groupId)
      await kill()
      const killedAt = Date.now()
      const firstAt = await survivor(topic, groupId)
      assert.ok(
        firstAt - killedAt < 12_000,
        `delivered again ${firstAt - killedAt} ms after the kill, before the 15 s lock ran out`,
      )
    })

    it('a member that hangs while holding records (SIGSTOP): they go to another member once their lock runs out', async () => {
      const topic = await topicWith(admin, 1, 200)
      const groupId = await shareGroup(admin, { 'share.record.lock.duration.ms': '3000' })
      const { child, heldAt, kill } = await holdingChild(topic, groupId)
      try {
        child.kill('SIGSTOP')
        const firstAt = await survivor(topic, groupId)
        // the 3 s lock counts from the child's fetch, a moment before it reported holding the records
        const after = firstAt - heldAt
        assert.ok(
          after >= 2500,
          `delivered again once the lock ran out, not before (${after} ms after the child held them)`,
        )
      } finally {
        await kill()
      }
    })
  })
}
