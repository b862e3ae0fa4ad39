// Helpers for integration tests: the broker this run uses, unique topics, and the real Kafka CLI
// tools and kcat as reference clients. The broker itself is started once per run by scripts/test.ts.

import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { after, before } from 'node:test'
import { type FakeProcess, startFakeProcess } from '../../scripts/kafka/fake.ts'
import { logTail, release, runTool, SINGLE_DIR, TLS_DIR, toolArgs } from '../../scripts/kafka/harness.ts'
import { Admin } from '../../src/admin/admin.ts'

export { type FakeProcess, startFakeProcess } from '../../scripts/kafka/fake.ts'

/**
 * A fake cluster in its own process for the tests of one suite (started before them, stopped after),
 * with an Admin on it: the Java tools and kcat run synchronously, so the fake must not share their
 * event loop.
 */
export function fakeClusterProcess(args: string[]): { readonly bootstrap: string; readonly admin: Admin } {
  let fake: FakeProcess | undefined
  let admin: Admin | undefined
  before(async () => {
    fake = await startFakeProcess(args)
    admin = new Admin({ brokers: fake.bootstrap })
  })
  after(async () => {
    await admin?.close()
    await fake?.stop()
  })
  return {
    get bootstrap() {
      return fake!.bootstrap.join(',')
    },
    get admin() {
      return admin!
    },
  }
}

export {
  CLUSTER_BOOTSTRAP,
  clientConfig,
  clusterDir,
  killNode,
  logTail,
  restartNode,
  restartSingle,
  rewriteScramUsers,
  SINGLE,
  startCluster,
  stopCluster,
  stopNode,
  TLS_DIR,
  USERS,
} from '../../scripts/kafka/harness.ts'

/** The bootstrap list of this run's broker (KAFKA_BROKERS, set by the test runner). */
export function brokers(): string[] {
  return (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim())
}

export const CA_FILE = join(TLS_DIR, 'ca.pem')

/** A topic name no other test (or earlier run against the same broker) uses. */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
}

/** The harness broker's on-disk log of a partition: batches are stored there as producers wrote them. */
export function partitionLogDir(topic: string, partition = 0): string {
  return join(SINGLE_DIR, 'data', `${topic}-${partition}`)
}

/** The tail of the broker's log, for assertion messages. */
export function brokerLog(lines = 40): string {
  return logTail(SINGLE_DIR, lines)
}

const isKafka39 = () => release().line === '3.9'

/** Kafka's CLI tools (the Java client), run with the harness jars. */
export const cli = {
  createTopic(
    topic: string,
    o: { bootstrap?: string; partitions?: number; replicationFactor?: number; config?: string } = {},
  ) {
    runTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server',
      o.bootstrap ?? brokers()[0],
      '--create',
      '--topic',
      topic,
      '--partitions',
      String(o.partitions ?? 1),
      '--replication-factor',
      String(o.replicationFactor ?? 1),
      ...(o.config ? ['--command-config', o.config] : []),
    ])
  },

  describeTopic(topic: string, bootstrap = brokers()[0]): string {
    return runTool('org.apache.kafka.tools.TopicCommand', [
      '--bootstrap-server',
      bootstrap,
      '--describe',
      '--topic',
      topic,
    ]).stdout
  },

  /** Produces `key:value` lines (keys parsed on ':') with the console producer, acks=all. */
  produce(
    topic: string,
    lines: string[],
    o: { bootstrap?: string; config?: string; compression?: string; props?: Record<string, string> } = {},
  ) {
    const producer = isKafka39() ? 'kafka.tools.ConsoleProducer' : 'org.apache.kafka.tools.ConsoleProducer'
    runTool(
      producer,
      [
        '--bootstrap-server',
        o.bootstrap ?? brokers()[0],
        '--topic',
        topic,
        '--property',
        'parse.key=true',
        '--property',
        'key.separator=:',
        '--producer-property',
        'acks=all',
        ...Object.entries(o.props ?? {}).flatMap(([k, v]) => ['--producer-property', `${k}=${v}`]),
        // the console producer sets compression.type itself, from this flag
        ...(o.compression ? ['--compression-codec', o.compression] : []),
        ...(o.config ? [isKafka39() ? '--producer.config' : '--command-config', o.config] : []),
      ],
      { input: `${lines.join('\n')}\n` },
    )
  },

  /** Consumes `max` records from the beginning with the console consumer; returns `key:value` lines. */
  consume(
    topic: string,
    max: number,
    o: { bootstrap?: string; config?: string; group?: string; isolation?: 'read_committed' | 'read_uncommitted' } = {},
  ): string[] {
    const { stdout } = runTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
      '--bootstrap-server',
      o.bootstrap ?? brokers()[0],
      '--topic',
      topic,
      '--from-beginning',
      '--max-messages',
      String(max),
      '--timeout-ms',
      '30000',
      // 4.x renamed the formatter's --property to --formatter-property (and warns on stdout)
      isKafka39() ? '--property' : '--formatter-property',
      'print.key=true',
      isKafka39() ? '--property' : '--formatter-property',
      'key.separator=:',
      ...(o.group ? ['--group', o.group] : []),
      ...(o.isolation ? ['--isolation-level', o.isolation] : []),
      ...(o.config ? [isKafka39() ? '--consumer.config' : '--command-config', o.config] : []),
    ])
    return stdout.split('\n').filter(Boolean)
  },
}

/** Runs kcat (librdkafka) and returns stdout; throws with stderr when it fails. */
export function kcat(args: string[], input?: string): string {
  const result = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024 })
  if (result.error) throw result.error
  if (result.status !== 0) throw new Error(`kcat ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return result.stdout
}

/**
 * Every record of a topic as kcat reads it (to the end, then it exits): partition, offset, key,
 * value. librdkafka reads read_committed unless told otherwise.
 */
export function readWithKcat(
  topic: string,
  bootstrap = brokers()[0],
  isolation: 'read_committed' | 'read_uncommitted' = 'read_committed',
) {
  const out = kcat([
    ...['-b', bootstrap, '-C', '-t', topic, '-e', '-q', '-X', `isolation.level=${isolation}`],
    ...['-f', '%p\t%o\t%k\t%s\n'],
  ])
  return out
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [partition, offset, key, value] = line.split('\t')
      return { partition: Number(partition), offset: BigInt(offset), key, value }
    })
}

/** A long-running client (a group member): the lines it printed so far, and a way to stop it (SIGTERM). */
export interface Running {
  lines: string[]
  stop(): Promise<void>
}

/** Starts `command` and collects its stdout lines as they come (kcat needs -u to print unbuffered). */
export function spawnLines(command: string, args: string[]): Running {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const running: Running = {
    lines: [],
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    },
  }
  let rest = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (d: string) => {
    const parts = (rest + d).split('\n')
    rest = parts.pop()!
    running.lines.push(...parts.filter(Boolean))
  })
  child.stderr.resume()
  return running
}

/** A Kafka CLI class running alongside others (a Java group member), as spawnLines. */
export function startTool(mainClass: string, args: string[]): Running {
  return spawnLines('java', toolArgs(mainClass, args))
}
