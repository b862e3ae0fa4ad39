// The API reference: TypeDoc over the public entry point (src/index.ts, settings in typedoc.json).
//
//   npm run docs          writes the HTML reference to docs/api/ (git-ignored)
//   npm run docs:check    writes nothing; fails when an exported symbol (class, interface, function,
//                         type, variable, method) has no doc comment or a link is broken
//
// `npm test` runs the check with the other static checks.

import { Application, PackageJsonReader, TSConfigReader, TypeDocReader } from 'typedoc'

/**
 * Symbols whose doc comments are still to be written, in files being reworked on other branches
 * (src/consumer/fetcher.ts). The check fails once one of them is documented, so this
 * list only shrinks: remove the name then.
 */
const PENDING = ['FetcherOptions', 'SeekTarget']

const check = process.argv.includes('--check')
// typedoc.json, package.json and tsconfig, not the command line (--check is ours)
const app = await Application.bootstrapWithPlugins({}, [
  new TypeDocReader(),
  new PackageJsonReader(),
  new TSConfigReader(),
])
const undocumented = /^(\S+) \(\w+\), defined in .* does not have any documentation$/
const waived = new Set<string>()
const logger = app.logger as unknown as { validationWarning: (text: string, ...rest: unknown[]) => void }
const warn = logger.validationWarning.bind(logger)
logger.validationWarning = (text, ...rest) => {
  const name = undocumented.exec(text)?.[1]
  if (name && PENDING.includes(name)) waived.add(name)
  else warn(text, ...rest)
}

const project = await app.convert()
if (!project) {
  process.exitCode = 1
} else {
  if (check) app.validate(project)
  else await app.generateDocs(project, app.options.getValue('out'))
  const documented = PENDING.filter((name) => !waived.has(name))
  if (check && documented.length > 0) {
    app.logger.error(`now documented, remove from PENDING in scripts/api-docs.ts: ${documented.join(', ')}`)
  }
  if (app.logger.hasErrors() || app.logger.hasWarnings()) process.exitCode = 1
  else if (check)
    console.log(
      `API reference: every exported symbol is documented (${waived.size} pending: ${[...waived].join(', ')})`,
    )
}
