// LeakWatch, the fault suite's leak check: it names the sockets and timers a piece of code left
// behind (unref'd ones too) and where they were created, and closes them. It rests on
// async_hooks.createHook, which Bun and Deno do not implement: Node only (scripts/runtimes.ts).

import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer } from 'node:net'
import { describe, it } from 'node:test'
import { FaultProxy } from '../helpers/fault-proxy.ts'
import { LeakWatch } from '../helpers/leaks.ts'
import { waitFor } from '../helpers/wait.ts'

describe('LeakWatch', () => {
  it('names a timer left running and where it was created', async () => {
    const watch = new LeakWatch().start()
    const timer = setTimeout(() => {}, 60_000)
    const report = await watch.stop(100)
    clearTimeout(timer)
    assert.equal(report.leaked.length, 1)
    assert.match(report.leaked[0], /^Timeout created \d+ ms in, .*leaks\.test\.ts/)
  })

  it('closes the sockets it reports, so a leak cannot keep the test process alive', async () => {
    const watch = new LeakWatch().start()
    const server = createServer().listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as { port: number }
    const report = await watch.stop(100)
    assert.equal(report.leaked.length, 1)
    assert.match(report.leaked[0], /^TCPSERVERWRAP created/)
    const refused = connect(port, '127.0.0.1')
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException]
    assert.equal(error.code, 'ECONNREFUSED')
  })

  it('sees nothing left by a fault proxy that closed with a delayed chunk and a connection open', async () => {
    const server = createServer((s) => s.on('error', () => {})).listen(0, '127.0.0.1')
    await once(server, 'listening')
    const watch = new LeakWatch().start()
    const p = await FaultProxy.start({ listenPort: 0, targetPort: (server.address() as { port: number }).port })
    const socket = connect(p.port, '127.0.0.1').on('error', () => {})
    await once(socket, 'connect')
    p.setMode('latency', 1000)
    socket.write('pending')
    await waitFor('the connection', () => p.connectionCount === 1, { timeoutMs: 2000 })
    await p.close()
    socket.destroy()
    const report = await watch.stop()
    server.close()
    assert.deepEqual(report, { leaked: [], unhandledRejections: [], uncaughtExceptions: [] })
  })
})
