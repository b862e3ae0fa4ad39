// The coordinator connection without a broker, as a transactional producer would use it (key type
// 'transaction'): a plain fake of the cluster layer that counts FindCoordinator look-ups and opens
// fake connections. Checked: one connection of its own, kept while it works; a look-up again after
// NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE, a lost connection or a timed-out request, and not
// after other errors; versions capped by the caller.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Cluster, CoordinatorType } from '../../../src/client/cluster.ts'
import { CoordinatorConnection } from '../../../src/client/coordinator.ts'
import type { BrokerInfo } from '../../../src/client/metadata.ts'
import { ErrorCode } from '../../../src/protocol/error-codes.ts'
import { ConnectionError, TimeoutError } from '../../../src/protocol/errors.ts'
import { type Api, InitProducerId } from '../../../src/protocol/messages/index.ts'

class FakeCluster {
  coordinatorNode = 1
  readonly lookups: string[] = []
  readonly opened: number[] = []
  readonly closed: number[] = []
  /** What the next request on any connection does. */
  next: (nodeId: number) => unknown = () => ({ errorCode: 0 })
  readonly versions: number[] = []
  private cached: number | undefined

  cluster(): Cluster {
    const brokers = new Map<number, BrokerInfo>(
      [1, 2].map((nodeId) => [nodeId, { nodeId, host: '127.0.0.1', port: 9000 + nodeId, rack: null }]),
    )
    return {
      metadata: { brokers },
      coordinator: async (type: CoordinatorType, key: string) => {
        if (this.cached === undefined) {
          this.lookups.push(`${type}:${key}`)
          this.cached = this.coordinatorNode
        }
        return this.cached
      },
      invalidateCoordinator: () => {
        this.cached = undefined
      },
      newConnection: (broker: BrokerInfo) => {
        const connection = {
          connected: false,
          connect: async () => {
            connection.connected = true
            this.opened.push(broker.nodeId)
          },
          versionFor: (api: Api) => api.request.latestStableVersion,
          request: async (_api: Api, _body: unknown, o: { version: number }) => {
            this.versions.push(o.version)
            return this.next(broker.nodeId)
          },
          close: () => {
            connection.connected = false
            this.closed.push(broker.nodeId)
          },
        }
        return connection
      },
    } as unknown as Cluster
  }
}

const body = () => ({ transactionalId: 'tx', transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 })

describe('CoordinatorConnection', () => {
  it('looks the coordinator up once and keeps its own connection while it works', async () => {
    const fake = new FakeCluster()
    const coordinator = new CoordinatorConnection(fake.cluster(), 'transaction', 'tx')
    for (let i = 0; i < 3; i++) await coordinator.request(InitProducerId, Number.POSITIVE_INFINITY, body)
    assert.deepEqual(fake.lookups, ['transaction:tx'])
    assert.deepEqual(fake.opened, [1])
    // the version is the highest both sides allow, capped by the caller
    await coordinator.request(InitProducerId, 2, body)
    const latest = InitProducerId.request.latestStableVersion
    assert.ok(latest > 2)
    assert.deepEqual(fake.versions, [latest, latest, latest, 2])
    coordinator.close()
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(fake.closed, [1])
  })

  it('NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE: forgotten, found again on the next request', async () => {
    const fake = new FakeCluster()
    const coordinator = new CoordinatorConnection(fake.cluster(), 'transaction', 'tx')
    await coordinator.request(InitProducerId, Number.POSITIVE_INFINITY, body)
    fake.coordinatorNode = 2
    assert.equal(coordinator.checkError(ErrorCode.NOT_COORDINATOR), true)
    await coordinator.request(InitProducerId, Number.POSITIVE_INFINITY, body)
    assert.equal(coordinator.checkError(ErrorCode.COORDINATOR_NOT_AVAILABLE), true)
    await coordinator.request(InitProducerId, Number.POSITIVE_INFINITY, body)
    assert.deepEqual(fake.lookups.length, 3)
    assert.deepEqual(fake.opened, [1, 2, 2])
    // any other error says nothing about where the coordinator is
    assert.equal(coordinator.checkError(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS), false)
    assert.equal(coordinator.checkError(ErrorCode.ILLEGAL_GENERATION), false)
    await coordinator.request(InitProducerId, Number.POSITIVE_INFINITY, body)
    assert.deepEqual([fake.lookups.length, fake.opened.length], [3, 3])
  })

  it('a request failing with ConnectionError or TimeoutError makes it look the coordinator up again', async () => {
    for (const error of [new ConnectionError('reset'), new TimeoutError('no answer')]) {
      const fake = new FakeCluster()
      const coordinator = new CoordinatorConnection(fake.cluster(), 'transaction', 'tx')
      await coordinator.request(InitProducerId, Number.POSITIVE_INFINITY, body)
      fake.next = () => {
        throw error
      }
      await assert.rejects(coordinator.request(InitProducerId, Number.POSITIVE_INFINITY, body), (e) => e === error)
      fake.next = () => ({ errorCode: 0 })
      await coordinator.request(InitProducerId, Number.POSITIVE_INFINITY, body)
      assert.deepEqual(fake.lookups, ['transaction:tx', 'transaction:tx'], error.name)
      assert.deepEqual(fake.opened, [1, 1], error.name)
    }
  })

  it('a coordinator missing from the metadata is a retriable ConnectionError', async () => {
    const fake = new FakeCluster()
    fake.coordinatorNode = 7
    const coordinator = new CoordinatorConnection(fake.cluster(), 'transaction', 'tx')
    await assert.rejects(
      coordinator.request(InitProducerId, Number.POSITIVE_INFINITY, body),
      (e: unknown) => e instanceof ConnectionError && e.retriable && /coordinator 7/.test(e.message),
    )
  })
})
