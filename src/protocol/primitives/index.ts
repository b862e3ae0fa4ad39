export { Reader } from './reader.ts'
export { readTaggedFields, type TaggedField, writeTaggedFields } from './tagged-fields.ts'
export { Writer } from './writer.ts'
