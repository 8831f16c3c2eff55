// A redis-server and an in-process Spool for one test file, each with one connection, started before its tests
// and stopped after them.
import { afterAll, beforeAll } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { RespConnection } from '../helpers/resp';

export interface ServerPair {
  redis: RunningRedis;
  spool: SpoolHandle;
  /** Connections to Redis and to Spool. */
  r: RespConnection;
  s: RespConnection;
}

/** Registers the hooks; the returned object is filled once beforeAll ran. */
export function useServerPair(redisArgs: string[] = []): ServerPair {
  const pair = {} as ServerPair;
  beforeAll(async () => {
    pair.redis = await startRedis(redisArgs);
    pair.spool = await startSpool();
    pair.r = await RespConnection.connect(pair.redis.port);
    pair.s = await RespConnection.connect(pair.spool.port);
  });
  afterAll(async () => {
    pair.r?.close();
    pair.s?.close();
    await pair.spool?.stop();
    await pair.redis?.stop();
  });
  return pair;
}
