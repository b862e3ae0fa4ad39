// Consumer groups under churn and failure, and interop: members joining and leaving while 200k
// messages flow (nothing lost, no duplicates after clean handovers, cooperative rebalances revoke only
// what moves), a member killed with SIGKILL mid-handler (its uncommitted work is delivered again),
// a dead-letter topic that cannot be written (nothing committed, nothing lost), messages written by
// kcat and the Java console producer with every codec, replay from a timestamp.

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Admin } from '../../src/admin/admin.ts'
import { Consumer, type ConsumerOptions } from '../../src/consumer/consumer.ts'
import type { Message, TopicPartition } from '../../src/consumer/message.ts'
import { Producer } from '../../src/producer/producer.ts'
import { childConsumer } from '../helpers/consumers.ts'
import { brokers, cli, kcat, uniqueTopic } from '../helpers/kafka.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

const admin = new Admin({ brokers: brokers() })

async function newTopic(partitions: number, prefix = 'cg'): Promise<string> {
  const topic = uniqueTopic(prefix)
  await admin.createTopics([{ topic, partitions, replicationFactor: 1 }])
  return topic
}

function member(topic: string, groupId: string, extra: Partial<ConsumerOptions> = {}): Consumer {
  return new Consumer({
    brokers: brokers(),
    groupId,
    topics: [topic],
    fromBeginning: true,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 500,
    assignors: ['cooperative-sticky'],
    ...extra,
  })
}

const key = (tp: TopicPartition) => `${tp.topic}-${tp.partition}`

describe('consumer groups', () => {
  after(() => admin.close())

  it('members join and leave while 200k messages flow: nothing lost, no duplicates, only moved partitions revoked', async () => {
    const topic = await newTopic(6, 'churn')
    const groupId = `churn-${topic}`
    const TOTAL = 200_000
    const seen = new Map<string, number>()
    const handle = (m: Message) => {
      const v = m.value!.toString()
      seen.set(v, (seen.get(v) ?? 0) + 1)
    }
    const producer = new Producer({ brokers: brokers(), batch: { lingerMs: 5 } })
    const producing = (async () => {
      for (let i = 0; i < TOTAL; i++) {
        producer.publish({ topic, key: String(i % 1000), value: String(i) })
        if (i % 5000 === 4999) await sleep(10)
      }
      await producer.flush()
    })()

    const members: { consumer: Consumer; run: Promise<void>; revoked: string[]; owned: () => string[] }[] = []
    const join = () => {
      const consumer = member(topic, groupId)
      const revoked: string[] = []
      consumer.on('revoked', (tps: TopicPartition[]) => revoked.push(...tps.map(key)))
      const run = consumer.run(handle)
      const entry = { consumer, run, revoked, owned: () => consumer.assignment().map(key) }
      members.push(entry)
      return entry
    }
    // between membership changes messages go on flowing (unless all are handled already)
    const flowing = async (members: string) => {
      const from = seen.size
      await waitFor(`messages handled with ${members}`, () => seen.size >= Math.min(from + 2000, TOTAL), {
        state: () => seen.size,
      })
    }
    const a = join()
    await waitFor('the first member to own every partition', () => a.owned().length === 6)
    await flowing('one member')
    const b = join()
    await waitFor('a 2-member split', () => b.owned().length > 0 && a.owned().length + b.owned().length === 6)
    // cooperative: the first member gave up only what moved to the second
    assert.deepEqual([...a.revoked].sort(), [...b.owned()].sort())
    await flowing('two members')
    const c = join()
    await waitFor('the third member to get partitions', () => c.owned().length > 0)
    await flowing('three members')
    await b.consumer.stop()
    await b.run
    await waitFor('the others to take over', () => a.owned().length + c.owned().length === 6)
    await producing
    await waitFor(`all ${TOTAL} messages`, () => seen.size === TOTAL, { timeoutMs: 120_000, state: () => seen.size })
    await Promise.all([a.consumer.stop(), c.consumer.stop()])
    await Promise.all([a.run, c.run])
    await producer.close()
    const duplicates = [...seen.values()].filter((n) => n > 1).length
    assert.equal(seen.size, TOTAL, 'nothing lost')
    assert.equal(duplicates, 0, 'handovers commit what was handled: nothing is handled twice')
  })

  it('a member killed with SIGKILL mid-handler: its uncommitted messages go to another member', async () => {
    const topic = await newTopic(2, 'killed')
    const groupId = `killed-${topic}`
    const producer = new Producer({ brokers: brokers() })
    await producer.sendBatch(Array.from({ length: 2000 }, (_, i) => ({ topic, key: String(i), value: String(i) })))
    await producer.close()

    const { child, seen: childSeen, exited } = childConsumer(topic, groupId)
    try {
      await waitFor('the child to handle messages', () => childSeen.size >= 100, { timeoutMs: 60_000 })
      child.kill('SIGKILL')
      await exited
      const survivor = member(topic, groupId, { sessionTimeoutMs: 6000 })
      const seen = new Set<string>()
      const run = survivor.run((m) => void seen.add(m.value!.toString()))
      await waitFor('the survivor to get every message', () => seen.size === 2000, { timeoutMs: 90_000 })
      await survivor.stop()
      await run
      for (const v of childSeen)
        assert.ok(seen.has(v), `message ${v}, handled by the killed member, was delivered again`)
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('a dead-letter topic that cannot be written: nothing committed, nothing lost', async () => {
    const topic = await newTopic(1, 'dlq-missing')
    const groupId = `dlq-missing-${topic}`
    const producer = new Producer({ brokers: brokers() })
    await producer.sendBatch(['ok-0', 'poison', 'ok-2'].map((value) => ({ topic, value })))
    await producer.close()
    const errors: Error[] = []
    const c = member(topic, groupId, {
      retry: { maxRetries: 1, initialDelayMs: 5 },
      dlq: { topic: `${topic}-no-such-dlq`, producer: { maxBlockMs: 1500 } },
      onError: (e) => errors.push(e),
    })
    const handled: string[] = []
    const run = c.run((m) => {
      if (m.value!.toString() === 'poison') throw new Error('poison')
      handled.push(m.value!.toString())
    })
    await waitFor('the failed dead-letter write to be reported', () => errors.some((e) => /offset 1/.test(e.message)), {
      state: () => errors.map(String),
    })
    await c.stop()
    await run
    assert.deepEqual(
      handled.filter((v) => v === 'ok-2'),
      [],
      'nothing after the poison message was handled',
    )
    const committed = await admin.fetchCommittedOffsets(groupId)
    assert.deepEqual(
      committed.map((o) => o.offset),
      [1n],
      'committed up to the poison message, not past it',
    )
    assert.ok(!(await admin.listTopics()).includes(`${topic}-no-such-dlq`), 'the DLQ topic was not auto-created')
  })

  it('reads what kcat and the Java console producer wrote, with every codec', async () => {
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
      const topic = await newTopic(1, `interop-${codec}`)
      const lines = Array.from({ length: 50 }, (_, i) => `k${i}:${codec}-kcat-${i}`)
      kcat(['-b', brokers()[0], '-P', '-t', topic, '-K:', '-z', codec], `${lines.join('\n')}\n`)
      const java = Array.from({ length: 50 }, (_, i) => `j${i}:${codec}-java-${i}`)
      cli.produce(topic, java, { compression: codec === 'none' ? undefined : codec })
      const c = new Consumer({ brokers: brokers(), assign: [{ topic, partition: 0, offset: 0n }] })
      const got: string[] = []
      const run = c.run((m) => void got.push(`${m.key}:${m.value}`))
      await waitFor(`100 ${codec} messages`, () => got.length === 100)
      await c.stop()
      await run
      assert.deepEqual(got, [...lines, ...java], codec)
    }
  })

  it('replays from a timestamp: the first message is the first at or after it', async () => {
    const topic = await newTopic(1, 'replay')
    const base = Date.now() - 100_000
    const producer = new Producer({ brokers: brokers() })
    await producer.sendBatch(
      Array.from({ length: 10 }, (_, i) => ({ topic, value: `t${i}`, timestamp: base + i * 1000 })),
    )
    await producer.close()
    const c = new Consumer({ brokers: brokers(), assign: [{ topic, partition: 0, offset: 0n }] })
    const got: Message[] = []
    const run = c.run((m) => void got.push(m))
    await waitFor('the first read', () => got.length === 10)
    c.pause([{ topic, partition: 0 }])
    await c.seek({ topic, partition: 0 }, { timestamp: base + 4500 })
    const mark = got.length
    c.resume([{ topic, partition: 0 }])
    await waitFor('the replay', () => got.length > mark)
    await c.stop()
    await run
    assert.equal(got[mark].value!.toString(), 't5')
    assert.equal(got[mark].timestamp, base + 5000)
  })
})
