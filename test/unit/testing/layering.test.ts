// kafkax/testing sits above the core: nothing outside src/testing imports from it.

import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, it } from 'node:test'

const SRC = join(import.meta.dirname, '../../../src')

describe('kafkax/testing layering', () => {
  it('no module of the core imports from src/testing', () => {
    const offenders: string[] = []
    for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
      const path = join(entry.parentPath, entry.name)
      const rel = relative(SRC, path)
      if (!entry.isFile() || !rel.endsWith('.ts') || rel.startsWith('testing')) continue
      if (/from '[^']*\/testing\//.test(readFileSync(path, 'utf8'))) offenders.push(rel)
    }
    assert.deepEqual(offenders, [])
  })
})
