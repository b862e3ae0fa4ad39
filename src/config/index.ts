// Configuration: YAML defaults + file + environment + code, validated by one schema.

export type { ConsumerOptions } from '../consumer/consumer.ts'
export { type KafkaxConfig, type LoadConfigOptions, loadConfig } from './load.ts'
