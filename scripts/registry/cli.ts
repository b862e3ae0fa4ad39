// npm run registry:start | registry:stop | registry -- <command>: the schema registry harness from the command line.

import {
  APICURIO_VERSION,
  DEFAULT_REGISTRY_PORT,
  fetchRegistry,
  REGISTRY_PORT,
  registryJava,
  startRegistry,
  stopRegistry,
} from './harness.ts'

const USAGE = `usage: npm run registry -- <command>
  setup     resolve Apicurio Registry ${APICURIO_VERSION} (Maven Central) and check for a Java >= 21
  start     a registry at http://127.0.0.1:${REGISTRY_PORT}/apis/ccompat/v7 (in-memory storage)
  stop      stop it
REGISTRY_PORT moves it (default ${DEFAULT_REGISTRY_PORT}); REGISTRY_JAVA names the java to run it with.`

const [command] = process.argv.slice(2)
switch (command) {
  case 'setup':
    fetchRegistry()
    console.log(`Apicurio Registry ${APICURIO_VERSION} ready to run with ${registryJava()}`)
    break
  case 'start': {
    const { started, url } = await startRegistry()
    console.log(started ? `schema registry started at ${url}` : `schema registry already running at ${url}`)
    break
  }
  case 'stop':
    await stopRegistry()
    break
  default:
    console.error(USAGE)
    process.exit(command ? 2 : 0)
}
