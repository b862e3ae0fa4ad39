// Without avsc, ajv or protobufjs installed, a schema of their format fails with a ConfigError that
// says what to install. Its own file: the test process must not have loaded the packages before.

import assert from 'node:assert/strict'
import Module from 'node:module'
import { it } from 'node:test'
import { ConfigError } from '../../../src/protocol/errors.ts'

it('each format names its missing package', async () => {
  // make the packages unresolvable, as on a machine where they are not installed
  const resolver = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string }
  const resolve = resolver._resolveFilename
  resolver._resolveFilename = (request, ...rest) => {
    if (['avsc', 'ajv', 'protobufjs'].includes(request))
      throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' })
    return resolve.call(Module, request, ...rest)
  }
  try {
    const { parseAvro } = await import('../../../src/schema-registry/formats/avro.ts')
    const { parseJsonSchema } = await import('../../../src/schema-registry/formats/json.ts')
    const { parseProtobuf } = await import('../../../src/schema-registry/formats/protobuf.ts')
    const missing = (name: string) => (e: unknown) =>
      e instanceof ConfigError && e.message.includes(`npm install ${name}`)
    assert.throws(() => parseAvro('"string"', []), missing('avsc'))
    assert.throws(() => parseJsonSchema('{}', []), missing('ajv'))
    assert.throws(() => parseProtobuf('syntax = "proto3"; message M {}', []), missing('protobufjs'))
  } finally {
    resolver._resolveFilename = resolve
  }
})
