// One in-process Spool per test file with one raw RESP connection, emptied (FLUSHALL) before each test: the
// set-up of the suites that check documented replies byte for byte (the Redis 8 commands, which no local Redis has).
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { RespConnection, type Arg, type RespNode } from './resp';
import { startSpool, type SpoolHandle } from './spool';

export interface RawSpool {
  /** The connection (valid inside tests and hooks registered after useRawSpool()). */
  readonly conn: RespConnection;
  /** Sends one command and returns its reply node. */
  call(...args: Arg[]): Promise<RespNode>;
  /** Sends one command and returns its reply's bytes as latin1 text. */
  raw(...args: Arg[]): Promise<string>;
}

export function useRawSpool(options: Record<string, string> = {}): RawSpool {
  let spool: SpoolHandle | undefined;
  let conn: RespConnection | undefined;
  beforeAll(async () => {
    spool = await startSpool(options);
    conn = await RespConnection.connect(spool.port);
  });
  afterAll(async () => {
    conn?.close();
    await spool?.stop();
  });
  beforeEach(async () => {
    await conn!.call(['FLUSHALL']);
  });
  return {
    get conn() {
      return conn!;
    },
    call: (...args) => conn!.call(args),
    raw: async (...args) => (await conn!.call(args)).bytes.toString('latin1'),
  };
}
