// The layering of src/: each layer's folder declares in its README.md what it owns and which layers
// it may import ("Imports: ..."); this test reads those declarations and fails when any import in
// src/ (static, re-export or dynamic, types included) points elsewhere, when a folder has no
// declaration, or when imports form a cycle between files. src/index.ts, the public surface, may
// import every layer; an adapter above the core names it as "index".

import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, it } from 'node:test'

const SRC = resolve(import.meta.dirname, '../../src')

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
}

/** Every module a file imports from kafkax's sources (absolute paths). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specifiers = [
    ...text.matchAll(/^\s*(?:import|export)\b[^'"]*?\sfrom\s+'([^']+)'/gm),
    ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
    ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
  ].map((m) => m[1])
  return specifiers.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s))
}

const layerOf = (file: string) => {
  const rel = relative(SRC, file)
  return rel.includes('/') ? rel.split('/')[0] : '.'
}

function declaredImports(): Map<string, Set<string>> {
  const layers = new Map<string, Set<string>>()
  for (const entry of readdirSync(SRC, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const readme = join(SRC, entry.name, 'README.md')
    assert.ok(existsSync(readme), `src/${entry.name}/ has no README.md saying what it owns and may import`)
    const line = readFileSync(readme, 'utf8').match(/^Imports: (.*)$/m)
    assert.ok(line, `src/${entry.name}/README.md has no "Imports:" line`)
    const allowed = line[1].startsWith('(') ? [] : line[1].split(',').map((s) => s.trim().replace(/^index$/, '.'))
    layers.set(entry.name, new Set(allowed))
  }
  return layers
}

describe('Layering of src/', () => {
  const all = files(SRC)
  const graph = new Map(all.map((f) => [f, importsOf(f)]))

  it('imports point only to the layers each folder declares', () => {
    const layers = declaredImports()
    for (const [name, allowed] of layers) {
      for (const a of allowed)
        assert.ok(a === '.' || layers.has(a), `src/${name}/README.md names an unknown layer ${a}`)
    }
    const wrong: string[] = []
    for (const [file, targets] of graph) {
      const from = layerOf(file)
      if (from === '.') continue
      for (const target of targets) {
        const to = layerOf(target)
        if (to !== from && !layers.get(from)!.has(to))
          wrong.push(
            `${relative(SRC, file)} imports ${relative(SRC, target)} (${from} may import: ${[...layers.get(from)!].join(', ') || 'nothing'})`,
          )
      }
    }
    assert.deepEqual(wrong, [])
  })

  it('no import cycle between files', () => {
    const state = new Map<string, 'open' | 'done'>()
    const cycles: string[] = []
    const visit = (file: string, path: string[]) => {
      state.set(file, 'open')
      for (const next of graph.get(file) ?? []) {
        const known = graph.has(next) ? next : undefined
        if (!known) continue
        if (state.get(known) === 'open')
          cycles.push([...path.slice(path.indexOf(known)), known].map((f) => relative(SRC, f)).join(' -> '))
        else if (!state.has(known)) visit(known, [...path, known])
      }
      state.set(file, 'done')
    }
    for (const file of graph.keys()) if (!state.has(file)) visit(file, [file])
    assert.deepEqual(cycles, [])
  })

  it('every relative import names a file that exists', () => {
    const missing = [...graph].flatMap(([file, targets]) =>
      targets.filter((t) => !existsSync(t)).map((t) => `${relative(SRC, file)} -> ${relative(SRC, t)}`),
    )
    assert.deepEqual(missing, [])
  })
})
