import { describe, it, expect, vi, beforeEach } from 'vitest';
vi.mock('../../src/streams/stream', () => import('../streams/fakeStream'));
import { streamGroupCommands } from '../../src/commands/streamGroups';
import { streamInfoCommands } from '../../src/commands/streamInfo';
import { Harness, bulk, int, arr, entry, err, OK, NULL_BULK, NULL_ARRAY, map3 } from './harness';

let h: Harness;
beforeEach(() => {
  h = new Harness([...streamGroupCommands, ...streamInfoCommands]);
});

describe('XGROUP', () => {
  it('CREATE: key required unless MKSTREAM, BUSYGROUP, $ and ENTRIESREAD', () => {
    expect(h.run('XGROUP', 'CREATE', 's', 'g', '$')).toBe(
      err('ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.'),
    );
    expect(h.run('XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM')).toBe(OK);
    expect(h.db.has('s')).toBe(true);
    expect(h.run('XGROUP', 'CREATE', 's', 'g', '$')).toBe(err('BUSYGROUP Consumer Group name already exists'));
    expect(h.run('xgroup', 'create', 's', 'g2', '0', 'entriesread', '-5')).toBe(err('ERR value for ENTRIESREAD must be positive or -1'));
    expect(h.run('xgroup', 'create', 's', 'g2', '0', 'entriesread', 'x')).toBe(err('ERR value is not an integer or out of range'));
    expect(h.run('xgroup', 'create', 's', 'g2', '0', 'foo')).toBe(
      err("ERR unknown subcommand or wrong number of arguments for 'create'. Try XGROUP HELP."),
    );
    expect(h.run('xgroup', 'create', 's', 'g4', '0', 'entriesread', '1', 'entriesread', '2')).toBe(
      err("ERR unknown subcommand or wrong number of arguments for 'create'. Try XGROUP HELP."),
    );
    expect(h.run('xgroup', 'create', 's', 'g5', '-')).toBe(err('ERR Invalid stream ID specified as stream command argument'));
    expect(h.run('XGROUP', 'CREATE', 's', 'g2', '0', 'ENTRIESREAD', '2', 'MKSTREAM')).toBe(OK);
    expect(h.run('xgroup', 'create', 's')).toBe(err("ERR wrong number of arguments for 'xgroup|create' command"));
    expect(h.run('xgroup', 'foo', 's', 'g')).toBe(err("ERR unknown subcommand 'foo'. Try XGROUP HELP."));
  });

  it('SETID, CREATECONSUMER, DELCONSUMER, DESTROY', () => {
    h.add('s', '1-1');
    expect(h.run('xgroup', 'setid', 's', 'nog', '0')).toBe(err("NOGROUP No such consumer group 'nog' for key name 's'"));
    expect(h.run('xgroup', 'create', 's', 'g', '0')).toBe(OK);
    expect(h.run('xgroup', 'setid', 's', 'g', '+')).toBe(OK);
    expect(h.run('xgroup', 'setid', 's', 'g', '(1')).toBe(err('ERR Invalid stream ID specified as stream command argument'));
    expect(h.run('xgroup', 'setid', 's', 'g', '0', 'mkstream')).toBe(
      err("ERR unknown subcommand or wrong number of arguments for 'setid'. Try XGROUP HELP."),
    );
    expect(h.run('xgroup', 'setid', 's', 'g', '$', 'entriesread', '3')).toBe(OK);
    expect(h.run('xgroup', 'createconsumer', 's', 'g', 'c')).toBe(int(1));
    expect(h.run('xgroup', 'createconsumer', 's', 'g', 'c')).toBe(int(0));
    expect(h.run('xgroup', 'delconsumer', 's', 'g', 'nope')).toBe(int(0));
    expect(h.run('xgroup', 'delconsumer', 's', 'g', 'c')).toBe(int(0));
    h.signalled.length = 0;
    expect(h.run('xgroup', 'destroy', 's', 'g')).toBe(int(1));
    expect(h.signalled).toEqual(['s']);
    expect(h.run('xgroup', 'destroy', 's', 'g')).toBe(int(0));
    expect(h.run('xgroup', 'destroy', 'nokey', 'g')).toBe(
      err('ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.'),
    );
  });

  it('HELP text', () => {
    const r = h.run('xgroup', 'help');
    expect(r.startsWith('*17\r\n+XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n+CREATE <key> <groupname> <id|$> [option]\r\n')).toBe(true);
    expect(r.endsWith('+HELP\r\n+    Prints this help.\r\n')).toBe(true);
    expect(h.run('xgroup', 'help', 'x')).toBe(err("ERR wrong number of arguments for 'xgroup|help' command"));
  });
});

describe('XREADGROUP', () => {
  beforeEach(() => {
    h.add('s', '1-1');
    h.add('s', '2-1');
    h.run('xgroup', 'create', 's', 'g', '0');
  });

  it('delivers new entries, then history, then nothing', () => {
    expect(h.run('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', 's', '>')).toBe(
      arr(arr(bulk('s'), arr(entry('1-1', 'f', 'v')))),
    );
    expect(h.run('XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 's', '>')).toBe(arr(arr(bulk('s'), arr(entry('2-1', 'f', 'v')))));
    expect(h.run('XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 's', '>')).toBe(NULL_ARRAY);
    expect(h.run('XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 's', '0')).toBe(
      arr(arr(bulk('s'), arr(entry('1-1', 'f', 'v'), entry('2-1', 'f', 'v')))),
    );
    // History counts deliveries; deleted entries show null fields.
    h.del('s', '1-1');
    expect(h.run('XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 's', '0')).toBe(
      arr(arr(bulk('s'), arr(arr(bulk('1-1'), NULL_ARRAY), entry('2-1', 'f', 'v')))),
    );
    expect(h.run('XPENDING', 's', 'g', '-', '+', '10')).toBe(
      arr(arr(bulk('1-1'), bulk('c1'), int(0), int(2)), arr(bulk('2-1'), bulk('c1'), int(0), int(3))),
    );
    // Another consumer has no history.
    expect(h.run('XREADGROUP', 'GROUP', 'g', 'c2', 'STREAMS', 's', '0')).toBe(arr(arr(bulk('s'), arr())));
  });

  it('NOACK leaves the PEL empty; RESP3 replies with a map', () => {
    h.protocol = 3;
    expect(h.run('XREADGROUP', 'GROUP', 'g', 'c', 'NOACK', 'STREAMS', 's', '>')).toBe(
      map3(bulk('s'), arr(entry('1-1', 'f', 'v'), entry('2-1', 'f', 'v'))),
    );
    expect(h.run('XPENDING', 's', 'g')).toBe(arr(int(0), '_\r\n', '_\r\n', '_\r\n'));
  });

  it('does not serve > when only a deleted entry is past the group (sync path uses the last live entry)', () => {
    h.run('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', 's', '>');
    h.del('s', '2-1');
    expect(h.run('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>')).toBe(NULL_ARRAY);
  });

  it('argument errors', () => {
    const x = (...a: string[]) => h.run('XREADGROUP', ...a);
    expect(x('GROUP', 'g', 'c', 'STREAMS', 's', '$')).toBe(
      err('ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.'),
    );
    expect(x('GROUP', 'g', 'c', 'STREAMS', 's', '+')).toBe(err('ERR Invalid stream ID specified as stream command argument'));
    expect(x('GROUP', 'g', 'c', 'STREAMS', 'nokey', '>')).toBe(
      err("NOGROUP No such key 'nokey' or consumer group 'g' in XREADGROUP with GROUP option"),
    );
    expect(x('GROUP', 'g', 'c', 'STREAMS', 's', 's', '>')).toBe(
      err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."),
    );
    expect(x('GROUP', 'g', 'c', 'BLOCK', 'x', 'STREAMS', 's', '>')).toBe(err('ERR timeout is not an integer or out of range'));
    expect(x('GROUP', 'g', 'c', 'BLOCK', '-1', 'STREAMS', 's', '>')).toBe(err('ERR timeout is negative'));
    expect(x('GROUP', 'g', 'c', 'foo', 'STREAMS', 's', '>')).toBe(err('ERR syntax error'));
    expect(x('COUNT', '1', 'NOACK', 'STREAMS', 's', '>')).toBe(err('ERR Missing GROUP option for XREADGROUP'));
    expect(x('GROUP', 'g', 'c', 'COUNT', 'x', 'STREAMS', 's', '>')).toBe(err('ERR value is not an integer or out of range'));
    expect(x('GROUP', 'g', 'c', 'STREAMS', 's')).toBe(err("ERR wrong number of arguments for 'xreadgroup' command"));
  });

  it('creates the consumer only when it serves something', () => {
    h.run('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>');
    expect(h.run('XREADGROUP', 'GROUP', 'g', 'other', 'STREAMS', 's', '>')).toBe(NULL_ARRAY);
    expect(h.run('XINFO', 'GROUPS', 's')).toContain(bulk('consumers') + int(1));
  });

  it('blocks, serves on new data, errors when the key or the group goes away', () => {
    h.run('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>');
    expect(h.run('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 's', '>')).toBe('');
    expect(h.blocked!.keys).toEqual(['s']);
    expect(h.blocked!.timeoutMs).toBe(0);
    expect(h.wake('s')).toBeNull();
    h.add('s', '3-1');
    expect(h.wake('s')).toBe(arr(arr(bulk('s'), arr(entry('3-1', 'f', 'v')))));
    // XADD then XDEL before the wake-up: served with an empty list, as 7.0 compares last_id.
    h.run('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 's', '>');
    h.add('s', '4-1');
    h.del('s', '4-1');
    expect(h.wake('s')).toBe(arr(arr(bulk('s'), arr())));

    h.run('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '10', 'STREAMS', 's', '>');
    h.run('XGROUP', 'DESTROY', 's', 'g');
    expect(h.wake('s')).toBe(err('NOGROUP the consumer group this client was blocked on no longer exists'));
    h.run('XGROUP', 'CREATE', 's', 'g', '$');
    h.run('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '10', 'STREAMS', 's', '>');
    h.db.delete('s');
    expect(h.wake('s')).toBe(err('UNBLOCKED the stream key no longer exists'));
  });

  it('does not block inside a transaction', () => {
    h.inTransaction = true;
    h.run('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>');
    expect(h.run('XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '0', 'STREAMS', 's', '>')).toBe(NULL_ARRAY);
    expect(h.blocked).toBeNull();
  });
});

describe('XACK / XPENDING', () => {
  beforeEach(() => {
    for (let i = 1; i <= 4; i++) h.add('s', `${i}-1`);
    h.run('xgroup', 'create', 's', 'g', '0');
    h.run('XREADGROUP', 'GROUP', 'g', 'b', 'COUNT', '2', 'STREAMS', 's', '>');
    h.now += 100;
    h.run('XREADGROUP', 'GROUP', 'g', 'a', 'COUNT', '2', 'STREAMS', 's', '>');
  });

  it('summary form', () => {
    expect(h.run('XPENDING', 's', 'g')).toBe(
      arr(int(4), bulk('1-1'), bulk('4-1'), arr(arr(bulk('a'), bulk('2')), arr(bulk('b'), bulk('2')))),
    );
    expect(h.run('XPENDING', 'nokey', 'g')).toBe(err("NOGROUP No such key 'nokey' or consumer group 'g'"));
  });

  it('extended form with IDLE, exclusive ranges and a consumer', () => {
    h.now += 50;
    expect(h.run('XPENDING', 's', 'g', 'IDLE', '120', '-', '+', '10')).toBe(
      arr(arr(bulk('1-1'), bulk('b'), int(150), int(1)), arr(bulk('2-1'), bulk('b'), int(150), int(1))),
    );
    expect(h.run('XPENDING', 's', 'g', '(1-1', '(4-1', '10')).toBe(
      arr(arr(bulk('2-1'), bulk('b'), int(150), int(1)), arr(bulk('3-1'), bulk('a'), int(50), int(1))),
    );
    expect(h.run('XPENDING', 's', 'g', '-', '+', '1', 'a')).toBe(arr(arr(bulk('3-1'), bulk('a'), int(50), int(1))));
    expect(h.run('XPENDING', 's', 'g', '-', '+', '10', 'zzz')).toBe(arr());
    expect(h.run('XPENDING', 's', 'g', '-', '+', '-1')).toBe(arr());
    expect(h.run('XPENDING', 's', 'g', 'idle', '5', '-', '+')).toBe(err('ERR syntax error'));
    expect(h.run('XPENDING', 's', 'g', '-')).toBe(err('ERR syntax error'));
    expect(h.run('XPENDING', 's', 'g', '(', '+', '10')).toBe(err('ERR Invalid stream ID specified as stream command argument'));
    expect(h.run('XPENDING', 's', 'g', '(18446744073709551615-18446744073709551615', '+', '10')).toBe(
      err('ERR invalid start ID for the interval'),
    );
    expect(h.run('XPENDING', 's', 'g', '-', '(0-0', '10')).toBe(err('ERR invalid end ID for the interval'));
  });

  it('XACK', () => {
    expect(h.run('XACK', 's', 'g', '1-1', 'zz')).toBe(err('ERR Invalid stream ID specified as stream command argument'));
    expect(h.run('XACK', 's', 'g', '1-1', '2-1', '9-9', '1-1')).toBe(int(2));
    expect(h.run('XACK', 'nokey', 'g', '1')).toBe(int(0));
    expect(h.run('XACK', 's', 'nog', 'zz')).toBe(int(0));
    expect(h.run('XPENDING', 's', 'g')).toBe(arr(int(2), bulk('3-1'), bulk('4-1'), arr(arr(bulk('a'), bulk('2')))));
  });
});

describe('XCLAIM / XAUTOCLAIM', () => {
  beforeEach(() => {
    for (let i = 1; i <= 3; i++) h.add('s', `${i}-1`);
    h.run('xgroup', 'create', 's', 'g', '0');
    h.run('XREADGROUP', 'GROUP', 'g', 'a', 'STREAMS', 's', '>');
    h.now += 1000;
  });

  it('claims idle entries, lazily creating the consumer', () => {
    expect(h.run('XCLAIM', 's', 'g', 'b', '5000', '1-1')).toBe(arr());
    expect(h.run('XINFO', 'CONSUMERS', 's', 'g')).not.toContain(bulk('b'));
    expect(h.run('XCLAIM', 's', 'g', 'b', '500', '1-1', '9-9')).toBe(arr(entry('1-1', 'f', 'v')));
    expect(h.run('XCLAIM', 's', 'g', 'b', '0', '2-1', 'JUSTID', 'RETRYCOUNT', '5', 'IDLE', '300')).toBe(arr(bulk('2-1')));
    expect(h.run('XPENDING', 's', 'g', '-', '+', '10')).toBe(
      arr(
        arr(bulk('1-1'), bulk('b'), int(0), int(2)),
        arr(bulk('2-1'), bulk('b'), int(300), int(5)),
        arr(bulk('3-1'), bulk('a'), int(1000), int(1)),
      ),
    );
  });

  it('drops deleted entries from the PEL and FORCE creates NACKs', () => {
    h.del('s', '3-1');
    expect(h.run('XCLAIM', 's', 'g', 'b', '0', '3-1')).toBe(arr());
    expect(h.run('XPENDING', 's', 'g')).toContain(int(2));
    h.run('XGROUP', 'CREATE', 's', 'g2', '0');
    expect(h.run('XCLAIM', 's', 'g2', 'c', '0', '2-1', 'FORCE', 'LASTID', '2-1')).toBe(arr(entry('2-1', 'f', 'v')));
    expect(h.run('XPENDING', 's', 'g2', '-', '+', '10')).toBe(arr(arr(bulk('2-1'), bulk('c'), int(0), int(2))));
    expect(h.run('XINFO', 'GROUPS', 's')).toContain(bulk('last-delivered-id') + bulk('2-1'));
  });

  it('option errors', () => {
    expect(h.run('XCLAIM', 's', 'g', 'c', '0', '2-1', 'foo')).toBe(err("ERR Unrecognized XCLAIM option 'foo'"));
    expect(h.run('XCLAIM', 's', 'g', 'c', 'x', '2-1')).toBe(err('ERR Invalid min-idle-time argument for XCLAIM'));
    expect(h.run('XCLAIM', 's', 'g', 'c', '0', '2-1', 'idle', 'x')).toBe(err('ERR Invalid IDLE option argument for XCLAIM'));
    expect(h.run('XCLAIM', 's', 'g', 'c', '0', '2-1', 'idle')).toBe(err("ERR Unrecognized XCLAIM option 'idle'"));
    expect(h.run('XCLAIM', 's', 'g', 'c', '0', '2-1', 'lastid', 'zz')).toBe(err('ERR Invalid stream ID specified as stream command argument'));
    expect(h.run('XCLAIM', 's', 'g', 'c', '0', 'zz', '2-1')).toBe(err("ERR Unrecognized XCLAIM option 'zz'"));
    expect(h.run('XCLAIM', 'nokey', 'g', 'c', '0', '2-1')).toBe(err("NOGROUP No such key 'nokey' or consumer group 'g'"));
  });

  it('XAUTOCLAIM walks the PEL, counts deleted IDs and returns a cursor', () => {
    h.del('s', '1-1');
    expect(h.run('XAUTOCLAIM', 's', 'g', 'b', '0', '0', 'COUNT', '1')).toBe(arr(bulk('2-1'), arr(), arr(bulk('1-1'))));
    expect(h.run('XAUTOCLAIM', 's', 'g', 'b', '0', '0', 'COUNT', '1', 'JUSTID')).toBe(arr(bulk('3-1'), arr(bulk('2-1')), arr()));
    expect(h.run('XAUTOCLAIM', 's', 'g', 'b', '0', '(2-1')).toBe(arr(bulk('0-0'), arr(entry('3-1', 'f', 'v')), arr()));
    expect(h.run('XAUTOCLAIM', 's', 'g', 'c3', '99999999', '0')).toBe(arr(bulk('0-0'), arr(), arr()));
    expect(h.run('XINFO', 'CONSUMERS', 's', 'g')).not.toContain(bulk('c3'));
    expect(h.run('XAUTOCLAIM', 's', 'g', 'b', '0', '0', 'COUNT', '0')).toBe(err('ERR COUNT must be > 0'));
    expect(h.run('XAUTOCLAIM', 's', 'g', 'b', '0', '0', 'COUNT', 'abc')).toBe(err('ERR COUNT must be > 0'));
    expect(h.run('XAUTOCLAIM', 's', 'g', 'b', 'x', '0')).toBe(err('ERR Invalid min-idle-time argument for XAUTOCLAIM'));
    expect(h.run('XAUTOCLAIM', 's', 'g', 'b', '0', 'zz')).toBe(err('ERR Invalid stream ID specified as stream command argument'));
    expect(h.run('XAUTOCLAIM', 's', 'g', 'b', '0', '0', 'foo')).toBe(err('ERR syntax error'));
    expect(h.run('XAUTOCLAIM', 'nokey', 'g', 'b', '0', '0')).toBe(err("NOGROUP No such key 'nokey' or consumer group 'g'"));
  });
});

describe('XINFO', () => {
  it('GROUPS with entries-read and lag, CONSUMERS with idle', () => {
    h.add('s', '1-1');
    h.add('s', '2-1');
    h.add('s', '3-1');
    h.run('xgroup', 'create', 's', 'g', '0');
    const group = (consumers: number, pending: number, last: string, read: string, lag: string) =>
      arr(
        bulk('name'), bulk('g'), bulk('consumers'), int(consumers), bulk('pending'), int(pending),
        bulk('last-delivered-id'), bulk(last), bulk('entries-read'), read, bulk('lag'), lag,
      );
    expect(h.run('XINFO', 'GROUPS', 's')).toBe(arr(group(0, 0, '0-0', NULL_BULK, int(3))));
    h.del('s', '3-1');
    h.run('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '5', 'STREAMS', 's', '>');
    expect(h.run('XINFO', 'GROUPS', 's')).toBe(arr(group(1, 2, '2-1', NULL_BULK, NULL_BULK)));
    h.now += 13;
    expect(h.run('XINFO', 'CONSUMERS', 's', 'g')).toBe(arr(arr(bulk('name'), bulk('c1'), bulk('pending'), int(2), bulk('idle'), int(13))));
    expect(h.run('XINFO', 'CONSUMERS', 's', 'nog')).toBe(err("NOGROUP No such consumer group 'nog' for key name 's'"));
    expect(h.run('XINFO', 'GROUPS', 'nokey')).toBe(err('ERR no such key'));
    expect(h.run('XINFO', 'foo', 's')).toBe(err("ERR unknown subcommand 'foo'. Try XINFO HELP."));
  });

  it('lag follows 7.0 with tombstones before the first entry', () => {
    for (let i = 1; i <= 3; i++) h.add('s', `${i}-1`);
    h.run('xgroup', 'create', 's', 'g', '0', 'entriesread', '0');
    h.del('s', '2-1', '1-1');
    expect(h.run('XINFO', 'GROUPS', 's')).toContain(bulk('entries-read') + int(0) + bulk('lag') + int(3));
  });

  it('STREAM and STREAM FULL', () => {
    h.add('s', '1-1');
    h.add('s', '2-1');
    h.add('s', '3-1');
    h.run('xgroup', 'create', 's', 'g', '0');
    h.run('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', 's', '>');
    h.del('s', '3-1');
    h.del('s', '1-1');
    const head =
      bulk('length') + int(1) + bulk('radix-tree-keys') + int(1) + bulk('radix-tree-nodes') + int(2) +
      bulk('last-generated-id') + bulk('3-1') + bulk('max-deleted-entry-id') + bulk('3-1') +
      bulk('entries-added') + int(3) + bulk('recorded-first-entry-id') + bulk('2-1');
    expect(h.run('XINFO', 'STREAM', 's')).toBe(
      '*20\r\n' + head + bulk('groups') + int(1) + bulk('first-entry') + entry('2-1', 'f', 'v') + bulk('last-entry') + entry('2-1', 'f', 'v'),
    );
    const t = String(h.now);
    expect(h.run('XINFO', 'STREAM', 's', 'FULL')).toBe(
      '*18\r\n' + head + bulk('entries') + arr(entry('2-1', 'f', 'v')) + bulk('groups') +
        arr(
          arr(
            bulk('name'), bulk('g'), bulk('last-delivered-id'), bulk('1-1'), bulk('entries-read'), int(1),
            bulk('lag'), NULL_BULK, bulk('pel-count'), int(1), bulk('pending'), arr(arr(bulk('1-1'), bulk('c1'), int(t), int(1))),
            bulk('consumers'),
            arr(arr(bulk('name'), bulk('c1'), bulk('seen-time'), int(t), bulk('pel-count'), int(1), bulk('pending'), arr(arr(bulk('1-1'), int(t), int(1))))),
          ),
        ),
    );
    expect(h.run('XINFO', 'STREAM', 's', 'FULL', 'COUNT', 'x')).toBe(err('ERR value is not an integer or out of range'));
    expect(h.run('XINFO', 'stream', 's', 'fuLL', 'cnt', '3')).toBe(
      err("ERR unknown subcommand or wrong number of arguments for 'stream'. Try XINFO HELP."),
    );
    expect(h.run('XINFO', 'STREAM', 'nokey', 'FULL', '3')).toBe(err('ERR no such key'));
    h.protocol = 3;
    expect(h.run('XINFO', 'STREAM', 's').startsWith('%10\r\n')).toBe(true);
  });

  it('FULL COUNT limits entries and PELs; 0 means all', () => {
    for (let i = 1; i <= 15; i++) h.add('s', `${i}-0`);
    h.run('xgroup', 'create', 's', 'g', '0');
    h.run('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>');
    const count = (r: string, what: string) => r.split(what).length - 1;
    const def = h.run('XINFO', 'STREAM', 's', 'FULL');
    expect(count(def, '*2\r\n$3\r\n') + count(def, '*2\r\n$4\r\n')).toBe(10);
    const all = h.run('XINFO', 'STREAM', 's', 'FULL', 'COUNT', '0');
    expect(all).toContain(bulk('pending') + '*15\r\n');
    const neg = h.run('XINFO', 'STREAM', 's', 'FULL', 'COUNT', '-1');
    expect(neg).toBe(def);
  });

  it('HELP', () => {
    expect(h.run('XINFO', 'HELP')).toBe(
      arr(
        '+XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n',
        '+CONSUMERS <key> <groupname>\r\n',
        '+    Show consumers of <groupname>.\r\n',
        '+GROUPS <key>\r\n',
        '+    Show the stream consumer groups.\r\n',
        '+STREAM <key> [FULL [COUNT <count>]\r\n',
        '+    Show information about the stream.\r\n',
        '+HELP\r\n',
        '+    Prints this help.\r\n',
      ),
    );
  });
});
