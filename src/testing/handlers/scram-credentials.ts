// DescribeUserScramCredentials and AlterUserScramCredentials (v0, KIP-554): the SCRAM credentials
// SASL listeners check (sasl-server.ts Credentials). Upsertions bring the salted password, never
// the password; the checks are the broker's (ControllerApis / ScramControlManager).

import { ErrorCode } from '../../protocol/error-codes.ts'
import { AlterUserScramCredentialsRequest } from '../../protocol/messages/generated/alter-user-scram-credentials-request.ts'
import { AlterUserScramCredentialsResponse } from '../../protocol/messages/generated/alter-user-scram-credentials-response.ts'
import { DescribeUserScramCredentialsRequest } from '../../protocol/messages/generated/describe-user-scram-credentials-request.ts'
import { DescribeUserScramCredentialsResponse } from '../../protocol/messages/generated/describe-user-scram-credentials-response.ts'
import { api } from '../../protocol/messages/index.ts'
import type { ApiHandler } from '../api-handler.ts'
import { scramCredentialFromSalted } from '../sasl-server.ts'

/** ScramMechanism ids of the protocol. */
const MECHANISMS: Record<number, 'SCRAM-SHA-256' | 'SCRAM-SHA-512'> = { 1: 'SCRAM-SHA-256', 2: 'SCRAM-SHA-512' }
const MIN_ITERATIONS = 4096
const MAX_ITERATIONS = 16384

export const describeUserScramCredentials: ApiHandler<
  DescribeUserScramCredentialsRequest,
  DescribeUserScramCredentialsResponse
> = {
  api: api(DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse),
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const all = ctx.cluster.credentials.scramUsers()
    const names =
      request.users === null ? [...new Set(all.map((c) => c.user))].sort() : request.users.map((u) => u.name)
    const seen = new Set<string>()
    const duplicates = new Set(names.filter((n) => seen.has(n) || !seen.add(n)))
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      results: [...new Set(names)].map((user) => {
        if (duplicates.has(user))
          return {
            user,
            errorCode: ErrorCode.DUPLICATE_RESOURCE,
            errorMessage: 'Cannot describe SCRAM credentials for the same user twice in a single request',
            credentialInfos: [],
          }
        const infos = all
          .filter((c) => c.user === user)
          .map((c) => ({ mechanism: c.mechanism === 'SCRAM-SHA-256' ? 1 : 2, iterations: c.iterations }))
          .sort((a, b) => a.mechanism - b.mechanism)
        if (infos.length === 0)
          return {
            user,
            errorCode: ErrorCode.RESOURCE_NOT_FOUND,
            errorMessage: `Attempt to describe a user credential that does not exist: ${user}`,
            credentialInfos: [],
          }
        return { user, errorCode: ErrorCode.NONE, errorMessage: null, credentialInfos: infos }
      }),
    }
  },
  errorResponse(_request, errorCode) {
    return { throttleTimeMs: 0, errorCode, errorMessage: null, results: [] }
  },
}

export const alterUserScramCredentials: ApiHandler<
  AlterUserScramCredentialsRequest,
  AlterUserScramCredentialsResponse
> = {
  api: api(AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse),
  minVersion: 0,
  maxVersion: 0,
  handle(request, ctx) {
    const { credentials } = ctx.cluster
    const errors = new Map<string, { errorCode: number; errorMessage: string }>()
    const fail = (user: string, errorCode: number, errorMessage: string) => {
      if (!errors.has(user)) errors.set(user, { errorCode, errorMessage })
    }
    const users = [...new Set([...request.deletions.map((d) => d.name), ...request.upsertions.map((u) => u.name)])]
    for (const d of request.deletions) {
      const mechanism = MECHANISMS[d.mechanism]
      if (d.name === '') fail(d.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty')
      else if (!mechanism) fail(d.name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism')
      else if (!credentials.scramFor(mechanism, d.name))
        fail(d.name, ErrorCode.RESOURCE_NOT_FOUND, `Attempt to delete a user credential that does not exist`)
    }
    for (const u of request.upsertions) {
      if (u.name === '') fail(u.name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty')
      else if (!MECHANISMS[u.mechanism]) fail(u.name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism')
      else if (u.iterations < MIN_ITERATIONS || u.iterations > MAX_ITERATIONS)
        fail(
          u.name,
          ErrorCode.UNACCEPTABLE_CREDENTIAL,
          `Iterations must be between ${MIN_ITERATIONS} and ${MAX_ITERATIONS}`,
        )
    }
    for (const d of request.deletions) if (!errors.has(d.name)) credentials.deleteScram(MECHANISMS[d.mechanism], d.name)
    for (const u of request.upsertions) {
      if (errors.has(u.name)) continue
      const mechanism = MECHANISMS[u.mechanism]
      const hash = mechanism === 'SCRAM-SHA-256' ? 'sha256' : 'sha512'
      credentials.setScram(
        mechanism,
        u.name,
        scramCredentialFromSalted(hash, Buffer.from(u.saltedPassword), Buffer.from(u.salt), u.iterations),
      )
    }
    return {
      throttleTimeMs: 0,
      results: users.map((user) => ({
        user,
        errorCode: errors.get(user)?.errorCode ?? ErrorCode.NONE,
        errorMessage: errors.get(user)?.errorMessage ?? null,
      })),
    }
  },
  errorResponse(request, errorCode) {
    const users = [...new Set([...request.deletions.map((d) => d.name), ...request.upsertions.map((u) => u.name)])]
    return { throttleTimeMs: 0, results: users.map((user) => ({ user, errorCode, errorMessage: null })) }
  },
}
