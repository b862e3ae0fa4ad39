// ApiVersions (KIP-35, KIP-511): the API versions this fake broker serves, exactly those of its
// handlers. No features are advertised, so clients stay on the classic transaction protocol (no
// transaction.version 2, KIP-890) and see no finalized metadata.version.

import { ErrorCode } from '../../protocol/error-codes.ts'
import type { ApiVersionsRequest } from '../../protocol/messages/generated/api-versions-request.ts'
import type { ApiVersionsResponse } from '../../protocol/messages/generated/api-versions-response.ts'
import { ApiVersions } from '../../protocol/messages/index.ts'
import type { ApiHandler } from '../api-handler.ts'

/** Client software names and versions as Kafka's ApiVersionsRequest.isValid accepts them. */
const SOFTWARE = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/

const body = (errorCode: number, apiKeys: ApiVersionsResponse['apiKeys']): ApiVersionsResponse => ({
  errorCode,
  apiKeys,
  throttleTimeMs: 0,
  supportedFeatures: [],
  finalizedFeaturesEpoch: -1n,
  finalizedFeatures: [],
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
