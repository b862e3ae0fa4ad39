// A client's own connection to the coordinator of one group or transactional id, as the Java
// client keeps one (AbstractCoordinator, TransactionManager): found with FindCoordinator, apart from
// the pooled connections (a JoinGroup may be held for minutes and must not hold up fetches), and
// found again when an answer says the coordinator moved or the connection is lost.

import { ErrorCode } from '../protocol/error-codes.ts'
import { ConnectionError, TimeoutError } from '../protocol/errors.ts'
import type { Api } from '../protocol/messages/index.ts'
import type { Cluster, CoordinatorType } from './cluster.ts'
import type { Connection } from './connection.ts'

export class CoordinatorConnection {
  private readonly cluster: Cluster
  readonly type: CoordinatorType
  /** The group id or transactional id. */
  readonly key: string
  private current: { nodeId: number; connection: Promise<Connection> } | undefined

  constructor(cluster: Cluster, type: CoordinatorType, key: string) {
    this.cluster = cluster
    this.type = type
    this.key = key
  }

  /** One request to the coordinator at the highest version both sides (and `maxVersion`) allow. */
  async request<Req, Res>(
    api: Api<Req, Res>,
    maxVersion: number,
    body: (version: number) => Req,
    timeoutMs?: number,
  ): Promise<Res> {
    try {
      const connection = await this.connection()
      const version = Math.min(connection.versionFor(api), maxVersion)
      return await connection.request(api, body(version), { version, timeoutMs })
    } catch (error) {
      if (error instanceof ConnectionError || error instanceof TimeoutError) this.forget()
      throw error
    }
  }

  /**
   * True for the errors meaning the coordinator moved (ErrorCode.NOT_COORDINATOR,
   * ErrorCode.COORDINATOR_NOT_AVAILABLE): it is looked up again on the next request.
   */
  checkError(errorCode: number): boolean {
    if (errorCode !== ErrorCode.NOT_COORDINATOR && errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE) return false
    this.forget()
    return true
  }

  /** Closes the connection (requests in flight on it fail with ConnectionError); the next request opens another. */
  close(): void {
    const current = this.current
    this.current = undefined
    current?.connection.then(
      (c) => c.close(),
      () => {},
    )
  }

  private forget(): void {
    this.cluster.invalidateCoordinator(this.type, this.key)
    this.close()
  }

  private async connection(): Promise<Connection> {
    const nodeId = await this.cluster.coordinator(this.type, this.key)
    const current = this.current
    if (current?.nodeId === nodeId) {
      const c = await current.connection.catch(() => undefined)
      if (c?.connected) return c
      if (this.current === current) this.current = undefined
    }
    if (this.current?.nodeId !== nodeId) {
      this.close()
      this.current = { nodeId, connection: this.open(nodeId) }
    }
    return this.current.connection
  }

  private async open(nodeId: number): Promise<Connection> {
    const broker = this.cluster.metadata.brokers.get(nodeId)
    if (!broker) throw new ConnectionError(`coordinator ${nodeId} is not in the metadata`, { retriable: true })
    const connection = this.cluster.newConnection(broker)
    await connection.connect()
    return connection
  }
}
