// Replication commands, as Redis 7.0's replication.c answers them: REPLICAOF / SLAVEOF (become a replica of a
// master, or a master again), PSYNC / SYNC (a replica attaches: partial or full resynchronization), REPLCONF
// (what a replica tells its master), WAIT (block until replicas acknowledged the writes so far), ROLE.
// The state they act on lives in src/server/replication/.

import { ClusterErr, CommandError, Err, RdbErr } from '../errors';
import { keywordEquals, toInteger } from './args';
import { command, type CommandContext, type CommandSpec } from './types';
import { WAIT_KEY } from '../server/replication/replication';
import { replicaRows } from '../server/replication/replicationInfo';

const latin1 = (b: Buffer): string => b.toString('latin1');

/** REPLICAOF host port | NO ONE (replicaofCommand). */
function replicaof(ctx: CommandContext): void {
  const r = ctx.server.replication;
  // A cluster node's master comes from the topology (CLUSTER REPLICATE), as in Redis Cluster.
  if (ctx.server.cluster !== null) throw new CommandError(ClusterErr.replicaofInCluster);
  const [, hostArg, portArg] = ctx.args;
  if (keywordEquals(hostArg, 'NO') && keywordEquals(portArg, 'ONE')) {
    r.becomeMaster();
    ctx.reply.ok();
    return;
  }
  if (ctx.client.replicationRole === 'replica') throw new CommandError('ERR Command is not valid when client is a replica.');
  const port = toInteger(portArg, Err.invalidMasterPort);
  if (port < 0 || port > 65535) throw new CommandError(Err.invalidMasterPort);
  const host = latin1(hostArg);
  if (r.master !== null && r.master.masterHost.toLowerCase() === host.toLowerCase() && r.master.masterPort === port) {
    ctx.reply.simple('OK Already connected to specified master');
    return;
  }
  r.becomeReplica(host, port);
  ctx.reply.ok();
}

/**
 * PSYNC replid offset (syncCommand): +CONTINUE and the missing bytes when our backlog holds them, else
 * +FULLRESYNC replid offset and the RDB of every stream. SYNC: the RDB alone (old replicas).
 */
function psync(ctx: CommandContext): void {
  attachReplica(ctx, true);
}

function sync(ctx: CommandContext): void {
  attachReplica(ctx, false);
}

function attachReplica(ctx: CommandContext, psyncForm: boolean): void {
  const server = ctx.server;
  const r = server.replication;
  const client = ctx.client;
  if (ctx.inTransaction) throw new CommandError(RdbErr.notInTransaction);
  // A replica's own PSYNC/SYNC again is ignored (Redis: `if (c->flags & CLIENT_SLAVE) return;`).
  if (client.replicationRole === 'replica') return;
  if (r.master !== null && r.master.state !== 'connected') throw new CommandError(Err.noMasterLink);
  const reply = ctx.reply;
  if (psyncForm) {
    const replid = latin1(ctx.args[1]);
    const next = toInteger(ctx.args[2]);
    if (replid !== '?') {
      const missing = r.partialFrom(replid, next);
      if (missing !== null) {
        reply.raw(Buffer.from(`+CONTINUE ${r.replid}\r\n`, 'latin1'));
        reply.raw(missing);
        r.attach(client, true);
        r.syncPartialOk++;
        return;
      }
      r.syncPartialErr++;
    }
  }
  r.ensureBacklog();
  const peer = r.attach(client, false);
  if (psyncForm) reply.raw(Buffer.from(`+FULLRESYNC ${r.replid} ${r.offset}\r\n`, 'latin1'));
  r.startFullSync(peer);
}

/** REPLCONF <option> <value> ... (replconfCommand). ACK and GETACK are never answered. */
function replconf(ctx: CommandContext): void {
  const args = ctx.args;
  if (args.length % 2 === 0) throw new CommandError(Err.syntax);
  const r = ctx.server.replication;
  for (let i = 1; i < args.length; i += 2) {
    const option = latin1(args[i]).toLowerCase();
    const value = args[i + 1];
    if (option === 'listening-port') {
      r.announcePort(ctx.client, toInteger(value));
    } else if (option === 'ack') {
      r.acknowledged(ctx.client, toInteger(value));
      return;
    } else if (option === 'getack') {
      return;
    } else if (option === 'rdb-only') {
      // redis-cli --rdb: the connection closes once the RDB is sent.
      if (latin1(value) === '1') r.rdbOnly.add(ctx.client.id);
      else r.rdbOnly.delete(ctx.client.id);
    } else if (option !== 'ip-address' && option !== 'capa' && option !== 'rdb-filter-only') {
      throw new CommandError(Err.replconfUnrecognized(latin1(args[i])));
    }
  }
  ctx.reply.ok();
}

/** WAIT numreplicas timeout (waitCommand): the replicas that acknowledged every write so far. */
function wait(ctx: CommandContext): void {
  const r = ctx.server.replication;
  if (r.master !== null) throw new CommandError(Err.waitOnReplica);
  const wanted = toInteger(ctx.args[1]);
  const timeout = toInteger(ctx.args[2], Err.timeoutNotInteger);
  if (timeout < 0) throw new CommandError(Err.timeoutNegative);
  const offset = r.offset;
  const acked = r.acknowledgedCount(offset);
  if (acked >= wanted || ctx.inTransaction) {
    ctx.reply.integer(acked);
    return;
  }
  r.waitingDbs.add(ctx.db.index);
  r.requestAcks();
  ctx.block({
    keys: [WAIT_KEY],
    timeoutMs: timeout,
    tryServe: (_key, reply) => {
      const count = r.acknowledgedCount(offset);
      if (count < wanted) return false;
      reply.integer(count);
      return true;
    },
    onTimeout: (reply) => reply.integer(r.acknowledgedCount(offset)),
  });
}

/** ROLE (roleCommand). */
function role(ctx: CommandContext): void {
  const r = ctx.server.replication;
  const reply = ctx.reply;
  const link = r.master;
  if (link === null) {
    const rows = replicaRows(ctx.server, ctx.now);
    reply.array(3);
    reply.bulk('master');
    reply.integer(r.offset);
    const online = rows.filter((x) => x.state === 'online');
    reply.array(online.length);
    for (const row of online) reply.bulkArray([row.ip, String(row.port), String(row.offset)]);
    return;
  }
  reply.array(5);
  reply.bulk('slave');
  reply.bulk(link.masterHost);
  reply.integer(link.masterPort);
  reply.bulk(link.state);
  reply.integer(link.state === 'connected' ? r.offset : -1);
}

const ADMIN = { aclCategories: ['@admin', '@slow', '@dangerous'], group: 'server' } as const;

export const replicationCommands: CommandSpec[] = [
  command({ name: 'replicaof', arity: 3, flags: ['admin', 'noscript', 'stale'], ...ADMIN, summary: 'Make the server a replica of another instance, or promote it as master.', since: '5.0.0', complexity: 'O(1)', handler: replicaof }),
  command({ name: 'slaveof', arity: 3, flags: ['admin', 'noscript', 'stale'], ...ADMIN, summary: 'Make the server a replica of another instance, or promote it as master.', since: '1.0.0', complexity: 'O(1)', handler: replicaof }),
  command({ name: 'psync', arity: -3, flags: ['admin', 'noscript', 'no_multi'], ...ADMIN, summary: 'Internal command used for replication', since: '2.8.0', handler: psync }),
  command({ name: 'sync', arity: 1, flags: ['admin', 'noscript', 'no_multi'], ...ADMIN, summary: 'Internal command used for replication', since: '1.0.0', handler: sync }),
  command({ name: 'replconf', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'allow_busy'], ...ADMIN, summary: 'An internal command for configuring the replication stream', since: '3.0.0', complexity: 'O(1)', handler: replconf }),
  command({ name: 'wait', arity: 3, flags: ['noscript'], aclCategories: ['@slow', '@connection'], group: 'generic', summary: 'Wait for the synchronous replication of all the write commands sent in the context of the current connection', since: '3.0.0', complexity: 'O(1)', handler: wait }),
  command({ name: 'role', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast'], aclCategories: ['@admin', '@fast', '@dangerous'], group: 'server', summary: 'Return the role of the instance in the context of replication', since: '2.8.12', complexity: 'O(1)', handler: role }),
];
