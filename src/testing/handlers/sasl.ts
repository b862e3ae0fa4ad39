// SaslHandshake (v1: the exchange continues in SaslAuthenticate requests; the v0 raw-token
// framing is not served) and SaslAuthenticate (v0-2, with the session lifetime of KIP-368 from v1).
// The mechanisms are sasl-server.ts. Answering either on a listener without SASL is illegal.

import { ErrorCode } from '../../protocol/error-codes.ts'
import type { SaslAuthenticateRequest } from '../../protocol/messages/generated/sasl-authenticate-request.ts'
import type { SaslAuthenticateResponse } from '../../protocol/messages/generated/sasl-authenticate-response.ts'
import type { SaslHandshakeRequest } from '../../protocol/messages/generated/sasl-handshake-request.ts'
import type { SaslHandshakeResponse } from '../../protocol/messages/generated/sasl-handshake-response.ts'
import { SaslAuthenticate, SaslHandshake } from '../../protocol/messages/index.ts'
import type { ApiHandler } from '../api-handler.ts'

export const saslHandshake: ApiHandler<SaslHandshakeRequest, SaslHandshakeResponse> = {
  api: SaslHandshake,
  minVersion: 1,
  maxVersion: 1,
  handle(request, ctx) {
    const session = ctx.connection.sasl
    if (!session) return this.errorResponse(request, ErrorCode.ILLEGAL_SASL_STATE, ctx)
    return { errorCode: session.handshake(request.mechanism), mechanisms: [...session.mechanisms] }
  },
  errorResponse(_request, errorCode, ctx) {
    return { errorCode, mechanisms: [...(ctx.connection.sasl?.mechanisms ?? [])] }
  },
}

export const saslAuthenticate: ApiHandler<SaslAuthenticateRequest, SaslAuthenticateResponse> = {
  api: SaslAuthenticate,
  minVersion: 0,
  maxVersion: 2,
  handle(request, ctx) {
    const session = ctx.connection.sasl
    if (!session) return this.errorResponse(request, ErrorCode.ILLEGAL_SASL_STATE, ctx)
    const step = session.authenticate(Buffer.from(request.authBytes))
    return {
      errorCode: step.errorCode,
      errorMessage: step.errorMessage,
      authBytes: step.authBytes,
      sessionLifetimeMs: ctx.version >= 1 ? BigInt(step.sessionLifetimeMs) : 0n,
    }
  },
  errorResponse(_request, errorCode) {
    return { errorCode, errorMessage: null, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0n }
  },
}
