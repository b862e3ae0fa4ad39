// The fault-injecting proxy and its seeded schedule (test helpers the fault suite relies on), against
// a local TCP server that records what reaches it and answers every chunk with an echo.

import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { FaultProxy } from '../helpers/fault-proxy.ts'
import { describeFaults, FAULT_KINDS, planFaults, runFaults } from '../helpers/fault-schedule.ts'
import { prng } from '../helpers/prng.ts'
import { sleep, waitFor } from '../helpers/wait.ts'

/** An echo server that keeps every chunk it read (per connection) and every connection's end. */
function echoServer() {
  const reads: Buffer[][] = []
  const ended: boolean[] = []
  const server: Server = createServer((socket) => {
    const mine: Buffer[] = []
    const index = reads.push(mine) - 1
    ended[index] = false
    socket.on('data', (chunk) => {
      mine.push(chunk)
      socket.write(chunk)
    })
    socket.on('end', () => {
      ended[index] = true
    })
    socket.on('error', () => {})
  })
  return { server, reads, ended }
}

/** A client through the proxy that collects what comes back. */
async function client(port: number) {
  const socket: Socket = connect(port, '127.0.0.1')
  const received: Buffer[] = []
  const errors: NodeJS.ErrnoException[] = []
  socket.on('data', (c) => received.push(c))
  socket.on('error', (e) => errors.push(e))
  await once(socket, 'connect')
  return { socket, received, errors, bytes: () => Buffer.concat(received) }
}

describe('FaultProxy', () => {
  const echo = echoServer()
  let proxy: FaultProxy
  let upstream: number

  before(async () => {
    echo.server.listen(0, '127.0.0.1')
    await once(echo.server, 'listening')
    upstream = (echo.server.address() as { port: number }).port
    proxy = await FaultProxy.start({ listenPort: 0, targetPort: upstream, random: prng(42) })
  })
  after(async () => {
    await proxy.close()
    echo.server.close()
  })

  it('forwards bytes both ways unchanged', async () => {
    const c = await client(proxy.port)
    const data = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i % 251))
    c.socket.write(data)
    await waitFor('the echo', () => c.bytes().length === data.length, { timeoutMs: 5000 })
    assert.deepEqual(c.bytes(), data)
    c.socket.destroy()
  })

  it('holds everything in a black hole, then delivers it in order, even from a client that left meanwhile', async () => {
    const c = await client(proxy.port)
    await waitFor('the upstream connection', () => echo.reads.length === proxy.stats.connections, { timeoutMs: 2000 })
    const reads = echo.reads[echo.reads.length - 1]
    proxy.setMode('hold')
    c.socket.write('one,')
    c.socket.write('two')
    await sleep(100)
    assert.equal(reads.length, 0, 'nothing passed the black hole')
    assert.equal(c.received.length, 0)
    c.socket.end()
    await sleep(50)
    const index = echo.reads.indexOf(reads)
    assert.equal(echo.ended[index], false, 'not even the end passed the black hole')
    proxy.setMode('pass')
    await waitFor('the held bytes and the end to reach the server', () => echo.ended[index], { timeoutMs: 2000 })
    assert.equal(Buffer.concat(reads).toString(), 'one,two')
  })

  it('holds a bare end in a black hole too', async () => {
    const c = await client(proxy.port)
    await waitFor('the upstream connection', () => echo.reads.length === proxy.stats.connections, { timeoutMs: 2000 })
    const index = echo.reads.length - 1
    proxy.setMode('hold')
    c.socket.end()
    await sleep(100)
    assert.equal(echo.ended[index], false, 'the end passed the black hole')
    proxy.setMode('pass')
    await waitFor('the end to reach the server', () => echo.ended[index], { timeoutMs: 2000 })
  })

  it('trickles bytes in fragments of 1 to 7 bytes', async () => {
    const c = await client(proxy.port)
    proxy.setMode('trickle')
    const data = Buffer.alloc(700, 'x')
    c.socket.write(data)
    await waitFor('the trickled echo', () => c.bytes().length === data.length, { timeoutMs: 10_000 })
    proxy.setMode('pass')
    const reads = echo.reads[echo.reads.length - 1]
    assert.equal(Buffer.concat(reads).length, 700)
    // one write of 700 bytes, read in many pieces: fragments merge only when several arrive between
    // two reads of the server, which happens more on some runtimes' event loops than on Node's
    assert.ok(reads.length >= 25, `only ${reads.length} reads: ${reads.map((r) => r.length)}`)
    assert.ok(
      reads.some((r) => r.length <= 7),
      `no read of a single fragment: ${reads.map((r) => r.length)}`,
    )
    c.socket.destroy()
  })

  it('delays every chunk by the latency', async () => {
    const c = await client(proxy.port)
    proxy.setMode('latency', 150)
    const started = Date.now()
    c.socket.write('ping')
    await waitFor('the delayed echo', () => c.bytes().length === 4, { timeoutMs: 2000 })
    // once to the server, once back
    assert.ok(Date.now() - started >= 2 * 150 - 5, `echo after ${Date.now() - started} ms`)
    proxy.setMode('pass')
    c.socket.destroy()
  })

  it('resets every connection with an RST', async () => {
    const a = await client(proxy.port)
    const b = await client(proxy.port)
    await waitFor('two connections', () => proxy.connectionCount >= 2, { timeoutMs: 2000 })
    const resets = proxy.stats.resets
    assert.ok(proxy.resetAll() >= 2)
    await waitFor('both clients to fail', () => a.errors.length > 0 && b.errors.length > 0, { timeoutMs: 2000 })
    assert.equal(a.errors[0].code, 'ECONNRESET')
    assert.equal(b.errors[0].code, 'ECONNRESET')
    assert.ok(proxy.stats.resets >= resets + 2)
  })

  it('refuses connections until it accepts again', async () => {
    proxy.refuse()
    const refused = connect(proxy.port, '127.0.0.1')
    const [error] = (await once(refused, 'error')) as [NodeJS.ErrnoException]
    assert.equal(error.code, 'ECONNREFUSED')
    await proxy.accept()
    const c = await client(proxy.port)
    c.socket.write('back')
    await waitFor('the echo after accepting again', () => c.bytes().toString() === 'back', { timeoutMs: 2000 })
    c.socket.destroy()
  })

  it('resets a client whose broker side cannot be opened', async () => {
    const down = await FaultProxy.start({ listenPort: 0, targetPort: 1 })
    try {
      const c = await client(down.port)
      await waitFor('the client to be dropped', () => c.socket.destroyed, { timeoutMs: 2000 })
      assert.equal(down.stats.upstreamFailures, 1)
    } finally {
      await down.close()
    }
  })
})

describe('fault schedules', () => {
  const options = { durationMs: 30_000, weights: { reset: 1, blackhole: 1, latency: 1, trickle: 1, refuse: 1 } }

  it('are the same for the same seed and differ between seeds', () => {
    assert.deepEqual(planFaults(prng(7), options), planFaults(prng(7), options))
    assert.notDeepEqual(planFaults(prng(7), options), planFaults(prng(8), options))
  })

  it('fit their duration, with only the kinds weighted, and restarts bounded', () => {
    for (let seed = 0; seed < 50; seed++) {
      const faults = planFaults(prng(seed), { ...options, weights: { ...options.weights, restart: 5 }, maxRestarts: 1 })
      const total = faults.reduce((t, f) => t + f.afterMs + (f.kind === 'restart' ? 15_000 : f.durationMs), 0)
      assert.ok(total <= 30_000, `seed ${seed}: ${total} ms`)
      assert.ok(faults.filter((f) => f.kind === 'restart').length <= 1)
      assert.ok(faults.every((f) => FAULT_KINDS.includes(f.kind)))
    }
    assert.ok(planFaults(prng(1), { durationMs: 60_000, weights: { reset: 1 } }).every((f) => f.kind === 'reset'))
  })

  it('have every included kind, even past their duration', () => {
    const faults = planFaults(prng(3), { durationMs: 0, weights: options.weights, include: ['latency', 'trickle'] })
    assert.deepEqual(faults.map((f) => f.kind).sort(), ['latency', 'trickle'])
    assert.match(describeFaults(3, faults), /FAULT_SEED=3\), 2 faults:\n.*\n.*/)
  })

  it('run against a proxy: each fault counted, the proxy forwarding again at the end', async () => {
    const proxy = await FaultProxy.start({ listenPort: 0, targetPort: 1 })
    try {
      const faults = planFaults(prng(5), {
        durationMs: 0,
        weights: options.weights,
        include: ['reset', 'blackhole', 'latency', 'trickle', 'refuse'],
        gapMs: [0, 10],
        blackholeMs: [10, 20],
      }).map((f) => ({ ...f, durationMs: Math.min(f.durationMs, 20) }))
      const modes: string[] = []
      const counts = await runFaults(proxy, faults, { log: () => modes.push(proxy.mode) })
      assert.deepEqual(counts, { reset: 1, blackhole: 1, latency: 1, trickle: 1, refuse: 1, restart: 0 })
      assert.equal(proxy.mode, 'pass')
      await assert.rejects(
        runFaults(proxy, [{ afterMs: 0, kind: 'restart', durationMs: 0 }]),
        /needs a restart function/,
      )
    } finally {
      await proxy.close()
    }
  })
})
