// Subject name strategies: which registry subject a topic's keys or values are registered under.
// The names and rules are those of Confluent's serializers (TopicNameStrategy is their default).

import { ConfigError } from '../protocol/errors.ts'

export type SubjectNameStrategy =
  /** `<topic>-key` / `<topic>-value`: one schema (and its evolution) per topic. */
  | 'TopicName'
  /** The record's full name (Avro namespace.name, Protobuf package.Message, JSON Schema title): a type across topics. */
  | 'RecordName'
  /** `<topic>-<record name>`: several types in one topic, each evolving on its own. */
  | 'TopicRecordName'
  | ((topic: string, isKey: boolean, recordName: string | undefined) => string)

const STRATEGIES = ['TopicName', 'RecordName', 'TopicRecordName']

export function checkStrategy(strategy: SubjectNameStrategy | undefined): void {
  if (strategy === undefined || typeof strategy === 'function' || STRATEGIES.includes(strategy)) return
  throw new ConfigError(
    `subjectNameStrategy must be ${STRATEGIES.join(', ')} or a function, got ${JSON.stringify(strategy)}`,
  )
}

export function subjectName(
  strategy: SubjectNameStrategy,
  topic: string,
  isKey: boolean,
  recordName: string | undefined,
): string {
  if (typeof strategy === 'function') return strategy(topic, isKey, recordName)
  if (strategy === 'TopicName') return `${topic}-${isKey ? 'key' : 'value'}`
  if (!recordName)
    throw new ConfigError(
      `the ${strategy} strategy needs a named schema (an Avro record, a Protobuf message, a JSON Schema title)`,
    )
  return strategy === 'RecordName' ? recordName : `${topic}-${recordName}`
}
