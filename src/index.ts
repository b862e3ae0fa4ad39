// The public surface of kafkax: nothing else is public.

export {
  AuthenticationError,
  ConfigError,
  ConnectionError,
  KafkaError,
  KafkaxError,
  ProtocolError,
  TimeoutError,
} from './protocol/errors.ts'
