// Start-up replay of journaled commands is not client traffic: with slowlog-log-slower-than 0 from the start,
// the slow log of a restarted server holds none of the replayed commands (as Redis logs nothing while loading
// its AOF), while the data they changed is back.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { RespConnection, nodeText } from '../helpers/resp';
import { ensureBuilt, newDataDir, removeDir, spawnSpool } from './helpers';

let dir = '';
beforeAll(async () => {
  ensureBuilt();
  dir = await newDataDir('slowlog');
}, 120000);
afterAll(async () => {
  if (dir) await removeDir(dir);
});

it('commands replayed after SIGKILL are not in the slow log', async () => {
  const first = await spawnSpool(dir);
  try {
    const conn = await RespConnection.connect(first.port);
    for (let i = 1; i <= 5; i++) await conn.call(['XADD', 's', `${i}-0`, 'f', 'v']);
    // XDEL and XTRIM are journaled as commands, replayed through the dispatcher at start-up.
    expect(nodeText(await conn.call(['XDEL', 's', '1-0']))).toBe('1');
    expect(nodeText(await conn.call(['XTRIM', 's', 'MAXLEN', '2']))).toBe('2');
    conn.close();
  } finally {
    await first.kill('SIGKILL');
  }
  const second = await spawnSpool(dir, ['--slowlog-log-slower-than', '0']);
  try {
    const conn = await RespConnection.connect(second.port);
    expect(nodeText(await conn.call(['SLOWLOG', 'LEN']))).toBe('0');
    expect(nodeText(await conn.call(['XLEN', 's']))).toBe('2');
    // The log does work on this server: SLOWLOG LEN and XLEN were logged.
    expect(nodeText(await conn.call(['SLOWLOG', 'LEN']))).toBe('2');
    conn.close();
  } finally {
    await second.stop();
  }
}, 60000);
