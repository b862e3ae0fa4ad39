// DescribeAcls, CreateAcls, DeleteAcls (v1-3): the fake cluster has no authorizer, so it answers
// them as a broker without authorizer.class.name does: SECURITY_DISABLED.

import { ErrorCode } from '../../protocol/error-codes.ts'
import { CreateAclsRequest } from '../../protocol/messages/generated/create-acls-request.ts'
import { CreateAclsResponse } from '../../protocol/messages/generated/create-acls-response.ts'
import { DeleteAclsRequest } from '../../protocol/messages/generated/delete-acls-request.ts'
import { DeleteAclsResponse } from '../../protocol/messages/generated/delete-acls-response.ts'
import { DescribeAclsRequest } from '../../protocol/messages/generated/describe-acls-request.ts'
import { DescribeAclsResponse } from '../../protocol/messages/generated/describe-acls-response.ts'
import { api } from '../../protocol/messages/index.ts'
import type { ApiHandler } from '../api-handler.ts'

const NO_AUTHORIZER = 'No Authorizer is configured.'

export const describeAcls: ApiHandler<DescribeAclsRequest, DescribeAclsResponse> = {
  api: api(DescribeAclsRequest, DescribeAclsResponse),
  minVersion: 1,
  maxVersion: 3,
  handle(request, ctx) {
    return { ...this.errorResponse(request, ErrorCode.SECURITY_DISABLED, ctx), errorMessage: NO_AUTHORIZER }
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, resources: [] }
  },
}

export const createAcls: ApiHandler<CreateAclsRequest, CreateAclsResponse> = {
  api: api(CreateAclsRequest, CreateAclsResponse),
  minVersion: 1,
  maxVersion: 3,
  handle(request) {
    return {
      throttleTimeMs: 0,
      results: request.creations.map(() => ({ errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: NO_AUTHORIZER })),
    }
  },
  errorResponse(request, errorCode) {
    return { throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode, errorMessage: null })) }
  },
}

export const deleteAcls: ApiHandler<DeleteAclsRequest, DeleteAclsResponse> = {
  api: api(DeleteAclsRequest, DeleteAclsResponse),
  minVersion: 1,
  maxVersion: 3,
  handle(request) {
    return {
      throttleTimeMs: 0,
      filterResults: request.filters.map(() => ({
        errorCode: ErrorCode.SECURITY_DISABLED,
        errorMessage: NO_AUTHORIZER,
        matchingAcls: [],
      })),
    }
  },
  errorResponse(request, errorCode) {
    return {
      throttleTimeMs: 0,
      filterResults: request.filters.map(() => ({ errorCode, errorMessage: null, matchingAcls: [] })),
    }
  },
}
