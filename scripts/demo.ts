// npm run demo: starts a local Kafka (or reuses the one running) and prints how to reach it.
// The end-to-end producer/consumer demo comes with the configuration and observability work.

import { release, SINGLE, startSingle, USERS } from './kafka/harness.ts'

const { started, bootstrap } = await startSingle()
console.log(`Kafka ${release().version} ${started ? 'started' : 'already running'} at ${bootstrap}`)
console.log(
  `  SASL_PLAINTEXT 127.0.0.1:${SINGLE.saslPlaintext}  SSL 127.0.0.1:${SINGLE.ssl}  SASL_SSL 127.0.0.1:${SINGLE.saslSsl}`,
)
console.log(
  `  users: ${Object.entries(USERS)
    .map(([u, p]) => `${u}/${p}`)
    .join(', ')}  (stop it with: npm run kafka:stop)`,
)
