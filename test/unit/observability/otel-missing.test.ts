// Without @opentelemetry/api installed, the OpenTelemetry helpers fail with a ConfigError that says
// what to install. Its own file: the test process must not have loaded the package before.

import assert from 'node:assert/strict'
import Module from 'node:module'
import { it } from 'node:test'
import { ConfigError } from '../../../src/protocol/errors.ts'

it('otelMiddleware and otelProducer throw a ConfigError naming the missing package', async () => {
  // make the package unresolvable, as on a machine where it is not installed
  const resolver = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string }
  const resolve = resolver._resolveFilename
  resolver._resolveFilename = (request, ...rest) => {
    if (request === '@opentelemetry/api')
      throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' })
    return resolve.call(Module, request, ...rest)
  }
  try {
    const { otelMiddleware, otelProducer } = await import('../../../src/otel/index.ts')
    const missing = (e: Error) => e instanceof ConfigError && /npm install @opentelemetry\/api/.test(e.message)
    assert.throws(() => otelMiddleware(), missing)
    assert.throws(() => otelProducer({} as Parameters<typeof otelProducer>[0]), missing)
  } finally {
    resolver._resolveFilename = resolve
  }
})
