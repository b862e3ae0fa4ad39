// The errors of the schema registry adapter: what the registry answered (its error code and the
// subject it was about), and values or bytes that do not fit a schema.

import { KafkaxError, type KafkaxErrorOptions } from '../protocol/errors.ts'

/**
 * Names of the Confluent Schema Registry's error codes (the `error_code` of its error bodies, from
 * the registry's REST API reference); Apicurio's Confluent-compatible API answers with the same.
 */
export const REGISTRY_ERROR_TYPES: Readonly<Record<number, string>> = {
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  409: 'INCOMPATIBLE_SCHEMA',
  40401: 'SUBJECT_NOT_FOUND',
  40402: 'VERSION_NOT_FOUND',
  40403: 'SCHEMA_NOT_FOUND',
  40404: 'SUBJECT_SOFT_DELETED',
  40405: 'SUBJECT_NOT_SOFT_DELETED',
  40406: 'SCHEMA_VERSION_SOFT_DELETED',
  40407: 'SCHEMA_VERSION_NOT_SOFT_DELETED',
  40408: 'SUBJECT_COMPATIBILITY_NOT_CONFIGURED',
  42201: 'INVALID_SCHEMA',
  42202: 'INVALID_VERSION',
  42203: 'INVALID_COMPATIBILITY_LEVEL',
  42204: 'INVALID_MODE',
  42205: 'OPERATION_NOT_PERMITTED',
  42206: 'REFERENCE_EXISTS',
  50001: 'STORE_ERROR',
  50002: 'OPERATION_TIMEOUT',
  50003: 'REQUEST_FORWARDING_FAILED',
}

export interface SchemaRegistryErrorDetails {
  /** The HTTP status of the answer. */
  status: number
  /** The registry's `error_code` (40401, 409, ...), or the HTTP status when the body had none. */
  errorCode: number
  /** The subject the request was about, when it was about one. */
  subject?: string
  /** What was asked: `GET /subjects/orders-value/versions/latest`. */
  request: string
}

/**
 * The registry refused a request. `code` is the registry's error code, `type` its name
 * (SUBJECT_NOT_FOUND, INCOMPATIBLE_SCHEMA, ...); 5xx and 429 answers are retriable.
 */
export class SchemaRegistryError extends KafkaxError {
  declare readonly code: number
  readonly type: string
  readonly status: number
  readonly subject: string | undefined
  readonly request: string

  constructor(message: string, details: SchemaRegistryErrorDetails, options: KafkaxErrorOptions = {}) {
    const type = REGISTRY_ERROR_TYPES[details.errorCode] ?? `HTTP_${details.status}`
    const about = details.subject === undefined ? '' : ` (subject ${details.subject})`
    super(`schema registry: ${message}${about} [${details.errorCode} ${type}, ${details.request}]`, details.errorCode, {
      retriable: details.status >= 500 || details.status === 429,
      ...options,
    })
    this.type = type
    this.status = details.status
    this.subject = details.subject
    this.request = details.request
  }
}

/** The registry refused to register a schema its subject's compatibility level does not allow (409). */
export class IncompatibleSchemaError extends SchemaRegistryError {}

export interface SerializationErrorDetails {
  topic?: string
  /** The schema the bytes named or the value was written with, when known. */
  schemaId?: number
  /** Where a value broke its schema: paths like `items.0.price`. */
  paths?: string[]
}

/**
 * A value that does not fit its schema, or bytes that are not the wire format of a known schema
 * (wrong magic byte, unknown schema id, payload that does not decode). Not retriable: the same
 * bytes fail again, so a consumer dead-letters them.
 */
export class SerializationError extends KafkaxError {
  readonly topic: string | undefined
  readonly schemaId: number | undefined
  readonly paths: string[]

  constructor(message: string, details: SerializationErrorDetails = {}, options: KafkaxErrorOptions = {}) {
    super(message, 'ESERIALIZATION', { retriable: false, ...options })
    this.topic = details.topic
    this.schemaId = details.schemaId
    this.paths = details.paths ?? []
  }
}
