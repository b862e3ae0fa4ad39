// One name, one concept: no two modules of src/ export a type (interface, class, type alias, enum)
// under the same name, and no re-export renames something to a name another module uses. A reader
// who meets `CommittedOffset` or `FetchSessionHandler` then knows which one it is. Functions may
// share a name across layers when they are one Kafka API seen from two sides (the Admin's
// createTopics and the fake broker's handler of CreateTopics). The generated protocol codecs are
// left out (they follow Kafka's message names). kafkax/kafkajs (src/kafkajs) is a namespace of its
// own whose names are kafkajs's by contract (its Producer, Consumer, Message are kafkajs's): its
// modules are checked among themselves.

import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { test } from 'node:test'
import ts from 'typescript'

const SRC = resolve(import.meta.dirname, '../../src')
const GENERATED = join('protocol', 'messages', 'generated')

function sourceFiles(): string[] {
  return readdirSync(SRC, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .filter((file) => !relative(SRC, file).startsWith(GENERATED) && !file.endsWith('.generated.ts'))
}

const exported = (node: ts.Node) =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)

/** The type names a file exports by declaration, and the new names its re-exports give. */
function exportedNames(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest)
  const names = new Set<string>()
  for (const statement of source.statements) {
    if (
      (ts.isInterfaceDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name &&
      exported(statement)
    ) {
      names.add(statement.name.text)
    } else if (
      ts.isExportDeclaration(statement) &&
      statement.exportClause &&
      ts.isNamedExports(statement.exportClause)
    ) {
      for (const e of statement.exportClause.elements) if (e.propertyName) names.add(e.name.text)
    }
  }
  return [...names]
}

/** Names exported by more than one of these files, each with its files. */
function sharedNames(files: string[]): string[] {
  const owners = new Map<string, string[]>()
  for (const file of files) {
    for (const name of exportedNames(file)) owners.set(name, [...(owners.get(name) ?? []), relative(SRC, file)])
  }
  return [...owners].filter(([, owned]) => owned.length > 1).map(([name, owned]) => `${name}: ${owned.join(', ')}`)
}

const inKafkajs = (file: string) => relative(SRC, file).startsWith(`kafkajs${sep}`)

test('no two modules of src/ export a type of the same name', () => {
  assert.deepEqual(sharedNames(sourceFiles().filter((f) => !inKafkajs(f))), [])
  assert.deepEqual(sharedNames(sourceFiles().filter(inKafkajs)), [], 'within kafkax/kafkajs')
})

test('the check sees every kind of type, and renaming re-exports', () => {
  const file = join(SRC, 'index.ts')
  const names = exportedNames(file)
  assert.ok(names.includes('CommittedOffset'), 'a re-export under a new name counts as that name')
  assert.ok(!names.includes('Producer'), 'a re-export under its own name belongs to its module')
  const options = exportedNames(join(SRC, 'options', 'schema.ts'))
  for (const name of ['Leaf', 'OptionGroup', 'Spec', 'Format']) assert.ok(options.includes(name), name)
  assert.ok(!options.includes('group'), 'functions are not types')
  assert.ok(exportedNames(join(SRC, 'protocol', 'errors.ts')).includes('KafkaError'), 'classes')
})
