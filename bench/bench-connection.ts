/**
 * The ingestion bench's client: one kept-alive HTTP/1.1 connection that
 * sends one prepared request at a time and reads each answer by its
 * Content-Length, as load generators such as wrk do. The clients share the
 * machine's two cores with the server they measure, and node:http costs
 * about 200 microseconds of CPU a request (measured: clients at 31-33% of
 * a core against 8-16% for this one, for the same requests).
 */
import { connect } from 'node:net'

import type { Socket } from 'node:net'

interface Pending {
  resolve: (status: number) => void
  reject: (error: Error) => void
}

export class BenchConnection {
  private readonly port: number
  private readonly head: string
  private socket: Socket | undefined
  private pending: Pending | undefined
  private received: Buffer = Buffer.alloc(0)

  /** `headers`: sent with every request, besides Host and Content-Length. */
  constructor(port: number, path: string, headers: Record<string, string>) {
    this.port = port
    const lines = Object.entries(headers).map(
      ([name, value]) => `${name}: ${value}`,
    )
    this.head = [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', ...lines].join(
      '\r\n',
    )
  }

  /** Posts `body`; resolves with the answer's status once it is read whole. */
  post(body: Buffer): Promise<number> {
    if (this.pending !== undefined)
      return Promise.reject(new Error('one request at a time'))

    const socket = this.socket ?? this.open()
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject }
      socket.write(`${this.head}\r\ncontent-length: ${body.length}\r\n\r\n`)
      socket.write(body)
    })
  }

  close(): void {
    this.socket?.end()
    this.socket = undefined
  }

  private open(): Socket {
    const socket = connect(this.port, '127.0.0.1')
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.read(chunk))
    const fail = (error: Error) => {
      this.socket = undefined
      const pending = this.pending
      this.pending = undefined
      pending?.reject(error)
    }
    socket.on('error', fail)
    socket.on('close', () =>
      fail(new Error('the server closed the connection')),
    )
    this.socket = socket

    return socket
  }

  private read(chunk: Buffer): void {
    this.received =
      this.received.length === 0 ? chunk : Buffer.concat([this.received, chunk])
    const headEnd = this.received.indexOf('\r\n\r\n')
    if (headEnd < 0) return

    const head = this.received.subarray(0, headEnd).toString('latin1')
    if (/^transfer-encoding:/im.test(head)) {
      this.socket?.destroy(
        new Error('the bench client reads answers by Content-Length only'),
      )
      return
    }
    const length = Number(/^content-length: *(\d+)/im.exec(head)?.[1] ?? 0)
    if (this.received.length < headEnd + 4 + length) return

    const status = Number(
      head.slice('HTTP/1.1 '.length, 'HTTP/1.1 '.length + 3),
    )
    this.received = this.received.subarray(headEnd + 4 + length)
    const pending = this.pending
    this.pending = undefined
    pending?.resolve(status)
  }
}
