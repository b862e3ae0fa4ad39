// kafkax/testing: an in-process Kafka cluster speaking the real protocol, for tests.

export type { ListenerOptions } from './broker-server.ts'
export { type Clock, ManualClock, systemClock, type Timer } from './clock.ts'
export { FakeCluster, type FakeClusterOptions, type TopicSpec } from './cluster.ts'
export type {
  InterceptedRequest,
  InterceptHandle,
  Interception,
  InterceptOptions,
  Interceptor,
} from './interceptors.ts'
