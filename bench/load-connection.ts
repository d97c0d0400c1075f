/**
 * The load clients' HTTP/1.1 connection: one keep-alive socket, one request at a time, requests
 * written as bytes and responses read by their Content-Length. The clients share this machine's
 * two cores with the server they measure, so what they cost is taken from the server: Node's
 * http client spent 0.25–0.40 ms of CPU per request here, this 0.08–0.14 ms (same server, same
 * minutes), the way wrk-style load generators keep out of the measurement. It speaks only what
 * `llm2vec serve` answers with (a status line, headers, a Content-Length body); anything else
 * rejects the request, which the load test counts as failed.
 */
import * as net from "node:net";

export interface LoadResponse {
  status: number;
  text: string;
}

export class LoadConnection {
  private readonly sock: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private pending: { resolve: (r: LoadResponse) => void; reject: (e: Error) => void } | null = null;
  private closed: Error | null = null;

  constructor(port: number, host = "127.0.0.1") {
    this.sock = net.connect(port, host);
    this.sock.setNoDelay(true);
    this.sock.on("data", (c: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, c]) : c;
      this.parse();
    });
    const fail = (e: Error) => {
      this.closed = e;
      const p = this.pending;
      this.pending = null;
      p?.reject(e);
    };
    this.sock.on("error", fail);
    this.sock.on("close", () => fail(new Error("connection closed by the server")));
  }

  /** False once the socket has closed or failed (a client then opens a new connection). */
  get isOpen(): boolean {
    return this.closed === null;
  }

  /** Sends one request (the previous one must have been answered) and resolves with its response. */
  request(method: string, path: string, body?: string): Promise<LoadResponse> {
    if (this.pending) return Promise.reject(new Error("LoadConnection: one request at a time"));
    if (this.closed) return Promise.reject(this.closed);
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      const payload = body === undefined ? null : Buffer.from(body, "utf8");
      const headers = payload ? `content-type: application/json\r\ncontent-length: ${payload.length}\r\n` : "";
      this.sock.write(`${method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}\r\n`);
      if (payload) this.sock.write(payload);
    });
  }

  close(): void {
    this.sock.destroy();
  }

  private parse(): void {
    if (!this.pending) return;
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = this.buf.toString("latin1", 0, end);
    const status = Number(head.slice(9, 12));
    const len = /\r\ncontent-length: *(\d+)/i.exec(head);
    const p = this.pending;
    if (!head.startsWith("HTTP/1.1 ") || !len) {
      this.pending = null;
      p.reject(new Error(`unexpected response head: ${JSON.stringify(head.slice(0, 120))}`));
      this.sock.destroy();
      return;
    }
    const bodyEnd = end + 4 + Number(len[1]);
    if (this.buf.length < bodyEnd) return;
    const text = this.buf.toString("utf8", end + 4, bodyEnd);
    this.buf = this.buf.subarray(bodyEnd);
    this.pending = null;
    p.resolve({ status, text });
  }
}
