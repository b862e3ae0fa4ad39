// The cluster's connection pool when a broker cannot be reached: callers sharing one connection
// attempt fail with it, so each caller's retry policy (and its deadline) stays in charge, and an
// address is tried once per round however many ways it is known.

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Cluster } from '../../../src/client/cluster.ts'
import type { Connector } from '../../../src/client/connector.ts'
import { ConnectionError } from '../../../src/protocol/errors.ts'
import { ApiVersions } from '../../../src/protocol/messages/index.ts'

/** A black-holed broker: the connection never completes; the attempt ends only when aborted. */
const blackHole: Connector = (target) =>
  new Promise((_, reject) => target.signal.addEventListener('abort', () => reject(target.signal.reason)))

describe('Cluster connection pool', () => {
  it('fails every concurrent caller within its retry deadline while the broker is unreachable', async () => {
    const connectTimeoutMs = 300
    const deadlineMs = 500
    const cluster = new Cluster({
      brokers: ['unreachable:9092'],
      connect: blackHole,
      connectTimeoutMs,
      retry: { deadlineMs, maxAttempts: 1000, initialDelayMs: 10, maxDelayMs: 50 },
    })
    // the last attempt may start just before the deadline: it gets the reconnect backoff (at most
    // 1 s, +20% jitter) and its connect timeout, not the attempts of the other callers too
    const bound = deadlineMs + 1200 + connectTimeoutMs + 300
    try {
      const calls = Array.from({ length: 8 }, async () => {
        const started = Date.now()
        const error = await cluster
          .request('any', ApiVersions, { clientSoftwareName: 't', clientSoftwareVersion: '0' })
          .then(
            () => undefined,
            (e: unknown) => e,
          )
        return { error, ms: Date.now() - started }
      })
      for (const { error, ms } of await Promise.all(calls)) {
        assert.ok(error instanceof ConnectionError, `failed with ${error}`)
        assert.ok(ms <= bound, `a caller waited ${ms} ms (bound ${bound} ms)`)
      }
    } finally {
      await cluster.close()
    }
  })

  it('tries an address once per anyConnection(), when it is both a bootstrap and a known broker', async () => {
    const targets: string[] = []
    const cluster = new Cluster({
      brokers: ['127.0.0.1:9092'],
      connect: async (target) => {
        targets.push(`${target.host}:${target.port}`)
        throw Object.assign(new Error('refused by test'), { code: 'ECONNREFUSED' })
      },
    })
    cluster.metadata.brokers.set(1, { nodeId: 1, host: '127.0.0.1', port: 9092, rack: null })
    try {
      await assert.rejects(cluster.anyConnection(), ConnectionError)
      assert.deepEqual(targets, ['127.0.0.1:9092'])
    } finally {
      await cluster.close()
    }
  })
})
