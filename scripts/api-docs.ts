// The API reference: TypeDoc over the public entry point (src/index.ts, settings in typedoc.json).
//
//   npm run docs          writes the HTML reference to docs/api/ (git-ignored)
//   npm run docs:check    writes nothing; fails when an exported symbol (class, interface, function,
//                         type, variable, method) has no doc comment or a link is broken
//
// `npm test` runs the check with the other static checks.

import { Application, PackageJsonReader, TSConfigReader, TypeDocReader } from 'typedoc'

const check = process.argv.includes('--check')
// typedoc.json, package.json and tsconfig, not the command line (--check is ours)
const app = await Application.bootstrapWithPlugins({}, [
  new TypeDocReader(),
  new PackageJsonReader(),
  new TSConfigReader(),
])
const project = await app.convert()
if (!project) {
  process.exitCode = 1
} else {
  if (check) app.validate(project)
  else await app.generateDocs(project, app.options.getValue('out'))
  if (app.logger.hasErrors() || app.logger.hasWarnings()) process.exitCode = 1
  else if (check) console.log('API reference: every exported symbol is documented')
}
