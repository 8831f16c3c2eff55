// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH pw] [AUTH2 user pw] [KEYS k...]
// (Redis 7.0 cluster.c migrateCommand): Spool acts as a client of the target, sends AUTH, SELECT and one RESTORE
// per key (payloads made when the command runs), and deletes each key the target acknowledged unless COPY. The
// client waits for the reply; the server goes on serving others meanwhile. Spool keeps no TTLs, so every key is
// sent with TTL 0. Unlike Redis, no connection is cached between calls (SELECT is always sent). In cluster mode
// the keys go as RESTORE-ASKING (the target serves it on a slot it imports, as if ASKING was sent), and stay in
// the cluster's keysInFlight until the MIGRATE settles, so no other client changes a stream already dumped.

import { CommandError, Err, RdbErr } from '../errors';
import { dumpStreamValue } from '../rdb/dump';
import { MigrateIoError, encodeRequest, exchange } from '../server/migrateClient';
import type { Stream } from '../streams/stream';
import { replyLater } from './replyLater';
import { command, type CommandContext, type CommandSpec } from './types';

const KEY_OPTION_ARGS: Record<string, number> = { copy: 0, replace: 0, auth: 1, auth2: 2 };

/** MIGRATE's key arguments, as Redis's migrateGetKeys: the key argument, or those after KEYS when it is empty. */
function migrateKeyArguments(args: readonly Buffer[]): Buffer[] {
  for (let i = 6; i < args.length; i++) {
    const word = args[i].toString('latin1').toLowerCase();
    if (word === 'keys') return args[3].length > 0 ? [] : args.slice(i + 1); // none: the command's error
    i += KEY_OPTION_ARGS[word] ?? 0;
  }
  return args.length > 3 ? [args[3]] : [];
}

function migrate(ctx: CommandContext): void {
  const args = ctx.args;
  let copy = false;
  let replace = false;
  let username: Buffer | null = null;
  let password: Buffer | null = null;
  let firstKey = 3;
  let numKeys = 1;
  const { argv } = ctx;
  argv.position = 6;
  while (argv.hasMore()) {
    const more = argv.remaining - 1;
    if (argv.accept('COPY')) copy = true;
    else if (argv.accept('REPLACE')) replace = true;
    else if (argv.accept('AUTH')) {
      if (more < 1) throw new CommandError(Err.syntax);
      password = argv.next();
    } else if (argv.accept('AUTH2')) {
      if (more < 2) throw new CommandError(Err.syntax);
      username = argv.next();
      password = argv.next();
    } else if (argv.accept('KEYS')) {
      if (args[3].length !== 0) throw new CommandError(RdbErr.migrateKeysNeedEmptyKey);
      firstKey = argv.position;
      numKeys = args.length - firstKey;
      break;
    } else throw new CommandError(Err.syntax);
  }
  argv.position = 5;
  let timeout = argv.int();
  argv.position = 4;
  const dbid = argv.int();
  if (timeout <= 0) timeout = 1000;

  const keys: Buffer[] = [];
  const streams: Stream[] = [];
  for (let j = 0; j < numKeys; j++) {
    const stream = ctx.db.get(args[firstKey + j].toString('latin1'));
    if (stream !== undefined) {
      keys.push(args[firstKey + j]);
      streams.push(stream);
    }
  }
  if (keys.length === 0) {
    ctx.reply.simple('NOKEY');
    return;
  }
  // Redis runs MIGRATE inside EXEC synchronously; Spool's reply comes later, so it cannot be part of EXEC's.
  if (ctx.inTransaction) throw new CommandError(RdbErr.notInTransaction);
  const cluster = ctx.server.cluster;
  const parts: Buffer[] = [];
  if (password !== null) parts.push(encodeRequest(username !== null ? ['AUTH', username, password] : ['AUTH', password]));
  parts.push(encodeRequest(['SELECT', String(dbid)]));
  for (let j = 0; j < keys.length; j++) {
    const restore = [cluster !== null ? 'RESTORE-ASKING' : 'RESTORE', keys[j], '0', dumpStreamValue(streams[j])];
    if (replace) restore.push('REPLACE');
    parts.push(encodeRequest(restore));
  }
  const preamble = (password !== null ? 1 : 0) + 1;
  const host = args[1].toString('latin1');
  const port = Number(args[2].toString('latin1'));
  const db = ctx.db;
  const received: { ok: boolean; text: string }[] = [];
  const server = ctx.server;
  const inFlight = cluster !== null ? keys.map((k) => k.toString('latin1')) : [];
  for (const key of inFlight) cluster!.keysInFlight.add(key);
  // Outside cluster mode, writes to the streams being moved wait for the end (server.migrations).
  const moving = cluster === null && !copy ? keys.map((k) => `${db.index}\0${k.toString('latin1')}`) : [];
  let moved = (): void => undefined;
  if (moving.length > 0) {
    const done = new Promise<void>((resolve) => (moved = resolve));
    for (const id of moving) server.migrations.set(id, done);
  }
  const release = () => {
    for (const key of inFlight) cluster!.keysInFlight.delete(key);
  };
  const releaseMoving = () => {
    for (const id of moving) server.migrations.delete(id);
    moved();
  };
  const work = exchange(host, port, Buffer.concat(parts), preamble + keys.length, timeout, received).then(
    (replies) => settle(replies, null),
    (err: unknown) => {
      if (!(err instanceof MigrateIoError)) {
        release();
        releaseMoving();
        throw err;
      }
      // Keys the target acknowledged before the failure are gone from here all the same (Redis deletes each
      // one as its reply is read), then the I/O error is the reply.
      return settle(received, err);
    },
  );

  /**
   * Deletes what the target acknowledged (unless COPY) and waits until those deletions are durable (a crash must
   * not bring back a key the client was told moved); then the target's first error, the I/O error, or OK.
   */
  async function settle(replies: { ok: boolean; text: string }[], io: MigrateIoError | null) {
    release();
    const preambleError = replies.slice(0, preamble).find((r) => !r.ok);
    let targetError: string | null = null;
    const deleted: Buffer[] = [];
    for (let j = 0; j < keys.length && preamble + j < replies.length; j++) {
      const reply = replies[preamble + j];
      if (preambleError || !reply.ok) {
        targetError ??= (preambleError ?? reply).text;
        continue;
      }
      // Only the stream that was sent: a key replaced meanwhile is not someone else's to delete.
      const key = keys[j].toString('latin1');
      if (!copy && db.get(key) === streams[j]) {
        db.delete(key);
        deleted.push(keys[j]);
      }
    }
    // Replicas drop the keys too: MIGRATE travels as one DEL of the keys deleted, as Redis rewrites it. Outside
    // any command, this one's writes are sent at once.
    const propagation = server.propagation;
    if (propagation !== null && deleted.length > 0) {
      propagation.alsoPropagate(db.index, [Buffer.from('DEL'), ...deleted]);
      propagation.commit();
    }
    releaseMoving();
    // Outside any command, the deletions' durability ticket is this one's to take.
    const ticket = server.takeTicket();
    if (ticket > 0) await server.persistence?.batcher.whenDurable(ticket);
    if (targetError !== null) throw new CommandError(RdbErr.migrateTarget(targetError));
    if (io !== null) throw new CommandError(io.step === 'connecting' ? RdbErr.migrateConnect : RdbErr.migrateIo(io.step === 'writing'));
    return (r: CommandContext['reply']) => r.ok();
  }
  replyLater(ctx, work);
}

export const migrateCommands: CommandSpec[] = [
  command({
    name: 'migrate',
    arity: -6,
    flags: ['write'],
    firstKey: 3,
    lastKey: 3,
    keyStep: 1,
    keys: migrateKeyArguments,
    aclCategories: ['@keyspace', '@write', '@slow', '@dangerous'],
    summary: 'Atomically transfer a key from a Redis instance to another one.',
    since: '2.6.0',
    complexity:
      'This command actually executes a DUMP+DEL in the source instance, and a RESTORE in the target instance. See the pages of these commands for time complexity. Also an O(N) data transfer between the two instances is performed.',
    group: 'generic',
    handler: migrate,
    redact: (args) => {
      const out: number[] = [];
      for (let i = 6; i < args.length; i++) {
        const word = args[i].toString('latin1').toLowerCase();
        if (word === 'auth') out.push(++i);
        else if (word === 'auth2') out.push(++i, ++i);
        else if (word === 'keys') break;
      }
      return out;
    },
  }),
];
