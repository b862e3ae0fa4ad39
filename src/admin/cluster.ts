// The cluster and its brokers: a round trip, the cluster id, controller and brokers, feature
// levels, and the API versions each broker supports.

import { performance } from 'node:perf_hooks'
import { KAFKAX_VERSION } from '../client/connection.ts'
import { kafkaError } from '../protocol/error-codes.ts'
import type { ApiVersionsResponse } from '../protocol/messages/generated/api-versions-response.ts'
import { API_KEYS, ApiVersions, DescribeClusterModule, loadApi, Metadata } from '../protocol/messages/index.ts'
import type { RequestEngine, Target } from './engine.ts'

/** The cluster id, the controller and the brokers. */
export interface ClusterDescription {
  clusterId: string
  controller: number
  brokers: { nodeId: number; host: string; port: number; rack: string | null }[]
}

/** One API as a broker announces it in ApiVersions, with the version kafkax speaks to it. */
export interface BrokerApi {
  apiKey: number
  /** Kafka's name of the API (`Produce`, `Fetch`...); `Unknown(<key>)` for a key newer than kafkax. */
  name: string
  minVersion: number
  maxVersion: number
  /** The highest version both kafkax and the broker support; -1 when they have none in common. */
  usable: number
}

/** The APIs one broker supports (as `kafka-broker-api-versions.sh` shows them). */
export interface BrokerApiVersions {
  nodeId: number
  host: string
  port: number
  apis: BrokerApi[]
}

/** Feature flags (KIP-584): the levels the broker asked supports and the cluster-wide finalized ones. */
export interface FeatureDescription {
  /** Increases with every change of the finalized levels; -1 when unknown. */
  finalizedEpoch: bigint
  finalized: { name: string; minVersionLevel: number; maxVersionLevel: number }[]
  supported: { name: string; minVersion: number; maxVersion: number }[]
}

// lazily loaded: importing kafkax must stay cheap
const DescribeCluster = () => loadApi(DescribeClusterModule)

export async function pingAnyBroker(engine: RequestEngine): Promise<number> {
  await engine.connect()
  const start = performance.now()
  await engine.run(() => engine.send('any', Metadata, () => ({ topics: [], allowAutoTopicCreation: false })))
  return performance.now() - start
}

export async function describeCluster(engine: RequestEngine): Promise<ClusterDescription> {
  await engine.connect()
  const api = await DescribeCluster()
  const r = await engine.run(async () => {
    const response = await engine.send('any', api, () => ({ includeClusterAuthorizedOperations: false }))
    if (response.errorCode) throw kafkaError(response.errorCode, response.errorMessage)
    return response
  })
  const brokers = r.brokers
    .map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack }))
    .sort((a, b) => a.nodeId - b.nodeId)
  return { clusterId: r.clusterId, controller: r.controllerId, brokers }
}

export async function describeFeatures(engine: RequestEngine): Promise<FeatureDescription> {
  await engine.connect()
  const r = await engine.run(() => apiVersions(engine, 'any'))
  return {
    finalizedEpoch: r.finalizedFeaturesEpoch,
    finalized: r.finalizedFeatures.map(({ name, minVersionLevel, maxVersionLevel }) => ({
      name,
      minVersionLevel,
      maxVersionLevel,
    })),
    supported: r.supportedFeatures.map(({ name, minVersion, maxVersion }) => ({ name, minVersion, maxVersion })),
  }
}

export async function brokerApiVersions(engine: RequestEngine): Promise<BrokerApiVersions[]> {
  const { brokers } = await describeCluster(engine)
  const apis = new Map((await Promise.all(API_KEYS.map(loadApi))).map((a) => [a.apiKey, a]))
  return Promise.all(
    brokers.map(async ({ nodeId, host, port }) => {
      const r = await engine.run(() => apiVersions(engine, nodeId))
      const list = r.apiKeys.map(({ apiKey, minVersion, maxVersion }) => {
        const api = apis.get(apiKey)
        const ours = api ? Math.min(api.request.latestStableVersion, maxVersion) : -1
        const usable = api && ours >= Math.max(minVersion, api.request.minVersion) ? ours : -1
        return { apiKey, name: api?.name ?? `Unknown(${apiKey})`, minVersion, maxVersion, usable }
      })
      return { nodeId, host, port, apis: list.sort((a, b) => a.apiKey - b.apiKey) }
    }),
  )
}

async function apiVersions(engine: RequestEngine, target: Target): Promise<ApiVersionsResponse> {
  const r = await engine.send(target, ApiVersions, () => ({
    clientSoftwareName: 'kafkax',
    clientSoftwareVersion: KAFKAX_VERSION,
  }))
  if (r.errorCode) throw kafkaError(r.errorCode, 'ApiVersions')
  return r
}
