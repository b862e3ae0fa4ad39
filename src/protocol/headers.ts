// Request and response headers (the protocol guide's "Headers" section, KIP-482 for v2/v1).
// Request header v1: apiKey int16, apiVersion int16, correlationId int32, clientId nullable string;
// v2 adds a tagged-field section. Response header v0: correlationId; v1 adds tagged fields.

import { type Reader, readTaggedFields, type TaggedField, type Writer, writeTaggedFields } from './primitives/index.ts'

/** ApiVersions (key 18) answers with header v0 even in flexible versions, so old clients can read it (KIP-511). */
export const API_VERSIONS_KEY = 18

export interface RequestHeader {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
  unknownTaggedFields?: TaggedField[]
}

export interface ResponseHeader {
  correlationId: number
  unknownTaggedFields?: TaggedField[]
}

/** Header versions of a message: flexible requests use v2 (else v1), flexible responses v1 (else v0). */
export function requestHeaderVersion(flexible: boolean): number {
  return flexible ? 2 : 1
}

export function responseHeaderVersion(apiKey: number, flexible: boolean): number {
  return flexible && apiKey !== API_VERSIONS_KEY ? 1 : 0
}

export function encodeRequestHeader(w: Writer, version: number, h: RequestHeader): void {
  w.int16(h.apiKey)
  w.int16(h.apiVersion)
  w.int32(h.correlationId)
  if (version >= 1) w.nullableString(h.clientId)
  if (version >= 2) writeTaggedFields(w, h.unknownTaggedFields ?? [])
}

export function decodeRequestHeader(r: Reader, version: number): RequestHeader {
  const h: RequestHeader = { apiKey: r.int16(), apiVersion: r.int16(), correlationId: r.int32(), clientId: null }
  if (version >= 1) h.clientId = r.nullableString()
  if (version >= 2) h.unknownTaggedFields = readTaggedFields(r)
  return h
}

export function encodeResponseHeader(w: Writer, version: number, h: ResponseHeader): void {
  w.int32(h.correlationId)
  if (version >= 1) writeTaggedFields(w, h.unknownTaggedFields ?? [])
}

export function decodeResponseHeader(r: Reader, version: number): ResponseHeader {
  const h: ResponseHeader = { correlationId: r.int32() }
  if (version >= 1) h.unknownTaggedFields = readTaggedFields(r)
  return h
}
