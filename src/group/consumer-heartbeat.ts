// What each ConsumerGroupHeartbeat (KIP-848) carries, as the Java client's HeartbeatState: the
// group, the member id and epoch always (and the instance id of a static member); the rest in full
// when joining, and afterwards only what changed since the last heartbeat sent (null or -1 meaning
// "unchanged"). After a heartbeat failed, the broker may not have seen it: everything is sent again.

import type { ConsumerGroupHeartbeatRequest } from '../protocol/messages/generated/consumer-group-heartbeat-request.ts'
import { heartbeatPartitions, type LocalAssignment, sameAssignment } from './reconciliation.ts'

/** What a member of the consumer protocol subscribes with and how it wants to be assigned (the heartbeat fields). */
export interface HeartbeatSubscription {
  /** Exact topic names (may be empty with a regex). */
  topics: readonly string[]
  /** RE2/J syntax, matched by the broker; null without one. */
  topicRegex: string | null
  /** The server-side assignor by name ('uniform', 'range'); null: the broker's default. */
  serverAssignor: string | null
  rackId: string | null
  rebalanceTimeoutMs: number
}

export interface MemberIdentity {
  groupId: string
  memberId: string
  memberEpoch: number
  instanceId: string | null
}

export class HeartbeatState {
  private rebalanceTimeoutMs = -1
  private topics: string | undefined
  private topicRegex: string | null = null
  private serverAssignor: string | null | undefined
  private assignment: LocalAssignment | undefined

  /** The next heartbeat sends every field (after a failure, or to rejoin). */
  reset(): void {
    this.rebalanceTimeoutMs = -1
    this.topics = undefined
    this.topicRegex = null
    this.serverAssignor = undefined
    this.assignment = undefined
  }

  /** The request, and what it sends noted as sent; `joining` sends everything. */
  build(
    who: MemberIdentity,
    joining: boolean,
    subscription: HeartbeatSubscription,
    assignment: LocalAssignment,
  ): ConsumerGroupHeartbeatRequest {
    const request: ConsumerGroupHeartbeatRequest = {
      groupId: who.groupId,
      memberId: who.memberId,
      memberEpoch: who.memberEpoch,
      instanceId: who.instanceId,
    }
    if (joining) request.rackId = subscription.rackId
    if (joining || this.rebalanceTimeoutMs !== subscription.rebalanceTimeoutMs) {
      request.rebalanceTimeoutMs = subscription.rebalanceTimeoutMs
      this.rebalanceTimeoutMs = subscription.rebalanceTimeoutMs
    }
    const topics = [...subscription.topics].sort().join('\n')
    if (joining || this.topics !== topics) {
      request.subscribedTopicNames = [...subscription.topics]
      this.topics = topics
    }
    // an empty string drops a regex sent before
    const regex = subscription.topicRegex
    if ((joining && regex !== null) || regex !== this.topicRegex) {
      request.subscribedTopicRegex = regex ?? ''
      this.topicRegex = regex
    }
    const assignor = subscription.serverAssignor
    if (assignor !== null && (joining || this.serverAssignor !== assignor)) {
      request.serverAssignor = assignor
      this.serverAssignor = assignor
    }
    if (joining || this.assignment === undefined || !sameAssignment(this.assignment, assignment)) {
      request.topicPartitions = heartbeatPartitions(assignment)
      this.assignment = assignment
    }
    return request
  }
}
