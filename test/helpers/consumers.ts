// Helpers for the consumer's real-broker tests: a topic filled with numbered records, a group
// consumer on it with short timeouts, one in its own process (to kill), and the offsets its group
// committed.

import { type ChildProcess, spawn } from 'node:child_process'
import { ROOT } from '../../scripts/kafka/harness.ts'
import type { Admin } from '../../src/admin/admin.ts'
import { Consumer, type ConsumerOptions } from '../../src/consumer/consumer.ts'
import { Producer } from '../../src/producer/producer.ts'
import { brokers, uniqueTopic } from './kafka.ts'

/** A new topic of `partitions` with `count` records, values '0', '1', ... (keys k0..k12 spread them). */
export async function topicWith(admin: Admin, partitions: number, count: number, prefix = 'consumer'): Promise<string> {
  const topic = uniqueTopic(prefix)
  await admin.createTopics([{ topic, partitions, replicationFactor: 1 }])
  if (count > 0) {
    const producer = new Producer({ brokers: brokers() })
    await producer.sendBatch(Array.from({ length: count }, (_, i) => ({ topic, key: `k${i % 13}`, value: String(i) })))
    await producer.close()
  }
  return topic
}

/** A consumer of group `group-<topic>` reading `topic` from the beginning. */
export function groupConsumer(topic: string, options: Partial<ConsumerOptions> = {}): Consumer {
  return new Consumer({
    brokers: brokers(),
    groupId: `group-${topic}`,
    topics: [topic],
    fromBeginning: true,
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1000,
    ...options,
  })
}

/** The group's committed offset per partition. */
export async function committedOffsets(admin: Admin, groupId: string): Promise<Map<number, bigint>> {
  const offsets = await admin.fetchCommittedOffsets(groupId)
  return new Map(offsets.map((o: { partition: number; offset: bigint }) => [o.partition, o.offset]))
}

/**
 * test/helpers/child-consumer.ts in its own process, a member of `groupId` on `topic`: the values it
 * handled (it commits only when its partitions are revoked), and its exit.
 */
export function childConsumer(
  topic: string,
  groupId: string,
  protocol: 'classic' | 'consumer' = 'classic',
): { child: ChildProcess; seen: Set<string>; exited: Promise<unknown> } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/child-consumer.ts', brokers().join(','), topic, groupId, protocol],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const seen = new Set<string>()
  let buffered = ''
  child.stdout!.on('data', (chunk) => {
    buffered += chunk
    const lines = buffered.split('\n')
    buffered = lines.pop()!
    for (const line of lines) {
      const parsed = JSON.parse(line)
      if (parsed.value !== undefined) seen.add(parsed.value)
    }
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  return { child, seen, exited }
}
