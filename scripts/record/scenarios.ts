// What the recorder makes real clients do: the Java CLI tools (the Java client of the broker's own
// release) and kcat (librdkafka). Each scenario is one client run through the recording proxy.

import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { release, runTool } from '../kafka/harness.ts'

export interface SentRecord {
  key: string | null
  value: string
  headers: { key: string; value: string }[]
}

export interface Scenario {
  client: 'java' | 'kcat'
  name: string
  description: string
  /** Records the client was asked to send, or (consumers) the records the topic holds, in any order. */
  records?: SentRecord[]
  run(bootstrap: string): void
}

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
const PARTITIONS = 3
const PER_CODEC = 40
const PERF_RECORDS = 100
const JAVA_TOPIC = 'java-records'
const KCAT_TOPIC = 'kcat-records'
const PERF_TOPIC = 'java-perf'
const TOOL_TOPIC = 'topic-tool'
const JAVA_GROUP = 'recorder-java'
const KCAT_GROUP = 'recorder-kcat'

const is39 = () => release().line === '3.9'

/** Repetitive text (so compression has something to do) without ':' or tabs (the tools' separators). */
function recordsFor(prefix: string, headers: (i: number) => SentRecord['headers']): SentRecord[] {
  return Array.from({ length: PER_CODEC }, (_, i) => ({
    key: `key-${i % 7}`,
    value: `${prefix} record ${i} ${'lorem ipsum dolor sit amet '.repeat(1 + (i % 5))}`.trim(),
    headers: headers(i),
  }))
}

// the console producer gets headers on every other record ('~' is the null marker: no headers)
const javaRecords = (codec: string) =>
  recordsFor(`java ${codec}`, (i) =>
    i % 2 === 0
      ? [
          { key: 'trace-id', value: `t-${i}` },
          { key: 'source', value: 'console-producer' },
        ]
      : [],
  )
// kcat's -H puts the same headers on every record
const kcatRecords = (codec: string, label = codec) =>
  recordsFor(`kcat ${label}`, () => [
    { key: 'source', value: 'kcat' },
    { key: 'codec', value: codec },
  ])

const PERF_PAYLOAD = `perf payload ${'0123456789abcdef'.repeat(8)}`

function kcat(args: string[], input?: string): string {
  const result = spawnSync('kcat', args, { input, encoding: 'utf8', timeout: 60_000 })
  if (result.error) throw result.error
  if (result.status !== 0) throw new Error(`kcat ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  return result.stdout
}

/** The librdkafka version kcat is built on, e.g. "2.0.2". */
export function librdkafkaVersion(): string {
  const banner = spawnSync('kcat', ['-V'], { encoding: 'utf8' }).stdout
  const m = /librdkafka ([\d.]+)/.exec(banner)
  if (!m) throw new Error(`no librdkafka version in kcat -V:\n${banner}`)
  return m[1]
}

function topicTool(bootstrap: string, args: string[]): string {
  return runTool('org.apache.kafka.tools.TopicCommand', ['--bootstrap-server', bootstrap, ...args]).stdout
}

/** Topics the producer scenarios write to, made straight on the broker (not recorded). */
export function prepare(directBootstrap: string): void {
  for (const topic of [JAVA_TOPIC, KCAT_TOPIC, PERF_TOPIC]) {
    topicTool(directBootstrap, [
      '--create',
      '--topic',
      topic,
      '--partitions',
      String(PARTITIONS),
      '--replication-factor',
      '1',
    ])
  }
}

function expectLines(what: string, stdout: string, count: number): void {
  const lines = stdout.split('\n').filter(Boolean).length
  if (lines !== count) throw new Error(`${what}: expected ${count} records, got ${lines}:\n${stdout}`)
}

function propertiesFile(props: Record<string, string>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'kafkax-record-')), 'client.properties')
  writeFileSync(
    file,
    Object.entries(props)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  )
  return file
}

function consoleConsumer(bootstrap: string, group: string, max: number, props: Record<string, string> = {}) {
  const { stdout } = runTool('org.apache.kafka.tools.consumer.ConsoleConsumer', [
    '--bootstrap-server',
    bootstrap,
    '--topic',
    JAVA_TOPIC,
    '--group',
    group,
    '--from-beginning',
    '--max-messages',
    String(max),
    '--timeout-ms',
    '30000',
    is39() ? '--consumer.config' : '--command-config',
    propertiesFile(props),
  ])
  expectLines(`console consumer (${group})`, stdout, max)
}

function javaScenarios(): Scenario[] {
  const topic = (name: string, description: string, args: string[]): Scenario => ({
    client: 'java',
    name: `topic-${name}`,
    description: `TopicCommand ${description}`,
    run: (b) => void topicTool(b, args),
  })
  const readerProp = is39() ? '--property' : '--reader-property'
  const allJava = CODECS.flatMap((codec) => javaRecords(codec))
  const scenarios: Scenario[] = [
    topic('create', `--create ${TOOL_TOPIC} with ${PARTITIONS} partitions`, [
      '--create',
      '--topic',
      TOOL_TOPIC,
      '--partitions',
      String(PARTITIONS),
      '--replication-factor',
      '1',
    ]),
    topic('describe', `--describe ${TOOL_TOPIC}`, ['--describe', '--topic', TOOL_TOPIC]),
    topic('list', '--list', ['--list']),
    topic('delete', `--delete ${TOOL_TOPIC}`, ['--delete', '--topic', TOOL_TOPIC]),
    ...CODECS.map(
      (codec): Scenario => ({
        client: 'java',
        name: `console-producer-${codec}`,
        description: `ConsoleProducer, acks=all, idempotent, compression ${codec}: ${PER_CODEC} keyed records to ${JAVA_TOPIC} (${PARTITIONS} partitions), every other one with 2 headers`,
        records: javaRecords(codec),
        run(b) {
          const lines = javaRecords(codec).map((r) => {
            const headers = r.headers.length ? r.headers.map((h) => `${h.key}:${h.value}`).join(',') : '~'
            return `${headers}\t${r.key}\t${r.value}`
          })
          runTool(
            is39() ? 'kafka.tools.ConsoleProducer' : 'org.apache.kafka.tools.ConsoleProducer',
            [
              '--bootstrap-server',
              b,
              '--topic',
              JAVA_TOPIC,
              '--compression-codec',
              codec,
              '--producer-property',
              'acks=all',
              '--producer-property',
              'enable.idempotence=true',
              ...[
                'parse.key=true',
                'parse.headers=true',
                'null.marker=~',
                // default separators: tab between headers, key and value; ',' between headers, ':' in one
              ].flatMap((p) => [readerProp, p]),
            ],
            { input: `${lines.join('\n')}\n` },
          )
        },
      }),
    ),
    {
      client: 'java',
      name: 'console-consumer-group',
      description: `ConsoleConsumer in group ${JAVA_GROUP} (classic protocol): --from-beginning --max-messages ${allJava.length} of ${JAVA_TOPIC}, every codec`,
      records: allJava,
      run: (b) => consoleConsumer(b, JAVA_GROUP, allJava.length),
    },
  ]
  if (!is39()) {
    scenarios.push({
      client: 'java',
      name: 'console-consumer-group-kip848',
      description: `ConsoleConsumer with group.protocol=consumer (KIP-848 ConsumerGroupHeartbeat): --from-beginning --max-messages ${allJava.length} of ${JAVA_TOPIC}`,
      records: allJava,
      run: (b) => consoleConsumer(b, `${JAVA_GROUP}-kip848`, allJava.length, { 'group.protocol': 'consumer' }),
    })
  }
  const groupTool = (name: string, args: string[]): Scenario => ({
    client: 'java',
    name: `consumer-groups-${name}`,
    description: `ConsumerGroupCommand ${args.join(' ')}`,
    run: (b) =>
      void runTool('org.apache.kafka.tools.consumer.group.ConsumerGroupCommand', ['--bootstrap-server', b, ...args]),
  })
  scenarios.push(groupTool('list', ['--list']), groupTool('describe', ['--describe', '--group', JAVA_GROUP]))
  for (const codec of CODECS) {
    scenarios.push({
      client: 'java',
      name: `producer-perf-${codec}`,
      description: `ProducerPerformance, enable.idempotence=true, acks=all, compression ${codec}: ${PERF_RECORDS} unkeyed records of one payload to ${PERF_TOPIC}`,
      records: Array.from({ length: PERF_RECORDS }, () => ({ key: null, value: PERF_PAYLOAD, headers: [] })),
      run(b) {
        const payload = join(mkdtempSync(join(tmpdir(), 'kafkax-record-')), 'payload.txt')
        writeFileSync(payload, PERF_PAYLOAD)
        const props = {
          'bootstrap.servers': b,
          'enable.idempotence': 'true',
          acks: 'all',
          'compression.type': codec,
          'linger.ms': '5',
        }
        runTool('org.apache.kafka.tools.ProducerPerformance', [
          '--topic',
          PERF_TOPIC,
          '--num-records',
          String(PERF_RECORDS),
          '--payload-file',
          payload,
          '--throughput',
          '-1',
          is39() ? '--producer-props' : '--command-property',
          ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
        ])
      },
    })
  }
  return scenarios
}

function kcatProducer(name: string, description: string, codec: string, extra: string[] = []): Scenario {
  const records = kcatRecords(codec, name)
  return {
    client: 'kcat',
    name,
    description,
    records,
    run(b) {
      const headers = records[0].headers.flatMap((h) => ['-H', `${h.key}=${h.value}`])
      const input = records.map((r) => `${r.key}:${r.value}\n`).join('')
      kcat(['-b', b, '-P', '-t', KCAT_TOPIC, '-z', codec, '-K:', ...headers, ...extra], input)
    },
  }
}

function kcatScenarios(): Scenario[] {
  const allKcat = CODECS.flatMap((codec) => kcatRecords(codec, `producer-${codec}`))
  return [
    {
      client: 'kcat',
      name: 'metadata',
      description: 'kcat -L: metadata of every topic',
      run: (b) => void kcat(['-b', b, '-L']),
    },
    ...CODECS.map((codec) =>
      kcatProducer(
        `producer-${codec}`,
        `kcat -P -z ${codec} -K: with 2 headers (-H) on every record: ${PER_CODEC} keyed records to ${KCAT_TOPIC} (${PARTITIONS} partitions), librdkafka defaults (acks=all, not idempotent)`,
        codec,
      ),
    ),
    {
      client: 'kcat',
      name: 'consumer',
      description: `kcat -C -o beginning -e: every partition of ${KCAT_TOPIC} to its end, no group`,
      records: allKcat,
      run: (b) =>
        expectLines('kcat -C', kcat(['-b', b, '-C', '-t', KCAT_TOPIC, '-o', 'beginning', '-e']), allKcat.length),
    },
    {
      client: 'kcat',
      name: 'group-consumer',
      description: `kcat -G ${KCAT_GROUP} (balanced consumer, classic protocol) reading -c ${allKcat.length} records of ${KCAT_TOPIC} from the earliest offsets`,
      records: allKcat,
      run: (b) =>
        expectLines(
          'kcat -G',
          kcat([
            '-b',
            b,
            '-G',
            KCAT_GROUP,
            '-X',
            'auto.offset.reset=earliest',
            '-c',
            String(allKcat.length),
            KCAT_TOPIC,
          ]),
          allKcat.length,
        ),
    },
    // after the consumers, which expect the records above only
    kcatProducer(
      'producer-acks0',
      `kcat -P -X acks=0: ${PER_CODEC} keyed records to ${KCAT_TOPIC}, Produce requests that get no response`,
      'none',
      ['-X', 'acks=0'],
    ),
  ]
}

export function scenarios(): Scenario[] {
  return [...javaScenarios(), ...kcatScenarios()]
}
