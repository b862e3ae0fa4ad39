// Configuration: YAML defaults + file + environment + code, validated by one schema.

export { type KafkaxConfig, type LoadConfigOptions, loadConfig } from './load.ts'
export type { ConsumerOptions } from '../consumer/consumer.ts'
