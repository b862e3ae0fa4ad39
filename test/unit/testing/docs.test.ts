// docs/testing.md lists the APIs and versions the fake cluster serves: the list must be the one
// ApiVersions advertises.

import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { HANDLERS } from '../../../src/testing/apis.ts'

describe('docs/testing.md', () => {
  it('lists exactly the served APIs and versions', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/testing.md'), 'utf8')
    const listed = [...doc.matchAll(/^\| (\d+) \| (\w+) \| (\d+)-(\d+) \|$/gm)].map((m) => m.slice(1).join(' '))
    const served = [...HANDLERS]
      .sort((a, b) => a.api.apiKey - b.api.apiKey)
      .map((h) => `${h.api.apiKey} ${h.api.name} ${h.minVersion} ${h.maxVersion}`)
    assert.deepEqual(listed, served)
  })
})
