// What the broker-free tests of both group members share: a plain fake of the cluster layer whose
// connections lead to one fake group coordinator (each test file's subclass answers as the broker
// does for its protocol). Every request and answer goes through the generated codecs at the version
// the member chose, so a body the broker could not read fails here; a test sees the bodies as the
// broker read them, which connection carried them and when. Also the listener that records calls.

import assert from 'node:assert/strict'
import { afterEach } from 'node:test'
import type { Cluster, CoordinatorType } from '../../../src/client/cluster.ts'
import { type BrokerInfo, ClusterMetadata } from '../../../src/client/metadata.ts'
import { RetryPolicy } from '../../../src/client/retry.ts'
import type { TopicPartition } from '../../../src/client/topic-partition.ts'
import type { GroupListener, GroupMembership } from '../../../src/group/membership.ts'
import { ConnectionError } from '../../../src/protocol/errors.ts'
import type { Api, MessageCodec } from '../../../src/protocol/messages/index.ts'
import { Reader, Writer } from '../../../src/protocol/primitives/index.ts'

export const GROUP = 'g'
export const key = (p: TopicPartition) => `${p.topic}-${p.partition}`
export const keys = (ps: readonly TopicPartition[]) => ps.map(key).sort()

/** A body as the other side reads it (without the empty tagged-field lists the decoder adds). */
export function roundTrip<T>(codec: MessageCodec<T>, version: number, body: T): T {
  const w = new Writer()
  codec.write(w, version, body)
  return withoutTags(codec.read(new Reader(w.finish()), version))
}

function withoutTags<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutTags) as T
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value
  const copy: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value))
    if (!(k === 'unknownTaggedFields' && v === undefined)) copy[k] = withoutTags(v)
  return copy as T
}

export interface Sent {
  api: string
  node: number
  /** Which connection carried it: its index in `opened`. */
  connection: number
  version: number
  body: any
  timeoutMs?: number
  at: number
}

/** A connection of the fake cluster: requests in flight fail with ConnectionError when it closes. */
export class FakeConnection {
  connected = false
  private index = -1
  readonly pending = new Set<(error: Error) => void>()

  constructor(
    private readonly coordinator: FakeCoordinator,
    readonly nodeId: number,
  ) {}

  async connect(): Promise<void> {
    this.connected = true
    this.index = this.coordinator.opened.push(this.nodeId) - 1
    this.coordinator.connections.add(this)
  }

  versionFor(api: Api): number {
    return this.coordinator.versionFor(api)
  }

  request(api: Api, body: unknown, options: { version: number; timeoutMs?: number }): Promise<unknown> {
    if (!this.connected) return Promise.reject(new ConnectionError('the fake connection is closed'))
    const { version, timeoutMs } = options
    const sent = roundTrip(api.request, version, body)
    this.coordinator.sent.push({
      api: api.name,
      node: this.nodeId,
      connection: this.index,
      version,
      body: sent,
      timeoutMs,
      at: Date.now(),
    })
    return new Promise((resolve, reject) => {
      this.pending.add(reject)
      // answered on a later turn of the event loop, as over a network
      new Promise((next) => setImmediate(next))
        .then(() => this.coordinator.answer(api, sent, this.nodeId))
        .then((answer) => resolve(roundTrip(api.response, version, answer)), reject)
        .finally(() => this.pending.delete(reject))
    })
  }

  close(): void {
    this.connected = false
    this.coordinator.connections.delete(this)
    for (const reject of this.pending) reject(new ConnectionError('the fake connection was closed'))
    this.pending.clear()
  }
}

/** The cluster layer as a member uses it, with group GROUP's coordinator behind it (nodes 1 and 2). */
export abstract class FakeCoordinator {
  readonly metadata = new ClusterMetadata()
  readonly sent: Sent[] = []
  /** Node ids of the connections opened, in order. */
  readonly opened: number[] = []
  readonly connections = new Set<FakeConnection>()
  /** The topics of each metadata refresh asked for, and how often every topic's metadata was. */
  readonly refreshes: string[][] = []
  allTopicRefreshes = 0
  /** Where FindCoordinator points; a request reaching another node is answered NOT_COORDINATOR. */
  coordinatorNode = 1
  /** FindCoordinator look-ups (the cluster caches the answer until invalidated). */
  lookups = 0
  private cachedCoordinator: number | undefined

  constructor() {
    for (const nodeId of [1, 2])
      this.metadata.brokers.set(nodeId, { nodeId, host: '127.0.0.1', port: 9000 + nodeId, rack: null })
  }

  /** What the coordinator answers `body` with, sent to `node`. */
  abstract answer(api: Api, body: any, node: number): unknown

  /** The version the broker offers (default: kafkax's latest stable one). */
  versionFor(api: Api): number {
    return api.request.latestStableVersion
  }

  /** What a metadata refresh brings (default: the metadata as it is). */
  protected refreshed(): ClusterMetadata {
    return this.metadata
  }

  cluster(): Cluster {
    return {
      metadata: this.metadata,
      retry: new RetryPolicy({ initialDelayMs: 5, maxDelayMs: 20, deadlineMs: 2000 }),
      coordinator: async (type: CoordinatorType, key: string) => {
        assert.deepEqual([type, key], ['group', GROUP])
        if (this.cachedCoordinator === undefined) {
          this.lookups++
          this.cachedCoordinator = this.coordinatorNode
        }
        return this.cachedCoordinator
      },
      invalidateCoordinator: () => {
        this.cachedCoordinator = undefined
      },
      newConnection: (broker: BrokerInfo) => new FakeConnection(this, broker.nodeId),
      refreshMetadata: async (topics: readonly string[] = []) => {
        this.refreshes.push([...topics])
        return this.refreshed()
      },
      refreshAllTopics: async () => {
        this.allTopicRefreshes++
        return this.refreshed()
      },
    } as unknown as Cluster
  }

  /** The bodies the member sent with `api`, in order. */
  requests(api: Api | string): any[] {
    const name = typeof api === 'string' ? api : api.name
    return this.sent.filter((s) => s.api === name).map((s) => s.body)
  }

  /** The offsets committed, by `topic-partition`. */
  readonly committed = new Map<string, bigint>()

  /** An OffsetCommit answer: every offset stored, or none (`errorCode` for each). */
  protected offsetCommit(body: any, errorCode: number): unknown {
    return {
      throttleTimeMs: 0,
      topics: body.topics.map((t: any) => ({
        name: t.name,
        topicId: '00000000-0000-0000-0000-000000000000',
        partitions: t.partitions.map((p: any) => {
          if (!errorCode) this.committed.set(`${t.name}-${p.partitionIndex}`, p.committedOffset)
          return { partitionIndex: p.partitionIndex, errorCode }
        }),
      })),
    }
  }

  /** An OffsetFetch answer (v8+) of the committed offsets, or each group's error `errorOf` says. */
  protected offsetFetch(body: any, errorOf: (group: any) => number): unknown {
    const groups = body.groups.map((g: any) => {
      const errorCode = errorOf(g)
      return {
        groupId: g.groupId,
        errorCode,
        topics: errorCode
          ? []
          : g.topics.map((t: any) => ({
              name: t.name,
              topicId: '00000000-0000-0000-0000-000000000000',
              partitions: t.partitionIndexes.map((partitionIndex: number) => ({
                partitionIndex,
                committedOffset: this.committed.get(`${t.name}-${partitionIndex}`) ?? -1n,
                committedLeaderEpoch: -1,
                metadata: '',
                errorCode: 0,
              })),
            })),
      }
    })
    return { throttleTimeMs: 0, errorCode: 0, topics: [], groups }
  }

  /** Requests sent and not answered yet. */
  inFlight(): number {
    let n = 0
    for (const c of this.connections) n += c.pending.size
    return n
  }

  dropConnections(): void {
    for (const c of [...this.connections]) c.close()
  }
}

export type Call = [kind: 'assigned' | 'revoked' | 'lost', partitions: string[]]

/** A listener recording its calls (and errors), each call running the test's hook of that kind. */
export function recordingListener(hooks: Partial<GroupListener> = {}): {
  listener: GroupListener
  calls: Call[]
  errors: Error[]
} {
  const calls: Call[] = []
  const errors: Error[] = []
  const record = (kind: Call[0], hook?: (ps: TopicPartition[]) => unknown) => async (ps: TopicPartition[]) => {
    calls.push([kind, keys(ps)])
    await hook?.(ps)
  }
  const listener: GroupListener = {
    onAssigned: record('assigned', hooks.onAssigned),
    onRevoked: record('revoked', hooks.onRevoked),
    onLost: record('lost', hooks.onLost),
    onError: (e) => errors.push(e),
    onJoined: hooks.onJoined,
  }
  return { listener, calls, errors }
}

/**
 * Makes members on a fake coordinator with `defaults` and a test's options, each with a recording
 * listener (running the test's hooks); every member is stopped after each test.
 */
export function memberMaker<M extends GroupMembership, O>(
  create: (cluster: Cluster, options: O, listener: GroupListener) => M,
  defaults: O,
) {
  const stops: (() => Promise<void>)[] = []
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop()
  })
  return (coordinator: FakeCoordinator, options: Partial<O> = {}, hooks: Partial<GroupListener> = {}) => {
    const { listener, calls, errors } = recordingListener(hooks)
    const member = create(coordinator.cluster(), { ...defaults, ...options }, listener)
    stops.push(() => member.stop())
    return { member, calls, errors }
  }
}
