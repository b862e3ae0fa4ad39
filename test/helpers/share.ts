// The share-group integration tests' helpers (share-group.test.ts, share-group-members.test.ts):
// topics with records, share groups reading from the earliest offset, and share consumers run
// until stopped with the errors they report collected.

import type { Admin } from '../../src/admin/admin.ts'
import { Producer } from '../../src/producer/producer.ts'
import { ShareConsumer, type ShareConsumerOptions } from '../../src/share/consumer.ts'
import { brokers, uniqueTopic } from './kafka.ts'
import { within } from './wait.ts'

/** A topic of `partitions` with `count` records valued '0', '1', ... */
export async function topicWith(admin: Admin, partitions: number, count: number): Promise<string> {
  const topic = uniqueTopic('share')
  await admin.createTopics([{ topic, partitions, replicationFactor: 1 }])
  if (count > 0) {
    const producer = new Producer({ brokers: brokers(), batch: { maxMessages: 2000 } })
    await producer.sendBatch(Array.from({ length: count }, (_, i) => ({ topic, key: `k${i}`, value: String(i) })))
    await producer.close()
  }
  return topic
}

/**
 * A share group reading from the earliest offset (a share group starts at the latest unless its
 * config says otherwise), heartbeating every second so that assignments arrive quickly.
 */
export async function shareGroup(admin: Admin, configs: Record<string, string> = {}): Promise<string> {
  const groupId = uniqueTopic('share-group')
  const all = { 'share.auto.offset.reset': 'earliest', 'share.heartbeat.interval.ms': '1000', ...configs }
  await admin.incrementalAlterConfigs([
    {
      type: 'group',
      name: groupId,
      ops: Object.entries(all).map(([key, value]) => ({ key, op: 'set' as const, value })),
    },
  ])
  return groupId
}

export function shareConsumer(
  groupId: string,
  topic: string,
  extra: Partial<ShareConsumerOptions> = {},
): ShareConsumer {
  return new ShareConsumer({ brokers: brokers(), groupId, topics: [topic], ...extra })
}

/** Runs `consumer` with `handler` until stopped; errors it reports are collected. */
export function start(consumer: ShareConsumer, handler: Parameters<ShareConsumer['run']>[0]) {
  const errors: Error[] = []
  consumer.on('error', (e: Error) => errors.push(e))
  const running = consumer.run(handler)
  return {
    errors,
    stop: () =>
      within(
        'the share consumer to stop',
        consumer.stop().then(() => running),
        30_000,
      ),
  }
}
