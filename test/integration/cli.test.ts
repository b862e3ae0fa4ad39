// The kafkax command line against the real broker: every command's effect is checked through the
// Admin API or kcat (librdkafka), kcat's output is piped into `kafkax produce` and `kafkax consume`
// into kcat, and errors come out as one line with the documented exit code.

import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { ROOT } from '../../scripts/kafka/harness.ts'
import { Admin } from '../../src/admin/admin.ts'
import { Consumer } from '../../src/consumer/consumer.ts'
import { brokers, CA_FILE, kcat, SINGLE, USERS, uniqueTopic } from '../helpers/kafka.ts'
import { waitFor, within } from '../helpers/wait.ts'

const MAIN = join(ROOT, 'src/cli/main.ts')
/** tsx by its own URL: the CLI runs in other folders too (a kafkax.yaml of its own). */
const TSX = import.meta.resolve('tsx')
const BOOTSTRAP = brokers().join(',')

interface Run {
  status: number | null
  stdout: string
  stderr: string
}

/** Runs `kafkax ARGS` (from the source, as `npm run kafkax` does) with the test broker. */
function kafkax(args: string[], o: { input?: string | Buffer; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Run {
  const result = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], {
    input: o.input,
    env: { ...process.env, KAFKA_BROKERS: BOOTSTRAP, ...o.env },
    cwd: o.cwd ?? ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  })
  if (result.error) throw result.error
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** `kafkax ARGS` that must succeed; returns stdout. */
function ok(args: string[], o: Parameters<typeof kafkax>[1] = {}): string {
  const r = kafkax(args, o)
  assert.equal(r.status, 0, `kafkax ${args.join(' ')} exited ${r.status}: ${r.stderr}`)
  return r.stdout
}

/** `kafkax ARGS` that must fail with `status` and one line on stderr; returns that line. */
function fails(args: string[], status: number, o: Parameters<typeof kafkax>[1] = {}): string {
  const r = kafkax(args, o)
  assert.equal(r.status, status, `kafkax ${args.join(' ')}: exit ${r.status}, stderr ${r.stderr}`)
  const lines = r.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`)
  return lines[0]
}

/** A shell pipeline with bash's pipefail: kcat and kafkax, piped into each other. */
function pipeline(command: string): string {
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', command], {
    env: { ...process.env, KAFKA_BROKERS: BOOTSTRAP },
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  })
  assert.equal(result.status, 0, `${command}: ${result.stderr}`)
  return result.stdout
}
const KAFKAX = `'${process.execPath}' --import '${TSX}' '${MAIN}'`

const admin = new Admin({ brokers: brokers() })
const created: string[] = []
after(async () => {
  if (created.length > 0) await admin.deleteTopics(created).catch(() => {})
  await admin.close()
})

function topicWith(partitions: number, prefix = 'cli'): string {
  const topic = uniqueTopic(prefix)
  created.push(topic)
  ok(['topics', 'create', topic, '-P', String(partitions)])
  return topic
}

describe('kafkax topics', () => {
  it('creates, lists, describes, alters the configs of and deletes a topic', async () => {
    const topic = uniqueTopic('cli-topics')
    assert.equal(
      ok(['topics', 'create', topic, '-P', '3', '-r', '1', '--config', 'retention.ms=3600000']),
      `created topic ${topic} (3 partitions, replication factor 1)\n`,
    )
    assert.ok(ok(['topics']).split('\n').includes(topic))
    const [described] = await admin.describeTopics([topic])
    const describe = ok(['topics', 'describe', topic]).split('\n')
    assert.equal(
      describe[0],
      `Topic: ${topic}\tTopicId: ${described.topicId}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=3600000`,
    )
    assert.match(describe[1], /^PARTITION +LEADER +REPLICAS +ISR +OFFLINE$/)
    for (const p of described.partitions) {
      const row = describe[2 + p.partition].split(/ +/)
      assert.deepEqual(row, [String(p.partition), String(p.leader), p.replicas.join(','), p.isr.join(','), '-'])
    }

    ok(['topics', 'alter-configs', topic, '--set', 'cleanup.policy=compact', '--delete', 'retention.ms'])
    const [{ configs }] = await admin.describeConfigs([{ type: 'topic', name: topic }])
    const set = configs.filter((c) => c.source === 'dynamic-topic').map((c) => `${c.name}=${c.value}`)
    assert.deepEqual(set, ['cleanup.policy=compact'])
    assert.match(ok(['topics', 'describe', topic]), /\tConfigs: cleanup.policy=compact\n/)

    const again = fails(['topics', 'create', topic], 1)
    assert.match(again, new RegExp(`^kafkax topics: KafkaError: TOPIC_ALREADY_EXISTS: .*${topic}`))

    assert.equal(ok(['topics', 'delete', topic]), `deleted topic ${topic}\n`)
    assert.ok(!(await admin.listTopics()).includes(topic))
  })
})

describe('kafkax produce and consume', () => {
  it('pipes kcat into kafkax produce, and kafkax consume into kcat, every record intact', () => {
    const source = topicWith(3, 'cli-kcat')
    const records = Array.from({ length: 300 }, (_, i) => `key-${i % 17}|value ${i}`).join('\n')
    kcat(['-b', BOOTSTRAP, '-P', '-t', source, '-K', '|', '-z', 'snappy'], `${records}\n`)

    // kcat -> kafkax produce (the partitioners differ, librdkafka's consistent_random and murmur2: compare the records)
    const copy = topicWith(3, 'cli-copy')
    pipeline(`kcat -b ${BOOTSTRAP} -C -t ${source} -e -q -f '%k|%s\\n' | ${KAFKAX} produce ${copy} -K '|' -z zstd -q`)
    const read = (topic: string) =>
      kcat(['-b', BOOTSTRAP, '-C', '-t', topic, '-e', '-q', '-f', '%k|%s\n']).split('\n').filter(Boolean).sort()
    assert.deepEqual(read(copy), read(source))
    assert.equal(read(copy).length, 300)

    // kafkax consume -> kcat produce
    const back = topicWith(1, 'cli-back')
    pipeline(`${KAFKAX} consume ${copy} -e -q -f '%k\\t%s\\n' | kcat -b ${BOOTSTRAP} -P -t ${back} -K '\\t'`)
    assert.deepEqual(read(back), read(source))
  })

  it('formats records with the same -f tokens as kcat, byte for byte', () => {
    const topic = topicWith(2, 'cli-format')
    const input = Array.from({ length: 40 }, (_, i) =>
      JSON.stringify({
        key: i % 5 === 0 ? null : `k${i}`,
        value: `v${i}`,
        headers: { a: `${i}`, b: 'x' },
        partition: i % 2,
        timestamp: 1_700_000_000_000 + i,
      }),
    ).join('\n')
    ok(['produce', topic, '--json', '-q'], { input })
    const format = '%t|%p|%o|%k|%K|%s|%S|%T|%h\\n%%\\t'
    for (const partition of ['0', '1']) {
      const ours = ok(['consume', topic, '-p', partition, '-e', '-q', '-f', format])
      const theirs = kcat(['-b', BOOTSTRAP, '-C', '-t', topic, '-p', partition, '-e', '-q', '-f', format])
      assert.equal(ours, theirs)
      assert.equal(ours.split('\n').length, 21)
    }
  })

  it('reads from an offset, N before the end, a time, the end; stops after a count', () => {
    const topic = topicWith(1, 'cli-offsets')
    const input = Array.from({ length: 10 }, (_, i) =>
      JSON.stringify({ value: `v${i}`, timestamp: 1_700_000_000_000 + i * 1000 }),
    ).join('\n')
    ok(['produce', topic, '-J', '-q'], { input })
    const values = (args: string[]) =>
      ok(['consume', topic, '-q', '-f', '%o:%s\\n', ...args])
        .trimEnd()
        .split('\n')
    assert.deepEqual(values(['-e', '-o', '7']), ['7:v7', '8:v8', '9:v9'])
    assert.deepEqual(values(['-e', '-o', '-2']), ['8:v8', '9:v9'])
    assert.deepEqual(values(['-e', '-o', `@${1_700_000_000_000 + 4500}`]), ['5:v5', '6:v6', '7:v7', '8:v8', '9:v9'])
    assert.deepEqual(values(['-e', '-o', `@${new Date(1_700_000_000_000 + 8000).toISOString()}`]), ['8:v8', '9:v9'])
    assert.deepEqual(values(['-c', '3']), ['0:v0', '1:v1', '2:v2'])
    assert.equal(ok(['consume', topic, '-e', '-q', '-o', 'end']), '')
  })

  it('produces keys, headers, partitions and JSON values; consumes JSON lines with string offsets and base64 bytes', () => {
    const topic = topicWith(3, 'cli-json')
    ok(
      ['produce', topic, '-K', '=', '-H', 'source=cli', '-H', 'n=1', '-p', '2', '--acks', 'leader', '-z', 'gzip', '-q'],
      {
        input: 'a=1\n\nb=2\n',
      },
    )
    ok(['produce', topic, '-J', '-q'], { input: '{"key":"c","value":{"total":12.5},"partition":1}\n' })
    const binary = spawnSync('kcat', ['-b', BOOTSTRAP, '-P', '-t', topic, '-p', '0'], {
      input: Buffer.from([0xff, 0xfe, 0x0a]),
    })
    assert.equal(binary.status, 0, String(binary.stderr))
    const lines = ok(['consume', topic, '-e', '-q', '--json'])
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
    const byPartition = (p: number) => lines.filter((l) => l.partition === p)
    assert.deepEqual(
      byPartition(2).map((l) => [l.offset, l.key, l.value, l.headers]),
      [
        [
          '0',
          'a',
          '1',
          [
            { key: 'source', value: 'cli' },
            { key: 'n', value: '1' },
          ],
        ],
        [
          '1',
          'b',
          '2',
          [
            { key: 'source', value: 'cli' },
            { key: 'n', value: '1' },
          ],
        ],
      ],
    )
    assert.deepEqual(
      byPartition(1).map((l) => [l.offset, l.key, l.value]),
      [['0', 'c', '{"total":12.5}']],
    )
    // bytes ff fe are not UTF-8: base64
    assert.deepEqual(byPartition(0)[0].value, { base64: Buffer.from([0xff, 0xfe]).toString('base64') })
  })

  it('refuses bad input lines and unreadable files with one line and exit 2', () => {
    const topic = topicWith(1, 'cli-bad')
    assert.match(
      fails(['produce', topic, '--json'], 2, { input: '{"value":"ok"}\nnot json\n' }),
      /^kafkax produce: line 2: not JSON/,
    )
    assert.match(
      fails(['produce', topic, '-K', ':'], 2, { input: 'no separator\n' }),
      /^kafkax produce: line 1: no key separator ':'/,
    )
    assert.match(
      fails(['produce', topic, '-f', '/nonexistent/records.txt'], 2),
      /--file \/nonexistent\/records.txt: cannot read it \(ENOENT\)/,
    )
    // the record before the bad line was delivered, nothing after it
    assert.deepEqual(kcat(['-b', BOOTSTRAP, '-C', '-t', topic, '-e', '-q']), 'ok\n')
  })
})

describe('kafkax groups', () => {
  it('consumes in a group, describes its lag per partition, resets offsets (dry run first) and deletes it', async () => {
    const topic = topicWith(2, 'cli-group')
    ok(['produce', topic, '-J', '-q'], {
      input: Array.from({ length: 20 }, (_, i) => JSON.stringify({ value: `v${i}`, partition: i % 2 })).join('\n'),
    })
    const group = `cli-group-${topic.slice(-8)}`
    assert.equal(ok(['consume', topic, '-G', group, '-o', 'beginning', '-c', '6', '-q']).split('\n').length, 7)
    const committed = await admin.fetchCommittedOffsets(group)
    assert.equal(
      committed.reduce((sum, c) => sum + c.offset, 0n),
      6n,
    )
    const lag = await admin.groupLag(group)
    const describe = ok(['groups', 'describe', group]).trim().split('\n')
    assert.equal(describe[0], `Consumer group '${group}' has no active members (Empty).`)
    const rows = describe.slice(3).map((line) => line.split(/ +/))
    assert.deepEqual(
      rows.map((r) => r.slice(0, 6)),
      lag.map((l) => [group, topic, String(l.partition), String(l.committed), String(l.end), String(l.lag)]),
    )
    assert.ok(
      ok(['groups'])
        .split('\n')
        .some((line) => line.startsWith(`${group} `)),
    )

    const dry = ok(['groups', 'reset-offsets', group, '--topic', topic, '--to-earliest', '--dry-run'])
      .trim()
      .split('\n')
    assert.deepEqual(
      dry.slice(1).map((r) => r.split(/ +/).at(-1)),
      ['0', '0'],
    )
    assert.deepEqual(await admin.fetchCommittedOffsets(group), committed)

    ok(['groups', 'reset-offsets', group, '--all-topics', '--to-offset', '8'])
    assert.deepEqual(
      (await admin.fetchCommittedOffsets(group)).map((c) => c.offset),
      [8n, 8n],
    )
    ok(['groups', 'reset-offsets', group, '--topic', topic, '--to-latest'])
    assert.deepEqual(
      (await admin.groupLag(group)).map((l) => l.lag),
      [0n, 0n],
    )
    // the rest of the topic from the committed offsets: nothing left
    assert.equal(ok(['consume', topic, '-G', group, '-e', '-q']), '')

    assert.equal(ok(['groups', 'delete', group]), `deleted group ${group}\n`)
    assert.ok(!(await admin.listGroups()).some((g) => g.groupId === group))
  })

  it('refuses to reset the offsets of a group with active members', async () => {
    const topic = topicWith(1, 'cli-active')
    const group = `cli-active-${topic.slice(-8)}`
    const consumer = new Consumer({ brokers: brokers(), groupId: group, topics: [topic] })
    const assigned = new Promise((resolve) => consumer.once('assigned', resolve))
    const running = consumer.run(() => {})
    try {
      await assigned
      const line = fails(['groups', 'reset-offsets', group, '--topic', topic, '--to-earliest'], 1)
      assert.match(line, new RegExp(`^kafkax groups: KafkaxError: group ${group} is Stable with 1 active members`))
    } finally {
      await consumer.stop()
      await running
    }
  })
})

describe('kafkax cluster and ping', () => {
  it('shows the brokers, the features and the API versions each broker supports', async () => {
    const c = await admin.describeCluster()
    const brokersOut = ok(['cluster']).split('\n')
    assert.equal(brokersOut[0], `cluster ${c.clusterId}, controller ${c.controller}`)
    assert.deepEqual(brokersOut[2].split(/ +/), [
      String(c.brokers[0].nodeId),
      c.brokers[0].host,
      String(c.brokers[0].port),
      '-',
      'yes',
    ])

    const features = await admin.describeFeatures()
    const metadata = features.finalized.find((f) => f.name === 'metadata.version')!
    assert.match(
      ok(['cluster', 'features']),
      new RegExp(`\\nmetadata\\.version +\\d+-\\d+ +${metadata.maxVersionLevel}\\n`),
    )

    const [versions] = await admin.brokerApiVersions()
    const produce = versions.apis.find((a) => a.name === 'Produce')!
    assert.ok(produce.usable >= 3 && produce.usable <= produce.maxVersion)
    const out = ok(['cluster', 'versions'])
    assert.ok(out.startsWith(`${versions.host}:${versions.port} (id: ${versions.nodeId}) -> (\n`))
    assert.ok(
      out.includes(`\tProduce(0): ${produce.minVersion} to ${produce.maxVersion} [usable: ${produce.usable}],\n`),
    )
    assert.equal(out.match(/\(\d+\): /g)?.length, versions.apis.length)
  })

  it('pings over SASL_SSL with SCRAM, from flags or from a kafkax.yaml and the environment', async () => {
    const { clusterId } = await admin.describeCluster()
    const saslSsl = `127.0.0.1:${SINGLE.saslSsl}`
    const flags = [
      '--brokers',
      saslSsl,
      '--tls-ca',
      CA_FILE,
      '--sasl-mechanism',
      'scram-sha-512',
      '--sasl-username',
      'alice',
    ]
    const line = new RegExp(`^cluster ${clusterId} answered in \\d+\\.\\d ms\\n$`)
    assert.match(ok(['ping', ...flags], { env: { KAFKA_SASL_PASSWORD: USERS.alice } }), line)

    const dir = mkdtempSync(join(tmpdir(), 'kafkax-cli-'))
    try {
      writeFileSync(
        join(dir, 'kafkax.yaml'),
        `common:\n  brokers: [${saslSsl}]\n  tls:\n    caFile: ${CA_FILE}\n  sasl:\n    mechanism: scram-sha-256\n    username: alice\n`,
      )
      assert.match(ok(['ping'], { cwd: dir, env: { KAFKA_BROKERS: '', KAFKA_SASL_PASSWORD: USERS.alice } }), line)
      const denied = fails(['ping'], 3, { cwd: dir, env: { KAFKA_BROKERS: '', KAFKA_SASL_PASSWORD: 'wrong' } })
      assert.match(
        denied,
        new RegExp(`^kafkax ping: AuthenticationError: SASL SCRAM-SHA-256 authentication to ${saslSsl} failed`),
      )
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('kafkax usage', () => {
  it('has --help for every command, and exits 2 with one line on usage and configuration mistakes', () => {
    const commands = ['produce', 'consume', 'topics', 'groups', 'cluster', 'ping']
    const main = ok(['--help'])
    for (const command of commands) {
      assert.match(main, new RegExp(`\\n  ${command} +\\S`))
      const help = ok([command, '--help'])
      assert.ok(help.startsWith(`usage: kafkax ${command}`), help)
      assert.match(help, /--brokers LIST/)
    }
    assert.match(ok(['--version']), /^kafkax \d+\.\d+\.\d+ \(Node\.js \d+/)
    assert.equal(kafkax([]).status, 2)
    assert.equal(
      fails(['nope'], 2),
      'kafkax: unknown command nope: use produce, consume, topics, groups, cluster, ping',
    )
    assert.equal(
      fails(['consume', 't', '--bogus'], 2),
      "kafkax consume: Unknown option '--bogus' (see kafkax consume --help)",
    )
    assert.equal(
      fails(['consume', 't', '-f', '%x'], 2),
      'kafkax consume: --format: unknown token %x (known: %t %p %o %k %K %s %S %T %h %%)',
    )
    assert.equal(
      fails(['consume', 't', '-G', 'g', '-o', '5'], 2),
      'kafkax consume: --offset 5: with --group, use beginning, end or stored',
    )
    assert.match(
      fails(['ping', '-X', 'producer.acks=7'], 2),
      /command line: producer\.acks: 7 is not allowed: expected one of all, leader, none/,
    )
    assert.match(fails(['ping', '-b', 'no-port'], 2), /command line: common\.brokers: "no-port" is not allowed/)
  })

  it('exits 3 naming the bootstrap brokers when none answers', () => {
    const line = fails(['ping', '-b', '127.0.0.1:1', '-X', 'common.retry.deadlineMs=1s'], 3)
    assert.equal(line, 'kafkax ping: ConnectionError: no broker reachable (bootstrap: 127.0.0.1:1)')
  })

  it('shows a progress line on a terminal, and none when stdout is a pipe', async () => {
    const topic = topicWith(1, 'cli-progress')
    // script(1) gives the command a terminal; consume -o end waits for records that do not come
    const command = `${KAFKAX} consume ${topic} -o end`
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, KAFKA_BROKERS: BOOTSTRAP },
    })
    let screen = ''
    child.stdout.on('data', (chunk) => {
      screen += chunk
    })
    const started = Date.now()
    const closed = new Promise((resolve) => child.once('close', resolve))
    await waitFor('a progress line on the terminal', () => screen.includes(`consume ${topic}: 0 records`), {
      timeoutMs: 20_000,
      intervalMs: 100,
      state: () => screen,
    })
    // through a pipe it runs twice as long as the terminal took to show one (3 s at least)
    const seconds = Math.max(3, Math.ceil((2 * (Date.now() - started)) / 1000))
    child.kill('SIGINT')
    await within('the terminal consumer to exit after Ctrl-C', closed, 20_000)
    const piped = spawnSync('bash', ['-c', `timeout -s INT ${seconds} ${command} | cat`], {
      env: { ...process.env, KAFKA_BROKERS: BOOTSTRAP },
      encoding: 'utf8',
    })
    assert.ok(!piped.stderr.includes('records ('), piped.stderr)
    assert.equal(piped.stdout, '')
  })
})
