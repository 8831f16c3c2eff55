import { describe, expect, it } from 'vitest';
import { crc32c } from '@node-rs/crc32';
import {
  decodeAt, decodeEntry, DecodeStatus, encodeEntryInto, encodeRecord, entryRecordSize, FLAG_BATCH_CONTINUES,
  HEADER_SIZE, RecordType, RecordView, recordChecksum,
} from '../../src/storage/recordCodec';

const args = [Buffer.from('XADD'), Buffer.from('s'), Buffer.from('*'), Buffer.from('field'), Buffer.from('value'), Buffer.from(''), Buffer.from([0, 255, 13, 10])];

describe('recordCodec', () => {
  it('JS CRC of type+flags chained into native CRC32C equals CRC32C of the bytes', () => {
    for (const [t, f] of [[1, 0], [32, 1], [255, 255], [0, 0]]) {
      const payload = Buffer.from('payload bytes');
      expect(recordChecksum(t, f, payload)).toBe(crc32c(Buffer.concat([Buffer.from([t, f]), payload])) >>> 0);
    }
  });

  it('the JS checksum of small payloads equals the native CRC32C, at every length around the switch-over', () => {
    const bytes = Buffer.alloc(600);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
    for (let len = 0; len <= 600; len += len < 300 ? 1 : 37) {
      for (const [t, f] of [[1, 0], [33, 1]]) {
        const payload = bytes.subarray(600 - len);
        expect(recordChecksum(t, f, payload), `length ${len}`).toBe(crc32c(Buffer.concat([Buffer.from([t, f]), payload])) >>> 0);
      }
    }
  });

  it('round-trips an ENTRY encoded straight from argument buffers at an offset', () => {
    const size = entryRecordSize(args, 3);
    const target = Buffer.alloc(size + 100, 0xaa);
    const n = encodeEntryInto(target, 37, 1700000000000n, 18446744073709551615n, args, 3, args.length, FLAG_BATCH_CONTINUES);
    expect(n).toBe(size);
    const v = new RecordView();
    expect(decodeAt(target, 37, 37 + n, v)).toBe(DecodeStatus.OK);
    expect(v.type).toBe(RecordType.ENTRY);
    expect(v.flags).toBe(FLAG_BATCH_CONTINUES);
    expect(v.size).toBe(n);
    const e = decodeEntry(target.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength));
    expect(e.ms).toBe(1700000000000n);
    expect(e.seq).toBe(18446744073709551615n);
    expect(e.items.map((b) => b.toString('hex'))).toEqual(args.slice(3).map((b) => b.toString('hex')));
    expect(target[36]).toBe(0xaa);
    expect(target[37 + n]).toBe(0xaa);
  });

  it('round-trips generic records, including an empty payload', () => {
    for (const [type, payload] of [[RecordType.DELETE, Buffer.from('ids')], [RecordType.CHECKPOINT, Buffer.alloc(0)], [RecordType.CLAIM, Buffer.alloc(5000, 7)]] as const) {
      const rec = encodeRecord(type, 0, payload);
      const v = new RecordView();
      expect(decodeAt(rec, 0, rec.length, v)).toBe(DecodeStatus.OK);
      expect(v.type).toBe(type);
      expect(rec.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength).equals(payload)).toBe(true);
    }
  });

  it('detects every single-bit flip of a record', () => {
    const target = Buffer.alloc(entryRecordSize(args));
    encodeEntryInto(target, 0, 5n, 6n, args);
    const v = new RecordView();
    for (let bit = 0; bit < target.length * 8; bit++) {
      const b = Buffer.from(target);
      b[bit >> 3] ^= 1 << (bit & 7);
      expect(decodeAt(b, 0, b.length, v), `bit ${bit}`).not.toBe(DecodeStatus.OK);
    }
  });

  it('tells zero-filled reserve from a truncated record', () => {
    const v = new RecordView();
    expect(decodeAt(Buffer.alloc(64), 0, 64, v)).toBe(DecodeStatus.ZERO);
    expect(decodeAt(Buffer.alloc(4), 0, 4, v)).toBe(DecodeStatus.ZERO);
    const rec = encodeRecord(RecordType.ACK, 0, Buffer.alloc(100, 1));
    expect(decodeAt(rec, 0, rec.length - 1, v)).toBe(DecodeStatus.TRUNCATED);
    expect(decodeAt(rec, 0, HEADER_SIZE - 2, v)).toBe(DecodeStatus.TRUNCATED);
  });
});
