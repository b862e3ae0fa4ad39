// Configuration: a YAML file, the environment and code, validated by the options' own descriptions.

export type { ConsumerOptions } from '../consumer/consumer.ts'
export { type KafkaxConfig, type LoadConfigOptions, loadConfig } from './load.ts'
