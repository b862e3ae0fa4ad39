// `new Kafka(config)`: the kafkajs client factory. It checks the configuration, owns the root logger
// and makes producers, consumers and admin clients on kafkax.

import { Admin } from './admin.ts'
import { Consumer } from './consumer.ts'
import { createLogger, type Logger } from './logger.ts'
import { checkConfig, type KafkaContext } from './options.ts'
import { Producer } from './producer.ts'
import type { AdminConfig, ConsumerConfig, KafkaConfig, ProducerConfig } from './types.ts'

let warnedOfDefaultPartitioner = false

/** kafkajs's client: `new Kafka({ clientId, brokers, ssl, sasl, ... })`, then producers, consumers and admin clients. */
export class Kafka {
  private readonly context: KafkaContext

  constructor(config: KafkaConfig) {
    checkConfig(config)
    this.context = { config, logger: createLogger({ level: config.logLevel, logCreator: config.logCreator }) }
  }

  /** A producer; without `createPartitioner` it uses DefaultPartitioner and warns once, as kafkajs 2.x. */
  producer(config: ProducerConfig = {}): Producer {
    if (config.createPartitioner == null && !warnedOfDefaultPartitioner) {
      warnedOfDefaultPartitioner = true
      if (process.env.KAFKAJS_NO_PARTITIONER_WARNING == null) {
        this.context.logger.warn(
          "No createPartitioner given: messages are placed by Partitioners.DefaultPartitioner (the Java client's " +
            'placement, the default since kafkajs 2.0). Producers coming from kafkajs 1.x keep their placement with ' +
            '"createPartitioner: Partitioners.LegacyPartitioner". KAFKAJS_NO_PARTITIONER_WARNING=1 silences this warning',
        )
      }
    }
    return new Producer(this.context, config)
  }

  /** A consumer of the group `config.groupId`. */
  consumer(config: ConsumerConfig): Consumer {
    return new Consumer(this.context, config)
  }

  /** An admin client. */
  admin(config: AdminConfig = {}): Admin {
    return new Admin(this.context, config)
  }

  /** The root logger. */
  logger(): Logger {
    return this.context.logger
  }
}
