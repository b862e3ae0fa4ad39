// The CLI's help and its documentation: docs/cli.md shows each command's --help as the code prints it,
// and the options of every command parse as declared.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { type Command, connectionConfig, helpText, parse } from '../../../src/cli/args.ts'
import { cluster } from '../../../src/cli/cluster.ts'
import { consume } from '../../../src/cli/consume.ts'
import { messageFormat } from '../../../src/cli/format.ts'
import { groups } from '../../../src/cli/groups.ts'
import { ping } from '../../../src/cli/ping.ts'
import { produce } from '../../../src/cli/produce.ts'
import { topics } from '../../../src/cli/topics.ts'
import { ConsumedMessage } from '../../../src/consumer/message.ts'
import { ConfigError } from '../../../src/protocol/errors.ts'

const COMMANDS: Command[] = [produce, consume, topics, groups, cluster, ping]

describe('kafkax CLI', () => {
  it('documents every command in docs/cli.md exactly as --help prints it', () => {
    const doc = readFileSync(new URL('../../../docs/cli.md', import.meta.url), 'utf8')
    for (const command of COMMANDS) {
      assert.ok(
        doc.includes(`### kafkax ${command.name}\n\n\`\`\`\n${helpText(command)}\`\`\``),
        `docs/cli.md: ${command.name}`,
      )
    }
  })

  it('parses short and long options, repeated ones, and negative numbers as values', () => {
    const args = parse(consume, ['orders', '-o', '-10', '-p', '1', '--partition', '2', '-e', '-b', 'h:1'])
    assert.deepEqual(args.positionals, ['orders'])
    assert.equal(args.values.offset, '-10')
    assert.deepEqual(args.values.partition, ['1', '2'])
    assert.equal(args.values.exit, true)
    assert.equal(args.values.brokers, 'h:1')
    assert.throws(
      () => parse(consume, ['--nope']),
      (e: Error) => e instanceof ConfigError && /Unknown option '--nope'/.test(e.message),
    )
  })

  it('turns flags and -X options into loadConfig overrides, validated and named as the command line', () => {
    const args = parse(ping, [
      '-b',
      'a:1,b:2',
      '-X',
      'producer.batch.lingerMs=20ms',
      '-X',
      'common.retry.maxAttempts=2',
      '--tls',
    ])
    const config = connectionConfig(args, {}, {})
    assert.deepEqual(config.admin.brokers, ['a:1', 'b:2'])
    assert.equal(config.producer.batch?.lingerMs, 20)
    assert.equal(config.admin.retry?.maxAttempts, 2)
    assert.equal(config.admin.tls, true)
    const bad = parse(ping, ['-b', 'a:1', '-X', 'producer.acks=7'])
    assert.throws(() => connectionConfig(bad, {}, {}), /command line: producer\.acks: 7 is not allowed/)
    assert.throws(
      () => connectionConfig(parse(ping, ['-X', 'lingerMs=5']), {}, {}),
      /-X lingerMs: expected SECTION\.OPTION=VALUE/,
    )
  })

  it("formats messages with kcat's tokens and escapes, keys and values as raw bytes", () => {
    const headers = [
      { key: 'a', value: Buffer.from('1') },
      { key: 'b', value: null },
    ]
    const m = new ConsumedMessage('t', 3, 42n, 1700000000000, null, Buffer.from([0xff, 0x41]), headers, 0)
    const out = messageFormat('%t %p %o %T [%k] %K %S %h %%\\t%s\\n')(m)
    assert.deepEqual(
      out,
      Buffer.concat([Buffer.from('t 3 42 1700000000000 [] -1 2 a=1,b= %\t'), Buffer.from([0xff, 0x41, 0x0a])]),
    )
    assert.throws(() => messageFormat('%q'), /unknown token %q/)
  })
})
