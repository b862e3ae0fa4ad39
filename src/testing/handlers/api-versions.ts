// ApiVersions (KIP-35, KIP-511): the API versions this fake broker serves, exactly those of its
// handlers, and the feature levels (KIP-584) of what it implements: metadata.version as a Kafka 4.3
// broker reports it, group.version 1 (the consumer group protocol, KIP-848). No transaction.version
// is advertised, so clients stay on the classic transaction protocol (no TV2 epoch bumps, KIP-890).

import { ErrorCode } from '../../protocol/error-codes.ts'
import type { ApiVersionsRequest } from '../../protocol/messages/generated/api-versions-request.ts'
import type { ApiVersionsResponse } from '../../protocol/messages/generated/api-versions-response.ts'
import { ApiVersions } from '../../protocol/messages/index.ts'
import type { ApiHandler } from '../api-handler.ts'

/** Client software names and versions as Kafka's ApiVersionsRequest.isValid accepts them. */
const SOFTWARE = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/

/** The levels a Kafka 4.3.1 broker supports and finalizes for these features (its ApiVersions v4). */
const FEATURES = [
  { name: 'metadata.version', minVersion: 7, maxVersion: 30, finalized: 30 },
  { name: 'group.version', minVersion: 0, maxVersion: 1, finalized: 1 },
]
const SUPPORTED = FEATURES.map(({ name, minVersion, maxVersion }) => ({ name, minVersion, maxVersion }))
const FINALIZED = FEATURES.map(({ name, finalized }) => ({
  name,
  minVersionLevel: finalized,
  maxVersionLevel: finalized,
}))

const body = (errorCode: number, apiKeys: ApiVersionsResponse['apiKeys']): ApiVersionsResponse => ({
  errorCode,
  apiKeys,
  throttleTimeMs: 0,
  supportedFeatures: errorCode === ErrorCode.NONE ? SUPPORTED : [],
  // the levels never change, so their epoch does not either
  finalizedFeaturesEpoch: errorCode === ErrorCode.NONE ? 1n : -1n,
  finalizedFeatures: errorCode === ErrorCode.NONE ? FINALIZED : [],
  zkMigrationReady: false,
})

export const apiVersions: ApiHandler<ApiVersionsRequest, ApiVersionsResponse> = {
  api: ApiVersions,
  minVersion: 0,
  maxVersion: 4,
  handle(request, ctx) {
    if (ctx.version >= 3) {
      const { clientSoftwareName: name = '', clientSoftwareVersion: version = '' } = request
      if (!SOFTWARE.test(name) || !SOFTWARE.test(version)) return body(ErrorCode.INVALID_REQUEST, [])
    }
    const apiKeys = [...ctx.apis.values()]
      .map((h) => ({ apiKey: h.api.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey)
    return body(ErrorCode.NONE, apiKeys)
  },
  errorResponse(_request, errorCode) {
    // as Kafka's ApiVersionsRequest.getErrorResponse: an unsupported version learns ApiVersions' own range
    return body(
      errorCode,
      errorCode === ErrorCode.UNSUPPORTED_VERSION ? [{ apiKey: ApiVersions.apiKey, minVersion: 0, maxVersion: 4 }] : [],
    )
  },
}
