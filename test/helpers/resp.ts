// A raw RESP client for the differential and protocol tests: it sends bytes exactly as given and hands back
// the exact bytes of each reply. Replies are parsed only far enough to know where each one ends (RESP2 and
// RESP3 types), into a tree that the masking helpers can edit before the bytes are compared.
import net from 'node:net';

export type Arg = string | Buffer;

export interface RespNode {
  /** The type byte: + - : $ * _ , # ! = ( % ~ > | */
  type: string;
  /** The whole reply's bytes, children included. */
  bytes: Buffer;
  /** The first line, CRLF included. */
  header: Buffer;
  /** Elements of * ~ > (n), % (2n: key, value, ...), | (2n attribute pairs, then the value it annotates). */
  children?: RespNode[];
  /** Set by masking: the node then serialises as `<type>#masked#\r\n`, keeping its type but not its value. */
  masked?: boolean;
  /** Set by sorting maskers: children were reordered, so serialise from them. */
  reordered?: boolean;
}

const AGGREGATES = new Set(['*', '%', '~', '>', '|']);
const BLOBS = new Set(['$', '!', '=']);
const LINES = new Set(['+', '-', ':', '_', ',', '#', '(']);

export class RespFormatError extends Error {}

/** Parses one reply starting at `off`; returns null when the buffer does not yet hold all of it. */
export function parseReply(buf: Buffer, off = 0): { node: RespNode; end: number } | null {
  if (off >= buf.length) return null;
  const nl = buf.indexOf('\r\n', off, 'latin1');
  if (nl < 0) return null;
  const type = String.fromCharCode(buf[off]!);
  const header = buf.subarray(off, nl + 2);
  const line = buf.toString('latin1', off + 1, nl);
  let pos = nl + 2;
  if (LINES.has(type)) return { node: { type, bytes: header, header }, end: pos };
  if (BLOBS.has(type)) {
    const len = Number(line);
    if (!Number.isInteger(len)) throw new RespFormatError(`bad length in ${JSON.stringify(header.toString('latin1'))}`);
    if (len < 0) return { node: { type, bytes: header, header }, end: pos };
    if (buf.length < pos + len + 2) return null;
    const end = pos + len + 2;
    return { node: { type, bytes: buf.subarray(off, end), header }, end };
  }
  if (AGGREGATES.has(type)) {
    const n = Number(line);
    if (!Number.isInteger(n)) throw new RespFormatError(`bad count in ${JSON.stringify(header.toString('latin1'))}`);
    if (n < 0) return { node: { type, bytes: header, header }, end: pos };
    const count = type === '%' || type === '|' ? 2 * n : n;
    const children: RespNode[] = [];
    for (let i = 0; i < count; i++) {
      const r = parseReply(buf, pos);
      if (!r) return null;
      children.push(r.node);
      pos = r.end;
    }
    if (type === '|') {
      // An attribute annotates the reply that follows it: both form one reply.
      const r = parseReply(buf, pos);
      if (!r) return null;
      children.push(r.node);
      pos = r.end;
    }
    return { node: { type, bytes: buf.subarray(off, pos), header, children }, end: pos };
  }
  throw new RespFormatError(`unknown reply type byte 0x${buf[off]!.toString(16)} in ${escapeBytes(buf.subarray(off, off + 40))}`);
}

/** The node's bytes after masking. */
export function serialize(node: RespNode): Buffer {
  if (node.masked) return Buffer.from(`${node.type}#masked#\r\n`, 'latin1');
  if (!node.children) return node.bytes;
  if (!hasMasked(node)) return node.bytes;
  return Buffer.concat([node.header, ...node.children.map(serialize)]);
}

function hasMasked(node: RespNode): boolean {
  return !!node.masked || !!node.reordered || !!node.children?.some(hasMasked);
}

/** The text of a string-like node (simple, bulk, verbatim, error, number lines), or null. */
export function nodeText(node: RespNode): string | null {
  if (node.masked) return null;
  if (BLOBS.has(node.type)) {
    if (node.bytes.length === node.header.length) return null; // null bulk
    let s = node.bytes.toString('latin1', node.header.length, node.bytes.length - 2);
    if (node.type === '=') s = s.slice(4); // verbatim: "txt:" prefix
    return s;
  }
  if (LINES.has(node.type)) return node.header.toString('latin1', 1, node.header.length - 2);
  return null;
}

/** Renders bytes readably: CR and LF as \r \n, other control and high bytes as \xNN. */
export function escapeBytes(buf: Buffer): string {
  let out = '';
  for (const b of buf) {
    if (b === 0x0d) out += '\\r';
    else if (b === 0x0a) out += '\\n';
    else if (b === 0x5c) out += '\\\\';
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return out;
}

export function encodeCommand(args: readonly Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'utf8') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

interface Waiter {
  count: number;
  resolve: (nodes: RespNode[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** One TCP connection that sends raw bytes and collects whole replies in order. */
export class RespConnection {
  private buf: Buffer = Buffer.alloc(0);
  private readonly replies: RespNode[] = [];
  private waiter: Waiter | null = null;
  private closedFlag = false;
  private parseError: Error | null = null;
  readonly closed: Promise<void>;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.closedFlag = true;
        this.settle();
        resolve();
      });
    });
    socket.on('error', () => {
      /* surfaces as 'close' */
    });
    socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this.drain();
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RespConnection(socket));
      });
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Bytes received that do not (yet) form a whole reply. */
  get pendingBytes(): Buffer {
    return this.buf;
  }

  send(data: Buffer | string): void {
    if (this.closedFlag) return;
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  sendCommand(args: readonly Arg[]): void {
    this.send(encodeCommand(args));
  }

  /** Sends one command and waits for its reply. */
  async call(args: readonly Arg[], timeoutMs = 10000): Promise<RespNode> {
    this.sendCommand(args);
    return (await this.read(1, timeoutMs))[0]!;
  }

  /** Waits for the next `count` replies. Rejects on timeout or when the connection closes first. */
  read(count: number, timeoutMs = 10000): Promise<RespNode[]> {
    if (this.waiter) return Promise.reject(new Error('read() already pending'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        const got = this.replies.length;
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${count} replies (have ${got}, partial bytes: ` +
              `${escapeBytes(this.buf.subarray(0, 200))})`,
          ),
        );
      }, timeoutMs);
      this.waiter = { count, resolve, reject, timer };
      this.settle();
    });
  }

  /** Takes whatever whole replies have arrived, without waiting. */
  take(): RespNode[] {
    return this.replies.splice(0);
  }

  /** Waits until the peer closes the connection; resolves false if it is still open after timeoutMs. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.closedFlag) return true;
    let timer: NodeJS.Timeout | undefined;
    const t = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    const res = await Promise.race([this.closed.then(() => true), t]);
    clearTimeout(timer);
    return res;
  }

  close(): void {
    this.socket.destroy();
  }

  private drain(): void {
    let off = 0;
    try {
      for (;;) {
        const r = parseReply(this.buf, off);
        if (!r) break;
        // Copy: the node must not pin or alias the receive buffer once it is trimmed.
        this.replies.push(copyNode(r.node));
        off = r.end;
      }
    } catch (err) {
      this.parseError = err as Error;
    }
    if (off > 0) this.buf = Buffer.from(this.buf.subarray(off));
    this.settle();
  }

  private settle(): void {
    const w = this.waiter;
    if (!w) return;
    if (this.parseError) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.reject(this.parseError);
    } else if (this.replies.length >= w.count) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.resolve(this.replies.splice(0, w.count));
    } else if (this.closedFlag) {
      this.waiter = null;
      clearTimeout(w.timer);
      const got = this.replies.splice(0);
      const err = new Error(
        `connection closed after ${got.length} of ${w.count} replies: ` +
          `${got.map((n) => escapeBytes(n.bytes)).join(' | ')}${this.buf.length ? ` + partial ${escapeBytes(this.buf)}` : ''}`,
      ) as Error & { replies: RespNode[] };
      err.replies = got;
      w.reject(err);
    }
  }
}

function copyNode(n: RespNode): RespNode {
  const bytes = Buffer.from(n.bytes);
  const rebase = (m: RespNode, base: Buffer, baseOff: number): RespNode => {
    const start = m.bytes.byteOffset - baseOff;
    const out: RespNode = {
      type: m.type,
      bytes: base.subarray(start, start + m.bytes.length),
      header: base.subarray(start, start + m.header.length),
    };
    if (m.children) out.children = m.children.map((c) => rebase(c, base, baseOff));
    return out;
  };
  return rebase(n, bytes, n.bytes.byteOffset);
}
