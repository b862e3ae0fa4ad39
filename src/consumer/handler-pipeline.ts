// The handler pipeline: the user's handler wrapped in the middleware added with use() (batch mode:
// useBatch()), inside the retry middleware of the `retry` option and, outermost, the dead-letter
// one of the `dlq` option, whose producer the pipeline makes and closes. An exactly-once consumer
// wraps each handler run too (inside retry), to give it its own context.send.

import type { ProducerOptions } from '../producer/options.ts'
import { ConfigError } from '../protocol/errors.ts'
import type { BatchHandler, BatchMiddleware, Handler, Middleware } from './message.ts'
import {
  compose,
  type DeadLetterOptions,
  type DeadLetterProducer,
  deadLetter,
  deadLetterBatch,
  retry,
  retryBatch,
} from './middleware.ts'
import type { ConsumerOptions } from './options.ts'

/** A dead-letter producer the pipeline closes when the consumer stops. */
export type ClosableDeadLetterProducer = DeadLetterProducer & { close(): Promise<void> }

/** The options of the dead-letter producer: the consumer's connection settings (no auto-created topics), under `dlq.producer`. */
export function deadLetterProducerOptions(options: ConsumerOptions): ProducerOptions {
  return {
    brokers: options.brokers,
    clientId: options.clientId,
    tls: options.tls,
    sasl: options.sasl,
    connectTimeoutMs: options.connectTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs,
    retry: options.clientRetry,
    connect: options.connect,
    allowAutoTopicCreation: false,
    ...options.dlq!.producer,
  }
}

/** The middleware of a consumer and the handler they wrap, composed once at run(). */
export class HandlerPipeline {
  /** Added with use() and useBatch(), the first one outermost. */
  readonly middlewares: Middleware[] = []
  readonly batchMiddlewares: BatchMiddleware[] = []
  private producer: ClosableDeadLetterProducer | undefined

  /**
   * `attempt` wraps each handler run inside the retry middleware, outside the use() middleware
   * (the exactly-once consumer's: each run's own `context.send`).
   */
  constructor(
    private readonly options: Pick<ConsumerOptions, 'batch' | 'retry' | 'dlq'>,
    private readonly newProducer: () => ClosableDeadLetterProducer,
    private readonly attempt?: Middleware,
  ) {}

  /** `handler` in the chain: [dead letters, retry, attempt, ...middleware], dead letters outermost. */
  build(handler: Handler): Handler {
    if (this.batchMiddlewares.length > 0) {
      throw new ConfigError('useBatch() middleware wraps batch handlers, and this consumer has no batch option')
    }
    const middlewares = this.attempt ? [this.attempt, ...this.middlewares] : this.middlewares
    return compose(this.chain(middlewares, deadLetter, retry), handler)
  }

  /** The same for a batch handler, with the batch middlewares. */
  buildBatch(handler: BatchHandler): BatchHandler {
    // middleware of single messages would be skipped without a word
    if (this.middlewares.length > 0) {
      throw new ConfigError(
        'use() middleware wraps single messages, and this consumer runs in batch mode: use useBatch()',
      )
    }
    return compose(this.chain(this.batchMiddlewares, deadLetterBatch, retryBatch), handler)
  }

  /** Closes the dead-letter producer, if there is one (after the last handler finished). */
  async close(): Promise<void> {
    await this.producer?.close()
  }

  /** The options' dead-letter and retry middleware (of one mode) before `middlewares`. */
  private chain<M>(
    middlewares: readonly M[],
    deadLetters: (options: DeadLetterOptions) => M,
    retries: (options: NonNullable<ConsumerOptions['retry']>) => M,
  ): M[] {
    const chain = [...middlewares]
    const { dlq, retry: retryOptions } = this.options
    if (dlq) {
      this.producer ??= this.newProducer()
      chain.unshift(deadLetters({ producer: this.producer, topic: dlq.topic }))
    }
    if (retryOptions) chain.splice(dlq ? 1 : 0, 0, retries(retryOptions))
    return chain
  }
}
