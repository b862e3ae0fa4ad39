// Kafka error codes: the generated table (from the Java client's Errors enum) indexed by code, and
// the KafkaError a non-zero code in a response becomes.

import { ERROR_TABLE } from './error-table.generated.ts'

export { ErrorCode, type ErrorName } from './error-table.generated.ts'

import { KafkaError, type KafkaxErrorOptions } from './errors.ts'

export interface ErrorCodeInfo {
  code: number
  name: string
  retriable: boolean
  message: string
}

const BY_CODE = new Map<number, ErrorCodeInfo>(
  ERROR_TABLE.map(([code, name, retriable, message]) => [code, { code, name, retriable, message }]),
)

/** What Kafka says about `code`; codes newer than our table are unknown and not retriable. */
export function errorCode(code: number): ErrorCodeInfo {
  return (
    BY_CODE.get(code) ?? {
      code,
      name: `UNKNOWN_ERROR_CODE_${code}`,
      retriable: false,
      message: `Kafka error code ${code}`,
    }
  )
}

/** A KafkaError for a non-zero code; `detail` (the broker's errorMessage or the context) is appended. */
export function kafkaError(code: number, detail?: string | null, options: KafkaxErrorOptions = {}): KafkaError {
  const info = errorCode(code)
  const message = detail ? `${info.name}: ${info.message} (${detail})` : `${info.name}: ${info.message}`
  return new KafkaError(message, code, info.name, { retriable: info.retriable, ...options })
}
