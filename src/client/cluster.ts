// The cluster as clients see it: one pooled connection per broker (reopened with backoff after a
// failure), a metadata cache refreshed on a timer and on demand (concurrent refreshes coalesce),
// and routing to partition leaders and to group/transaction coordinators.

import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { AuthenticationError, ConnectionError } from '../protocol/errors.ts'
import { type Api, FindCoordinator, Metadata } from '../protocol/messages/index.ts'
import { Connection, type FinalizedFeatures, type RequestOptions } from './connection.ts'
import { type BrokerInfo, ClusterMetadata } from './metadata.ts'
import { type BrokerAddress, type ClientOptions, type ResolvedClientOptions, resolveClientOptions } from './options.ts'
import { RetryPolicy, sleep } from './retry.ts'

export type CoordinatorType = 'group' | 'transaction'
const COORDINATOR_KEY_TYPE: Record<CoordinatorType, number> = { group: 0, transaction: 1 }

/** Reconnect backoff per broker, as the Java client's reconnect.backoff.ms / reconnect.backoff.max.ms. */
const RECONNECT = new RetryPolicy({ initialDelayMs: 50, maxDelayMs: 1000 })

interface PooledBroker {
  connection?: Promise<Connection>
  failures: number
  retryAt: number
}

export class Cluster {
  readonly options: ResolvedClientOptions
  readonly retry: RetryPolicy
  readonly metadata = new ClusterMetadata()
  /** Sent with metadata requests: producers let the broker create topics on first use, as Java's do. */
  allowAutoTopicCreation = false
  /**
   * The newest finalized features any broker reported (the highest epoch wins, as the Java client's
   * ApiVersions keeps them): e.g. `transaction.version` decides the transaction protocol.
   */
  finalizedFeatures: FinalizedFeatures = { epoch: -1n, levels: new Map() }
  private readonly pool = new Map<string, PooledBroker>()
  /** Topics whose metadata we keep: those any caller asked about. */
  private readonly interest = new Set<string>()
  private refreshing: { topics: Set<string>; done: Promise<ClusterMetadata> } | undefined
  private readonly coordinators = new Map<string, number>()
  private refreshTimer: NodeJS.Timeout | undefined
  private closed = false

  constructor(options: ClientOptions | ResolvedClientOptions) {
    this.options = isResolved(options) ? options : resolveClientOptions(options)
    this.retry = new RetryPolicy(this.options.retry)
  }

  // ------------------------------------------------------------------------------------------
  // Connections

  /** The pooled connection to an address, opened (again) on demand. */
  async connectionTo(address: BrokerAddress): Promise<Connection> {
    if (this.closed) throw new ConnectionError('the client is closed', { retriable: false })
    const key = `${address.host}:${address.port}`
    let entry = this.pool.get(key)
    if (!entry) {
      entry = { failures: 0, retryAt: 0 }
      this.pool.set(key, entry)
    }
    for (let existing = entry.connection; existing; existing = entry.connection) {
      // an attempt that fails fails every caller waiting for it: following the next caller's attempt,
      // and the next, would keep a caller past its retry deadline for as long as the broker is down
      const c = await existing
      if (c.connected) return c
      if (entry.connection !== existing) continue // closed and replaced meanwhile: use the new one
      entry.connection = undefined
    }
    entry.connection = this.open(address, entry)
    return entry.connection
  }

  private async open(address: BrokerAddress, entry: PooledBroker): Promise<Connection> {
    const wait = entry.retryAt - Date.now()
    if (wait > 0) await sleep(wait)
    const connection = this.newConnection(address)
    try {
      await connection.connect()
    } catch (error) {
      entry.failures++
      entry.retryAt = Date.now() + RECONNECT.delay(entry.failures)
      entry.connection = undefined
      throw error
    }
    entry.failures = 0
    if (connection.finalizedFeatures.epoch > this.finalizedFeatures.epoch)
      this.finalizedFeatures = connection.finalizedFeatures
    connection.once('close', () => {
      if (entry.connection && this.pool.get(`${address.host}:${address.port}`) === entry) entry.connection = undefined
    })
    return connection
  }

  /** A new, unpooled connection with the client's options (not connected yet). */
  newConnection(address: BrokerAddress): Connection {
    const o = this.options
    return new Connection({
      host: address.host,
      port: address.port,
      clientId: o.clientId,
      tls: o.tls,
      sasl: o.sasl,
      connectTimeoutMs: o.connectTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      maxInFlight: o.maxInFlight,
      idleTimeoutMs: o.idleTimeoutMs,
      connect: o.connect,
      onNetworkEvent: o.onNetworkEvent,
    })
  }

  /** The connection to a broker of the cluster, by node id (from metadata). */
  async connectionToNode(nodeId: number): Promise<Connection> {
    let broker = this.metadata.brokers.get(nodeId)
    if (!broker) {
      await this.refreshMetadata()
      broker = this.metadata.brokers.get(nodeId)
      if (!broker) throw new ConnectionError(`broker ${nodeId} is not in the cluster metadata`, { retriable: true })
    }
    return this.connectionTo(broker)
  }

  /**
   * Any usable connection: an open one if there is, else the known brokers and then the bootstrap
   * list, in random order. Authentication errors are not worth trying elsewhere: they are thrown.
   */
  async anyConnection(): Promise<Connection> {
    for (const entry of this.pool.values()) {
      const c = await entry.connection?.catch(() => undefined)
      if (c?.connected) return c
    }
    const candidates = shuffle<BrokerAddress>([...this.metadata.brokers.values()])
    candidates.push(...shuffle(this.options.brokers))
    // a bootstrap address is often a broker's advertised one too: one attempt per address is enough
    const tried = new Set<string>()
    let last: unknown
    for (const address of candidates) {
      const key = `${address.host}:${address.port}`
      if (tried.has(key)) continue
      tried.add(key)
      try {
        return await this.connectionTo(address)
      } catch (error) {
        if (error instanceof AuthenticationError) throw error
        last = error
      }
    }
    const list = this.options.brokers.map((b) => `${b.host}:${b.port}`).join(', ')
    throw new ConnectionError(`no broker reachable (bootstrap: ${list})`, { cause: last })
  }

  /**
   * One request to a broker (`'any'` for whichever is reachable), retried on retriable errors by
   * the client's retry policy; a retriable Kafka error code in the answer is left to the caller.
   */
  request<Req, Res>(target: number | 'any', api: Api<Req, Res>, body: Req, options?: RequestOptions): Promise<Res> {
    return this.retry.run(async () => {
      const connection = target === 'any' ? await this.anyConnection() : await this.connectionToNode(target)
      return connection.request(api, body, options)
    })
  }

  // ------------------------------------------------------------------------------------------
  // Metadata

  /** Starts the periodic refresh and fetches metadata once (proves the cluster is reachable). */
  async connect(): Promise<void> {
    await this.refreshMetadata()
    if (!this.refreshTimer) {
      this.refreshTimer = setInterval(
        () => {
          if (Date.now() - this.metadata.updatedAt >= this.options.metadataMaxAgeMs)
            this.refreshMetadata().catch(() => {})
        },
        Math.min(this.options.metadataMaxAgeMs, 30_000),
      )
      this.refreshTimer.unref()
    }
  }

  /**
   * Refreshes the metadata of `topics` and of every topic asked about before. Concurrent calls
   * share one request when it covers their topics.
   */
  async refreshMetadata(topics: readonly string[] = []): Promise<ClusterMetadata> {
    for (const t of topics) this.interest.add(t)
    for (;;) {
      const current = this.refreshing
      if (!current) break
      await current.done.catch(() => undefined)
      if (topics.every((t) => current.topics.has(t))) return current.done
    }
    const wanted = new Set(this.interest)
    const done = this.request('any', Metadata, {
      topics: [...wanted].map((name) => ({ name })),
      allowAutoTopicCreation: this.allowAutoTopicCreation,
      includeTopicAuthorizedOperations: false,
    }).then((response) => {
      this.metadata.update(response)
      return this.metadata
    })
    const round = { topics: wanted, done }
    this.refreshing = round
    try {
      return await done
    } finally {
      if (this.refreshing === round) this.refreshing = undefined
    }
  }

  /** The metadata of every topic of the cluster (pattern subscriptions match against it); deleted topics leave the cache. */
  async refreshAllTopics(): Promise<ClusterMetadata> {
    const response = await this.request('any', Metadata, {
      topics: null,
      allowAutoTopicCreation: false,
      includeTopicAuthorizedOperations: false,
    })
    this.metadata.update(response, true)
    return this.metadata
  }

  /** Metadata of topics, from the cache when it has them all. */
  async topicMetadata(topics: readonly string[]): Promise<ClusterMetadata> {
    if (topics.every((t) => this.metadata.topics.has(t))) return this.metadata
    return this.refreshMetadata(topics)
  }

  /** The leader's node id of a partition; refreshes metadata when it is unknown. */
  async leaderFor(topic: string, partition: number): Promise<number> {
    let p = (await this.topicMetadata([topic])).partition(topic, partition)
    if (!p || p.leader < 0) p = (await this.refreshMetadata([topic])).partition(topic, partition)
    const t = this.metadata.topics.get(topic)
    if (t && t.errorCode !== 0) throw kafkaError(t.errorCode, `topic ${topic}`)
    if (!p) throw kafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `${topic}-${partition}`)
    if (p.leader < 0) throw kafkaError(ErrorCode.LEADER_NOT_AVAILABLE, `${topic}-${partition}`)
    return p.leader
  }

  applyLeaderHint(
    topic: string,
    partition: number,
    leader: { leaderId: number; leaderEpoch: number },
    endpoints?: readonly BrokerInfo[],
  ): boolean {
    return this.metadata.applyLeaderHint(topic, partition, leader, endpoints)
  }

  // ------------------------------------------------------------------------------------------
  // Coordinators

  /** The node id of the coordinator of a group or transactional id (cached until invalidated). */
  async coordinator(type: CoordinatorType, key: string): Promise<number> {
    const cached = this.coordinators.get(`${type}:${key}`)
    if (cached !== undefined) return cached
    const nodeId = await this.retry.run(async () => {
      const connection = await this.anyConnection()
      const version = connection.versionFor(FindCoordinator)
      const keyType = COORDINATOR_KEY_TYPE[type]
      const response = await connection.request(
        FindCoordinator,
        version >= 4 ? { keyType, coordinatorKeys: [key] } : { key, keyType },
        { version },
      )
      const found = version >= 4 ? response.coordinators[0] : response
      if (!found)
        throw kafkaError(ErrorCode.COORDINATOR_NOT_AVAILABLE, `no coordinator in the answer for ${type} ${key}`)
      if (found.errorCode !== 0) throw kafkaError(found.errorCode, `FindCoordinator(${type} ${key})`)
      this.metadata.brokers.set(found.nodeId, { nodeId: found.nodeId, host: found.host, port: found.port, rack: null })
      return found.nodeId
    })
    this.coordinators.set(`${type}:${key}`, nodeId)
    return nodeId
  }

  /** Forgets a coordinator after ErrorCode.NOT_COORDINATOR / ErrorCode.COORDINATOR_NOT_AVAILABLE or a lost connection. */
  invalidateCoordinator(type: CoordinatorType, key: string): void {
    this.coordinators.delete(`${type}:${key}`)
  }

  /**
   * A request to a coordinator, retried (with a fresh lookup) while the coordinator moves or loads.
   * `errorOf` extracts the answer's error code, so coordinator errors inside it are retried too.
   */
  coordinatorRequest<Req, Res>(
    type: CoordinatorType,
    key: string,
    api: Api<Req, Res>,
    body: Req,
    errorOf: (response: Res) => number,
  ): Promise<Res> {
    return this.retry.run(async () => {
      const nodeId = await this.coordinator(type, key)
      let response: Res
      try {
        response = await (await this.connectionToNode(nodeId)).request(api, body)
      } catch (error) {
        if (error instanceof ConnectionError) this.invalidateCoordinator(type, key)
        throw error
      }
      const code = errorOf(response)
      if (
        code === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS ||
        code === ErrorCode.COORDINATOR_NOT_AVAILABLE ||
        code === ErrorCode.NOT_COORDINATOR
      ) {
        if (code !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) this.invalidateCoordinator(type, key)
        throw kafkaError(code, `${api.name} for ${type} ${key}`)
      }
      return response
    })
  }

  /** Closes every connection; requests in flight fail with ConnectionError. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.refreshTimer)
    const entries = [...this.pool.values()]
    this.pool.clear()
    for (const e of entries) (await e.connection?.catch(() => undefined))?.close()
  }
}

function isResolved(o: ClientOptions | ResolvedClientOptions): o is ResolvedClientOptions {
  return Array.isArray(o.brokers) && o.brokers.length > 0 && typeof o.brokers[0] === 'object'
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[items[i], items[j]] = [items[j], items[i]]
  }
  return items
}
