// A view of request bytes that is a Buffer in every way (instanceof Buffer, Buffer methods) but is made with
// one plain constructor call. Buffer#subarray goes through the typed-array species lookup and Node's checks:
// measured here 40-50 ns a view against 16-28 ns, paid for every argument of every request.

class ArgView extends Uint8Array {}
Object.setPrototypeOf(ArgView.prototype, Buffer.prototype);

/** bytes[start, end) as a Buffer sharing their memory. */
export function argView(bytes: Buffer, start: number, end: number): Buffer {
  return new ArgView(bytes.buffer as ArrayBuffer, bytes.byteOffset + start, end - start) as unknown as Buffer;
}
