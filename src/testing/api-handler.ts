// What serves one API on a fake broker: the versions it answers and the handler of a decoded request.

import { ErrorCode } from '../protocol/error-codes.ts'
import type { RequestHeader } from '../protocol/headers.ts'
import type { Api } from '../protocol/messages/index.ts'
import type { ClusterState } from './cluster-state.ts'
import type { FetchSessionCache } from './fetch-sessions.ts'
import type { SaslSession } from './sasl-server.ts'
import type { Partition } from './topics.ts'

/** What a handler knows about the request it serves. */
export interface RequestContext {
  cluster: ClusterState
  /** Every API served (ApiVersions lists them). */
  apis: ReadonlyMap<number, ApiHandler>
  broker: { readonly nodeId: number; readonly alive: boolean; readonly fetchSessions: FetchSessionCache }
  /** The listener the request came in on: Metadata and FindCoordinator answer with its addresses. */
  listener: { readonly name: string }
  connection: {
    /** The client's address as Kafka reports it ("/127.0.0.1"). */
    readonly clientHost: string
    readonly sasl: SaslSession | undefined
    /** Request frames are this connection's own memory (a socket's reads), which the log may keep instead of a copy. */
    readonly ownsFrames: boolean
    readonly isClosed: boolean
    destroy(): void
  }
  header: RequestHeader
  version: number
}

/** Returned by a handler that must not answer (Produce with acks=0). */
export const NO_RESPONSE = Symbol('no response')

export interface ApiHandler<Req = any, Res = any> {
  api: Api<Req, Res>
  /** The versions served, all of them fully (ApiVersions advertises exactly these). */
  minVersion: number
  maxVersion: number
  handle(request: Req, ctx: RequestContext): Res | typeof NO_RESPONSE | Promise<Res | typeof NO_RESPONSE>
  /** The response to the whole request failing with `errorCode` (Kafka's AbstractRequest.getErrorResponse). */
  errorResponse(request: Req, errorCode: number, ctx: RequestContext): Res
}

/** The leader field of Produce and Fetch partition responses when nothing is to be said. */
export const NO_LEADER = { leaderId: -1, leaderEpoch: -1 }

/**
 * The partition of a request that only its leader serves, or the partition error: unknown,
 * not led here, or asked with an older (FENCED_LEADER_EPOCH) or newer (UNKNOWN_LEADER_EPOCH)
 * leader epoch than the current one (-1: the client does not say).
 */
export function ledPartition(
  ctx: RequestContext,
  topic: string,
  partition: number,
  currentLeaderEpoch = -1,
): { partition: Partition } | { errorCode: number } {
  const p = ctx.cluster.partition(topic, partition)
  if (!p) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
  if (p.leader !== ctx.broker.nodeId) return { errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER }
  if (currentLeaderEpoch >= 0 && currentLeaderEpoch !== p.leaderEpoch)
    return {
      errorCode: currentLeaderEpoch < p.leaderEpoch ? ErrorCode.FENCED_LEADER_EPOCH : ErrorCode.UNKNOWN_LEADER_EPOCH,
    }
  return { partition: p }
}
