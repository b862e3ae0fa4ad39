// Every API the fake cluster serves, with its handler. ApiVersions advertises exactly these (and the
// versions each handler declares); any other API key closes the connection, as a broker does for an
// API it does not enable.

import type { ApiHandler } from './api-handler.ts'
import { createAcls, deleteAcls, describeAcls } from './handlers/acls.ts'
import { apiVersions } from './handlers/api-versions.ts'
import { alterConfigs, describeConfigs, incrementalAlterConfigs } from './handlers/configs.ts'
import { consumerGroupDescribe, consumerGroupHeartbeat } from './handlers/consumer-groups.ts'
import { describeProducers, describeTransactions, listTransactions } from './handlers/describe-producers.ts'
import { fetch } from './handlers/fetch.ts'
import { deleteGroups, describeGroups, listGroups } from './handlers/group-admin.ts'
import { findCoordinator, heartbeat, joinGroup, leaveGroup, syncGroup } from './handlers/groups.ts'
import { describeCluster, metadata } from './handlers/metadata.ts'
import { offsetCommit, offsetDelete, offsetFetch, txnOffsetCommit } from './handlers/offset-commit.ts'
import { deleteRecords, listOffsets, offsetForLeaderEpoch } from './handlers/offsets.ts'
import { produce } from './handlers/produce.ts'
import { saslAuthenticate, saslHandshake } from './handlers/sasl.ts'
import { alterUserScramCredentials, describeUserScramCredentials } from './handlers/scram-credentials.ts'
import { createPartitions, createTopics, deleteTopics } from './handlers/topics.ts'
import { addOffsetsToTxn, addPartitionsToTxn, endTxn, initProducerId } from './handlers/transactions.ts'

export const HANDLERS: readonly ApiHandler[] = [
  produce,
  fetch,
  listOffsets,
  metadata,
  offsetCommit,
  offsetFetch,
  findCoordinator,
  joinGroup,
  heartbeat,
  leaveGroup,
  syncGroup,
  describeGroups,
  listGroups,
  saslHandshake,
  apiVersions,
  createTopics,
  deleteTopics,
  deleteRecords,
  initProducerId,
  offsetForLeaderEpoch,
  addPartitionsToTxn,
  addOffsetsToTxn,
  endTxn,
  txnOffsetCommit,
  describeAcls,
  createAcls,
  deleteAcls,
  describeConfigs,
  alterConfigs,
  saslAuthenticate,
  createPartitions,
  deleteGroups,
  incrementalAlterConfigs,
  offsetDelete,
  describeUserScramCredentials,
  alterUserScramCredentials,
  describeCluster,
  describeProducers,
  describeTransactions,
  listTransactions,
  consumerGroupHeartbeat,
  consumerGroupDescribe,
]
