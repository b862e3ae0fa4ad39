// Fair dispatch across partitions, as the defect was found: 20,000 records on partition 0 and 100
// on partition 1, a 1 ms handler. One partition's backlog must not hold the other's records back:
// with two workers partition 1 gets one of them at once, and with one worker the partitions take
// turns. The figure checked is how many of partition 0's records were handled when partition 1's
// last one was (it used to be ~19,000: the whole backlog).

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Admin } from '../../src/admin/admin.ts'
import { Consumer } from '../../src/consumer/consumer.ts'
import type { Message } from '../../src/consumer/message.ts'
import { Producer } from '../../src/producer/producer.ts'
import { brokers, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const DEEP = 20_000
const SHALLOW = 100
const admin = new Admin({ brokers: brokers() })
let topic: string

/** Handles with `handler` until partition 1 is drained; returns partition 0's count at that moment. */
async function deepHandledWhenShallowDone(concurrency: number, handler: (m: Message) => unknown): Promise<number> {
  const c = new Consumer({
    brokers: brokers(),
    assign: [
      { topic, partition: 0, offset: 0n },
      { topic, partition: 1, offset: 0n },
    ],
    concurrency,
  })
  const handled = [0, 0]
  let atShallowDone = -1
  const run = c.run((m) => {
    const result = handler(m)
    const count = () => {
      handled[m.partition]++
      if (m.partition === 1 && handled[1] === SHALLOW) atShallowDone = handled[0]
    }
    if (result instanceof Promise) return result.then(count)
    count()
  })
  try {
    await waitFor('partition 1 drained', () => atShallowDone >= 0, { timeoutMs: 60_000, state: () => handled })
  } finally {
    await c.stop()
    await run
  }
  process.stdout.write(`# concurrency ${concurrency}: ${atShallowDone} of partition 0 handled at partition 1's last\n`)
  return atShallowDone
}

describe('Consumer dispatch across partitions', () => {
  before(async () => {
    topic = uniqueTopic('fair')
    await admin.createTopics([{ topic, partitions: 2, replicationFactor: 1 }])
    const producer = new Producer({ brokers: brokers(), batch: { lingerMs: 20 } })
    await producer.sendBatch(Array.from({ length: DEEP }, (_, i) => ({ topic, partition: 0, value: `deep ${i}` })))
    await producer.sendBatch(
      Array.from({ length: SHALLOW }, (_, i) => ({ topic, partition: 1, value: `shallow ${i}` })),
    )
    await producer.close()
  })
  after(() => admin.close())

  const sleep1 = () => new Promise((r) => setTimeout(r, 1))

  it('gives the shallow partition a worker at once with concurrency 2 (no worker idles)', async () => {
    const deep = await deepHandledWhenShallowDone(2, sleep1)
    // both partitions progress side by side: the deep one about as far as the shallow one
    assert.ok(deep <= 3 * SHALLOW, `${deep} of partition 0 handled before partition 1's ${SHALLOW}`)
  })

  it('lets the partitions take turns with one worker and an asynchronous handler', async () => {
    const deep = await deepHandledWhenShallowDone(1, sleep1)
    assert.ok(deep <= 3 * SHALLOW, `${deep} of partition 0 handled before partition 1's ${SHALLOW}`)
  })

  it('bounds the share of a synchronous handler turn too', async () => {
    let spin = 0
    const deep = await deepHandledWhenShallowDone(1, (m) => {
      spin += m.value!.length
    })
    assert.ok(spin > 0)
    // a turn runs a bounded number of messages of one partition before the next one's
    assert.ok(deep <= 10 * SHALLOW, `${deep} of partition 0 handled before partition 1's ${SHALLOW}`)
  })
})
