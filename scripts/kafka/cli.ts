// npm run kafka:start | kafka:stop | kafka -- <command>: the broker harness from the command line.

import { serve } from './fake.ts'
import {
  CLUSTER_BOOTSTRAP,
  ensureCerts,
  ensureKcat,
  fetchLibs,
  killNode,
  release,
  restartNode,
  runTool,
  SINGLE,
  startCluster,
  startSingle,
  stopAll,
  stopNode,
} from './harness.ts'

const USAGE = `usage: npm run kafka -- <command>
  setup             resolve the jars (Maven Central), make the test CA, install kcat
  start             single node: PLAINTEXT :${SINGLE.plaintext}, SASL_PLAINTEXT :${SINGLE.saslPlaintext}, SSL :${SINGLE.ssl}, SASL_SSL :${SINGLE.saslSsl}
    --authorizer    with ACLs enforced (StandardAuthorizer; a resource without ACLs is open to all)
  stop              stop every node this harness started
  cluster           3-node cluster at ${CLUSTER_BOOTSTRAP.join(',')}
  kill-node N | stop-node N | restart-node N     failover helpers for cluster node N (1-3)
  tool <MainClass> [args...]                     run a Kafka CLI class with the harness classpath
  fake [--harness] [--brokers N] [--topic t:N]   the fake cluster (kafkax/testing) in the foreground
KAFKA_VERSION=3.9.x selects Kafka 3.9.2 (default 4.3.x: 4.3.1).`

const [command, ...args] = process.argv.slice(2)
const node = () => {
  const n = Number(args[0])
  if (![1, 2, 3].includes(n)) throw new Error('node must be 1, 2 or 3')
  return n
}

switch (command) {
  case 'setup':
    fetchLibs(release())
    ensureCerts()
    ensureKcat()
    break
  case 'start': {
    const { started, bootstrap } = await startSingle({ authorizer: args.includes('--authorizer') })
    console.log(
      started ? `Kafka ${release().version} started at ${bootstrap}` : `Kafka already running at ${bootstrap}`,
    )
    break
  }
  case 'stop':
    await stopAll()
    break
  case 'cluster':
    console.log(`cluster at ${(await startCluster()).join(',')}`)
    break
  case 'fake':
    await serve(args)
    break
  case 'kill-node':
    await killNode(node())
    break
  case 'stop-node':
    await stopNode(node())
    break
  case 'restart-node':
    await restartNode(node())
    break
  case 'tool': {
    const { stdout, stderr } = runTool(args[0], args.slice(1))
    process.stderr.write(stderr)
    process.stdout.write(stdout)
    break
  }
  default:
    console.error(USAGE)
    process.exit(command ? 2 : 0)
}
