// kafkax/schema-registry: a Confluent-compatible schema registry client and the serdes of the
// Confluent wire format (Avro with avsc, JSON Schema with ajv, Protobuf with protobufjs: optional
// peer dependencies, loaded when a schema of their format is first used).

export { IncompatibleSchemaError, REGISTRY_ERROR_TYPES, SchemaRegistryError, SerializationError } from './errors.ts'
export type { AvroOptions } from './formats/avro.ts'
export type { JsonSchemaOptions } from './formats/json.ts'
export type { ProtobufOptions } from './formats/protobuf.ts'
export type { RegistryAuth, RegistryHttpOptions } from './http.ts'
export { type DecodedMessage, type DeserializerOptions, decoded } from './middleware.ts'
export type { SchemaProducer, SchemaProducerOptions, SchemaRecord, TopicSerializers } from './producer.ts'
export {
  type CompatibilityLevel,
  type DecodedValue,
  type DecodeOptions,
  SchemaRegistry,
  type SchemaRegistryOptions,
  type SubjectVersion,
} from './registry.ts'
export type { ParsedSchema, RegisteredSchema, Schema, SchemaReference, SchemaType } from './schema.ts'
export { Serializer, type SerializerOptions } from './serializer.ts'
export type { SubjectNameStrategy } from './subjects.ts'
export { HEADER_SIZE, MAGIC_BYTE } from './wire.ts'
