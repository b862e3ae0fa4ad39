// Exactly-once in the harness's 3-node cluster (replication factor 3, min ISR 2): the broker that is
// the transaction coordinator of the consume-transform-produce worker (test/helpers/eos-worker.ts)
// is killed with SIGKILL mid-run, the worker itself too a little later, and both are started again;
// afterwards a read_committed reader finds exactly one output per input and the group's offsets are
// at the end of the input. EOS_CLUSTER_RECORDS sets the number of inputs (default 50,000).

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { Admin } from '../../src/admin/admin.ts'
import { Cluster } from '../../src/client/cluster.ts'
import { outputsOf, untilDone, Worker, type WorkerConfig, writeInputs } from '../helpers/exactly-once.ts'
import {
  CLUSTER_BOOTSTRAP,
  clusterDir,
  killNode,
  logTail,
  restartNode,
  startCluster,
  stopCluster,
  uniqueTopic,
} from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

const COUNT = Number(process.env.EOS_CLUSTER_RECORDS ?? 50_000)
const PARTITIONS = 4

/** The node that coordinates a transactional id now (FindCoordinator key type 1). */
async function transactionCoordinator(transactionalId: string): Promise<number> {
  const cluster = new Cluster({ brokers: CLUSTER_BOOTSTRAP })
  try {
    return await cluster.coordinator('transaction', transactionalId)
  } finally {
    await cluster.close()
  }
}

describe('Exactly-once in the 3-node cluster', () => {
  let admin: Admin
  before(async () => {
    await startCluster()
    admin = new Admin({ brokers: CLUSTER_BOOTSTRAP, retry: { deadlineMs: 60_000 } })
  })
  after(async () => {
    await admin?.close()
    await stopCluster()
  })

  it("survives kill -9 of the transaction coordinator's broker and of the worker: one output per input", async (t) => {
    const input = uniqueTopic('eos-cluster-in')
    const output = uniqueTopic('eos-cluster-out')
    await admin.createTopics([
      { topic: input, partitions: PARTITIONS, replicationFactor: 3 },
      { topic: output, partitions: PARTITIONS, replicationFactor: 3 },
    ])
    await writeInputs(CLUSTER_BOOTSTRAP, input, COUNT, PARTITIONS)

    const id = `eos-cluster-${input}`
    const config: WorkerConfig = { brokers: CLUSTER_BOOTSTRAP, input, output, groupId: id, id }
    let worker = new Worker(config)
    let killed: number | undefined
    try {
      await waitFor('the worker to handle messages', () => worker.handled > 0, {
        timeoutMs: 90_000,
        state: () => worker.stderr,
      })
      killed = await transactionCoordinator(id)
      await killNode(killed)
      t.diagnostic(`kill -9 of node ${killed} (the transaction coordinator) at ${worker.handled} handled`)
      const before = worker.handled
      await waitFor('the worker to go on without that node', () => worker.handled >= before + 2000, {
        timeoutMs: 90_000,
        state: () => ({ handled: worker.handled, stderr: worker.stderr.slice(-1000) }),
      })
      await worker.kill()
      t.diagnostic(`kill -9 of the worker at ${worker.handled} handled; node ${killed} restarted`)
      await restartNode(killed)
      worker = new Worker(config)
      await untilDone(admin, config, worker, 180_000)
    } finally {
      const code = await worker.stop()
      if (killed !== undefined) await restartNode(killed)
      assert.equal(code, 0, `the last worker stopped cleanly: ${worker.stderr}`)
    }
    const { missing, duplicated, foreign } = outputsOf(CLUSTER_BOOTSTRAP, output, COUNT)
    assert.deepEqual(
      { missing: missing.slice(0, 20), duplicated: duplicated.slice(0, 20), foreign: foreign.slice(0, 20) },
      { missing: [], duplicated: [], foreign: [] },
      `exactly one output per input (${missing.length} missing, ${duplicated.length} twice or more)\n${killed === undefined ? '' : logTail(clusterDir(killed), 20)}`,
    )
  })
})
