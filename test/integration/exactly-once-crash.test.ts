// Exactly-once under crashes: a consume-transform-produce worker process (test/helpers/eos-worker.ts)
// is kill -9-ed at random points three times and restarted each time; afterwards a read_committed
// reader finds exactly one output per input and the group's offsets are at the end of the input.
// EOS_CRASH_RECORDS sets the number of inputs (default 100,000: about 15 s), EOS_CRASH_SEED the
// kill points (a run prints its seed).

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { Admin } from '../../src/admin/admin.ts'
import { outputsOf, seeded, untilDone, Worker, type WorkerConfig, writeInputs } from '../helpers/exactly-once.ts'
import { brokers, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const COUNT = Number(process.env.EOS_CRASH_RECORDS ?? 100_000)
const SEED = Number(process.env.EOS_CRASH_SEED ?? Date.now() % 1_000_000)
const PARTITIONS = 4

describe('Exactly-once under crashes', () => {
  const admin = new Admin({ brokers: brokers() })
  after(() => admin.close())

  it(`${COUNT} inputs, the worker kill -9-ed three times: one committed output per input, offsets at the end`, async (t) => {
    const input = uniqueTopic('eos-crash-in')
    const output = uniqueTopic('eos-crash-out')
    await admin.createTopics([
      { topic: input, partitions: PARTITIONS, replicationFactor: 1 },
      { topic: output, partitions: PARTITIONS, replicationFactor: 1 },
    ])
    await writeInputs(brokers(), input, COUNT, PARTITIONS)

    const config: WorkerConfig = {
      brokers: brokers(),
      input,
      output,
      groupId: `eos-crash-${input}`,
      id: `eos-crash-${input}`,
    }
    const random = seeded(SEED)
    t.diagnostic(`seed ${SEED} (EOS_CRASH_SEED reproduces the kill points)`)
    const started = Date.now()
    for (let crash = 1; crash <= 3; crash++) {
      const worker = new Worker(config)
      t.after(() => worker.kill()) // a failed wait leaves no process behind
      // a random point of its work (mid-transaction, between two, in a commit), counted in messages
      // so that a fast run is not over before its kill (a fifth of the inputs at most: work remains)
      const target = 500 + Math.floor(random() * (COUNT / 5))
      await waitFor(`worker ${crash} to handle ${target} messages`, () => worker.handled >= target, {
        timeoutMs: 60_000,
        state: () => worker.stderr,
      })
      const delay = Math.floor(random() * 20)
      await new Promise((r) => setTimeout(r, delay))
      await worker.kill()
      t.diagnostic(`kill -9 ${crash}: ${delay} ms after ${target} handled, at ${worker.handled} handled`)
    }
    const last = new Worker(config)
    try {
      await untilDone(admin, config, last, 120_000)
    } finally {
      assert.equal(await last.stop(), 0, `the last worker stopped cleanly: ${last.stderr}`)
    }
    t.diagnostic(`${COUNT} inputs through 4 workers in ${Date.now() - started} ms`)
    const { missing, duplicated, foreign } = outputsOf(brokers(), output, COUNT)
    assert.deepEqual(
      { missing: missing.slice(0, 20), duplicated: duplicated.slice(0, 20), foreign: foreign.slice(0, 20) },
      { missing: [], duplicated: [], foreign: [] },
      `exactly one output per input (${missing.length} missing, ${duplicated.length} twice or more)`,
    )
  })
})
