// The admin's request engine: one connection to the cluster, requests to a target (any broker, a
// broker by id, a group's coordinator), the retry policy, and batch calls whose items are grouped
// by target and settled one by one (retriable item errors are sent again; the rest are thrown
// together as one AdminError).

import type { Cluster } from '../client/cluster.ts'
import { STALE_METADATA_ERRORS } from '../client/metadata.ts'
import { ErrorCode, kafkaError } from '../protocol/error-codes.ts'
import { ConnectionError, KafkaError, KafkaxError, ProtocolError } from '../protocol/errors.ts'
import type { Api } from '../protocol/messages/index.ts'

/** One item of a batch call that the broker refused. */
export interface AdminItemError<I> {
  item: I
  error: KafkaError
}

/** The KafkaError a batch call throws: the first failed item's, with every failed item in `errors`. */
export type AdminError<I> = KafkaError & { errors: AdminItemError<I>[] }

/** Where a request goes: any broker, or the broker with that node id. */
export type Target = number | 'any'

/**
 * Retriable in Kafka's table but final for an admin call: the topic does not exist (Java's
 * AdminClient fails at once too), or the broker already waited the whole timeout.
 */
const FINAL = new Set<number>([
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.UNKNOWN_TOPIC_ID,
  ErrorCode.REQUEST_TIMED_OUT,
])

function worthRetry(error: unknown): boolean {
  return error instanceof KafkaxError && error.retriable && !(error instanceof KafkaError && FINAL.has(error.code))
}

/** A KafkaError for a failed item: Kafka's name and message, then what failed and the broker's words. */
export function itemError(code: number, what: string, message?: string | null): KafkaError {
  return kafkaError(code, message ? `${what}: ${message}` : what)
}

/** The first item's error, carrying every failed item. */
export function withItems<I>(errors: AdminItemError<I>[]): AdminError<I> {
  return Object.assign(errors[0].error, { errors })
}

/** The item of an answer, or a ProtocolError when the broker left it out. */
export function answer<K, T>(map: Map<K, T>, key: K, api: string): T {
  const found = map.get(key)
  if (found === undefined) throw new ProtocolError(`${api} answer lacks ${String(key)}`)
  return found
}

export class RequestEngine {
  private connecting: Promise<void> | undefined
  private closed = false

  constructor(readonly cluster: Cluster) {}

  /** Fetches cluster metadata once (proves the cluster is reachable); every call does this first. */
  connect(): Promise<void> {
    if (this.closed) return Promise.reject(new ConnectionError('the admin client is closed', { retriable: false }))
    this.connecting ??= this.cluster.connect().catch((error) => {
      this.connecting = undefined
      throw error
    })
    return this.connecting
  }

  async close(): Promise<void> {
    this.closed = true
    await this.cluster.close()
  }

  /** One request, with the body built for the version the broker speaks. Not retried here. */
  async send<Req, Res>(target: Target, api: Api<Req, Res>, body: (version: number) => Req): Promise<Res> {
    const connection =
      target === 'any' ? await this.cluster.anyConnection() : await this.cluster.connectionToNode(target)
    const version = connection.versionFor(api)
    return connection.request(api, body(version), { version })
  }

  /**
   * A request to a group's coordinator, with the body built for the version the coordinator speaks
   * (the cluster retries while the coordinator moves or loads).
   */
  async groupRequest<Req, Res>(
    groupId: string,
    api: Api<Req, Res>,
    body: (version: number) => Req,
    errorOf: (response: Res) => number,
  ): Promise<Res> {
    const coordinator = await this.cluster.connectionToNode(await this.cluster.coordinator('group', groupId))
    return this.cluster.coordinatorRequest('group', groupId, api, body(coordinator.versionFor(api)), errorOf)
  }

  /** `fn` under the retry policy; metadata of `topics` is refreshed before each retry. */
  run<T>(fn: () => Promise<T>, topics?: string[]): Promise<T> {
    return this.cluster.retry.run(fn, {
      retriable: worthRetry,
      onRetry: (error) => {
        if (topics && error instanceof KafkaError && STALE_METADATA_ERRORS.has(error.code)) {
          return this.cluster.refreshMetadata(topics).then(
            () => undefined,
            () => undefined,
          )
        }
      },
    })
  }

  /**
   * Runs a batch call: `attempt` answers, for the items given, a result or a KafkaError each.
   * Items that failed with a retriable error are sent again under the retry policy; then every
   * failure left is thrown as one AdminError.
   */
  async settle<I, R>(
    items: readonly I[],
    attempt: (pending: I[]) => Promise<(R | KafkaError)[]>,
    topics?: string[],
  ): Promise<R[]> {
    const results = new Array<R>(items.length)
    const failed = new Map<number, KafkaError>()
    let pending = items.map((_, i) => i)
    let retrying: KafkaError | undefined
    try {
      await this.run(async () => {
        const outcomes = await attempt(pending.map((i) => items[i]))
        const again: number[] = []
        pending.forEach((i, k) => {
          const outcome = outcomes[k]
          if (outcome instanceof KafkaError) {
            failed.set(i, outcome)
            if (worthRetry(outcome)) again.push(i)
          } else {
            failed.delete(i)
            results[i] = outcome
          }
        })
        pending = again
        retrying = again.length > 0 ? failed.get(again[0]) : undefined
        if (retrying) throw retrying
      }, topics)
    } catch (error) {
      if (error !== retrying) throw error
    }
    if (failed.size > 0) {
      throw withItems([...failed].sort(([a], [b]) => a - b).map(([i, error]) => ({ item: items[i], error })))
    }
    return results
  }

  /** A batch call of one request per group, each to its coordinator: `each` answers a result or a KafkaError. */
  perGroup<R>(groupIds: readonly string[], each: (groupId: string) => Promise<R | KafkaError>): Promise<R[]> {
    return this.settle(groupIds, (pending) => Promise.all(pending.map(each)))
  }

  /** Splits items by the broker that must handle them and sends each group; outcomes in item order. */
  async byTarget<I, R>(
    items: I[],
    targetOf: (item: I) => Target | Promise<number>,
    send: (target: Target, items: I[]) => Promise<(R | KafkaError)[]>,
  ): Promise<(R | KafkaError)[]> {
    const groups = new Map<Target, number[]>()
    const outcomes = new Array<R | KafkaError>(items.length)
    for (let i = 0; i < items.length; i++) {
      let target: Target
      try {
        target = await targetOf(items[i])
      } catch (error) {
        // a partition without a leader or topic: that item fails, the others go on
        if (!(error instanceof KafkaError)) throw error
        outcomes[i] = error
        continue
      }
      const group = groups.get(target) ?? []
      group.push(i)
      groups.set(target, group)
    }
    await Promise.all(
      [...groups].map(async ([target, indexes]) => {
        const answers = await send(
          target,
          indexes.map((i) => items[i]),
        )
        indexes.forEach((i, k) => {
          outcomes[i] = answers[k]
        })
      }),
    )
    return outcomes
  }
}
