// Commands as they travel in the replication stream: RESP arrays of bulk strings, encoded canonically (the form
// Redis masters send), so a replica can count the bytes of a command it parsed without having kept them.

/** Bytes of `args` encoded as a RESP array of bulk strings. */
export function encodedLength(args: readonly Buffer[]): number {
  let n = 3 + String(args.length).length;
  for (const a of args) n += 5 + String(a.length).length + a.length;
  return n;
}

export function encodeCommand(args: readonly Buffer[]): Buffer {
  const out = Buffer.allocUnsafe(encodedLength(args));
  let p = out.write(`*${args.length}\r\n`, 0, 'latin1');
  for (const a of args) {
    p += out.write(`$${a.length}\r\n`, p, 'latin1');
    p += a.copy(out, p);
    out[p++] = 13;
    out[p++] = 10;
  }
  return out;
}

export function commandOf(...words: (string | number)[]): Buffer[] {
  return words.map((w) => Buffer.from(String(w), 'latin1'));
}
