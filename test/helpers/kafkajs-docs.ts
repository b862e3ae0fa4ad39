// What kafkajs's documentation examples (fixtures/kafkajs-docs) import in place of 'kafkajs':
// kafkax/kafkajs, with two things a test needs and an example cannot say. The brokers an example
// names (kafka1:9092, ...) are this run's broker, as a hosts file would make them; and every client
// an example makes is remembered, with its log lines, so that the test can look at them and
// disconnect what the example leaves running.

import * as kafkajs from '../../src/kafkajs/index.ts'
import { brokers } from './kafka.ts'

export * from '../../src/kafkajs/index.ts'

/** The clients the examples made, to disconnect after each. */
export const clients: { disconnect(): Promise<void> }[] = []
/** The examples' log lines (their logLevel applies). */
export const logs: kafkajs.LogEntry[] = []

/** kafkax/kafkajs's Kafka on this run's broker. */
export class Kafka extends kafkajs.Kafka {
  constructor(config: kafkajs.KafkaConfig) {
    super({ ...config, brokers: brokers(), logCreator: () => (entry) => void logs.push(entry) })
  }

  override producer(config?: kafkajs.ProducerConfig): kafkajs.Producer {
    return remember(super.producer(config))
  }

  override consumer(config: kafkajs.ConsumerConfig): kafkajs.Consumer {
    return remember(super.consumer(config))
  }

  override admin(config?: kafkajs.AdminConfig): kafkajs.Admin {
    return remember(super.admin(config))
  }
}

function remember<T extends { disconnect(): Promise<void> }>(client: T): T {
  clients.push(client)
  return client
}

/** Disconnects what the examples made. */
export async function disconnectAll(): Promise<void> {
  await Promise.allSettled(clients.splice(0).map((c) => c.disconnect()))
}
