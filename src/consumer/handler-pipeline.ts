// The handler pipeline: the user's handler wrapped in the middleware added with use(), inside the
// retry middleware of the `retry` option and, outermost, the dead-letter one of the `dlq` option,
// whose producer the pipeline makes and closes.

import { Producer } from '../producer/producer.ts'
import type { BatchHandler, Handler, Middleware } from './message.ts'
import { compose, type DeadLetterProducer, deadLetter, retry } from './middleware.ts'
import type { ConsumerOptions } from './options.ts'

/** A dead-letter producer the pipeline closes when the consumer stops. */
export type ClosableDeadLetterProducer = DeadLetterProducer & { close(): Promise<void> }

/** The producer of dead letters, on the consumer's own connection settings (no auto-created topics). */
export function deadLetterProducer(options: ConsumerOptions): Producer {
  return new Producer({
    brokers: options.brokers,
    clientId: options.clientId,
    tls: options.tls,
    sasl: options.sasl,
    connectTimeoutMs: options.connectTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    retry: options.clientRetry,
    allowAutoTopicCreation: false,
    ...options.dlq!.producer,
  })
}

/** The middleware of a consumer and the handler they wrap, composed once at run(). */
export class HandlerPipeline {
  /** Added with use(), the first one outermost. */
  readonly middlewares: Middleware[] = []
  private producer: ClosableDeadLetterProducer | undefined

  constructor(
    private readonly options: Pick<ConsumerOptions, 'batch' | 'retry' | 'dlq'>,
    private readonly newProducer: () => ClosableDeadLetterProducer,
  ) {}

  /** `handler` in the chain: [dead letters, retry, ...middleware], dead letters outermost. */
  build(handler: Handler | BatchHandler): Handler | BatchHandler {
    const chain: Middleware[] = [...this.middlewares]
    const { dlq, retry: retryOptions } = this.options
    if (dlq) {
      this.producer = this.newProducer()
      chain.unshift(deadLetter({ producer: this.producer, topic: dlq.topic }))
    }
    if (retryOptions) chain.splice(dlq ? 1 : 0, 0, retry(retryOptions))
    if (this.options.batch) return handler as BatchHandler
    return compose(chain, handler as Handler)
  }

  /** Closes the dead-letter producer, if there is one (after the last handler finished). */
  async close(): Promise<void> {
    await this.producer?.close()
  }
}
