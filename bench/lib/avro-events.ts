// The records of the schema-registry benchmark: the suite's payload lines (bench/lib/payload.ts),
// which are JSON objects of an exact size, as Avro records of this schema.

import { payloads } from './payload.ts'

export const BENCH_SCHEMA = {
  type: 'record',
  name: 'BenchEvent',
  namespace: 'kafkax.bench',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'user', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'text', type: 'string' },
  ],
}

export interface BenchEvent {
  id: number
  user: string
  amount: number
  text: string
}

/** The payload lines of `size` bytes as objects (the same on every call). */
export function benchEvents(size: number): BenchEvent[] {
  return payloads(size).map((line) => JSON.parse(line.toString('latin1')))
}
