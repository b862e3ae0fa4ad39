// The options of a group member that a Consumer takes as its own (type, bounds, default of each):
// the member's timeouts follow the Java client's session.timeout.ms, max.poll.interval.ms and
// heartbeat.interval.ms; its assignors, partition.assignment.strategy; its serverAssignor (the
// consumer protocol's), group.remote.assignor.

import type { Fields } from '../options/schema.ts'
import { ASSIGNOR_NAMES } from './assignors.ts'

export const MEMBER_FIELDS = {
  groupInstanceId: { kind: 'string', doc: 'Static membership id (KIP-345)' },
  sessionTimeoutMs: { kind: 'duration', min: 1, default: 45_000, doc: 'The group drops a member silent this long' },
  rebalanceTimeoutMs: {
    kind: 'duration',
    min: 1,
    default: 300_000,
    doc: 'Time members get to rejoin during a rebalance',
  },
  heartbeatIntervalMs: { kind: 'duration', min: 1, default: 3000, doc: 'Time between heartbeats' },
  assignors: {
    kind: 'list',
    values: ASSIGNOR_NAMES,
    orObject: true,
    default: ['range', 'cooperative-sticky'],
    doc: 'Partition assignors offered to the group, preferred first (in code also assignors of your own)',
  },
  serverAssignor: { kind: 'string', doc: 'The broker-side assignor of the consumer protocol: uniform or range' },
} satisfies Fields
