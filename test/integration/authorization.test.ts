// A real broker that enforces ACLs (Kafka's StandardAuthorizer; a resource without ACLs stays open),
// started for this file beside the harness's own node, which has no authorizer: ACLs created,
// listed and deleted through the Admin, and TRANSACTIONAL_ID_AUTHORIZATION_FAILED taken as the Java
// client takes it, a fatal error that leaves the producer unusable, whether the transactional id is
// denied before the producer starts (InitProducerId) or while it runs (Produce under protocol v2,
// AddPartitionsToTxn under v1). Runs on both lines (KAFKA_VERSION=3.9 too).

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { KIT, ROOT, stopDir } from '../../scripts/kafka/harness.ts'
import type { Acl } from '../../src/admin/acls.ts'
import { Admin } from '../../src/admin/admin.ts'
import { Producer } from '../../src/producer/producer.ts'
import { TransactionError } from '../../src/producer/transaction-error.ts'
import { kcat, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor } from '../helpers/wait.ts'

// ports of its own (KAFKA_PORT_BASE), so it runs beside the harness's node
const PORT_BASE = 39092
const bootstrap = `127.0.0.1:${PORT_BASE}`
const brokers = [bootstrap]

function startAuthorizingNode(): void {
  const started = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/kafka/cli.ts', 'start', '--authorizer'], {
    cwd: ROOT,
    env: { ...process.env, KAFKA_PORT_BASE: String(PORT_BASE) },
    encoding: 'utf8',
    timeout: 180_000,
  })
  if (started.status !== 0)
    throw new Error(
      `the node with an authorizer did not start (${started.status}):\n${started.stdout}${started.stderr}`,
    )
}

const denyWrite = (transactionalId: string): Acl => ({
  resourceType: 'transactional-id',
  resourceName: transactionalId,
  principal: 'User:ANONYMOUS',
  operation: 'write',
  permission: 'deny',
})

const isAuthorizationFailure = (e: unknown) =>
  e instanceof TransactionError && e.fatal && !e.retriable && e.type === 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED'

describe('a broker enforcing ACLs', () => {
  let admin: Admin
  before(async () => {
    startAuthorizingNode()
    admin = new Admin({ brokers })
  })
  after(async () => {
    await admin?.close()
    await stopDir(join(KIT, `single-${PORT_BASE}`))
  })

  /** Creates the ACL and waits until the broker's authorizer lists it (ACLs reach it through the metadata log). */
  async function enforce(acl: Acl): Promise<void> {
    await admin.createAcls([acl])
    await waitFor(
      `the broker to list the ACL on ${acl.resourceName}`,
      async () => (await admin.describeAcls({ resourceName: acl.resourceName })).length === 1,
      { timeoutMs: 10_000 },
    )
  }

  it('creates, lists and deletes ACLs', async () => {
    const acl: Acl = {
      resourceType: 'topic',
      resourceName: uniqueTopic('acl'),
      principal: 'User:alice',
      operation: 'read',
      permission: 'allow',
    }
    await enforce(acl)
    const [listed] = await admin.describeAcls({ resourceName: acl.resourceName })
    assert.deepEqual(
      [listed.resourceType, listed.resourceName, listed.patternType, listed.principal, listed.host, listed.operation],
      ['topic', acl.resourceName, 'literal', 'User:alice', '*', 'read'],
    )
    const deleted = await admin.deleteAcls([{ resourceType: 'topic', resourceName: acl.resourceName }])
    assert.deepEqual(
      deleted.map((a) => [a.resourceName, a.permission]),
      [[acl.resourceName, 'allow']],
    )
    await waitFor(
      'the ACL to be gone',
      async () => (await admin.describeAcls({ resourceName: acl.resourceName })).length === 0,
      { timeoutMs: 10_000 },
    )
  })

  it('a transactional id denied before the producer starts: InitProducerId fails, fatal and typed; another id works', async () => {
    const topic = uniqueTopic('acl-txn')
    await admin.createTopics([{ topic, partitions: 1, replicationFactor: 1 }])
    const denied = uniqueTopic('acl-denied')
    await enforce(denyWrite(denied))
    const producer = new Producer({ brokers, transactionalId: denied })
    try {
      await assert.rejects(
        producer.transaction((tx) => tx.send({ topic, value: 'never' })),
        isAuthorizationFailure,
      )
      await assert.rejects(producer.beginTransaction(), isAuthorizationFailure, 'the producer stays unusable')
    } finally {
      await producer.close()
    }
    // the denial is that id's alone
    const allowed = new Producer({ brokers, transactionalId: uniqueTopic('acl-allowed') })
    try {
      await allowed.transaction((tx) => tx.send({ topic, value: 'committed' }))
    } finally {
      await allowed.close()
    }
    const read = kcat(['-b', bootstrap, '-C', '-t', topic, '-e', '-q', '-X', 'isolation.level=read_committed'])
    assert.deepEqual(read.split('\n').filter(Boolean), ['committed'])
  })

  it('a transactional id denied while the producer runs: its next transaction fails, fatal and typed, and nothing of it is visible', async () => {
    const topic = uniqueTopic('acl-txn-late')
    await admin.createTopics([{ topic, partitions: 1, replicationFactor: 1 }])
    const transactionalId = uniqueTopic('acl-late')
    const producer = new Producer({ brokers, transactionalId })
    try {
      await producer.transaction((tx) => tx.send({ topic, value: 'before' }))
      await enforce(denyWrite(transactionalId))
      // protocol v2: Produce refuses the records; v1: AddPartitionsToTxn refuses the partition
      await assert.rejects(
        producer.transaction((tx) => tx.send({ topic, value: 'after' })),
        isAuthorizationFailure,
      )
      await assert.rejects(producer.send({ topic, value: 'later' }), isAuthorizationFailure)
    } finally {
      await producer.close()
    }
    const read = kcat(['-b', bootstrap, '-C', '-t', topic, '-e', '-q', '-X', 'isolation.level=read_committed'])
    assert.deepEqual(read.split('\n').filter(Boolean), ['before'])
  })
})
