// INFO replication and ROLE, with Redis 7.0's fields and shapes: Sentinel reads them (sentinelRefreshInstanceInfo
// parses role, master_host/port, master_link_status, master_link_down_since_seconds, slave_priority,
// slave_repl_offset, replica_announced and the slaveN lines), and so do client libraries and exporters.

import type { ServerState } from '../serverState';

type Field = [string, string | number];

const seconds = (ms: number): number => Math.floor(ms / 1000);

/** The address Redis shows for a replica: its peer IP (without the port). */
function peerIp(remoteAddress: string): string {
  const colon = remoteAddress.lastIndexOf(':');
  return (colon < 0 ? remoteAddress : remoteAddress.slice(0, colon)).replace(/^::ffff:/, '');
}

/** The replicas in INFO and ROLE: address, announced port, acknowledged offset, seconds since the last ACK. */
export function replicaRows(server: ServerState, now: number): Array<{ ip: string; port: number; state: string; offset: number; lag: number }> {
  return [...server.replication.replicas.values()].map((p) => ({
    ip: peerIp(p.client.remoteAddress),
    state: p.online ? 'online' : 'wait_bgsave',
    port: p.listeningPort,
    offset: p.ackOffset,
    lag: seconds(now - p.ackTime),
  }));
}

export function replicationFields(server: ServerState, now: number): Field[] {
  const r = server.replication;
  const link = r.master;
  const config = server.config;
  const out: Field[] = [['role', link === null ? 'master' : 'slave']];
  if (link !== null) {
    const up = link.state === 'connected';
    out.push(
      ['master_host', link.masterHost],
      ['master_port', link.masterPort],
      ['master_link_status', up ? 'up' : 'down'],
      ['master_last_io_seconds_ago', up ? seconds(now - link.lastIo) : -1],
      ['master_sync_in_progress', link.syncInProgress ? 1 : 0],
      ['slave_read_repl_offset', link.readOffset],
      ['slave_repl_offset', r.offset],
    );
    if (link.syncInProgress) {
      const { total, read } = link.syncProgress;
      out.push(
        ['master_sync_total_bytes', total],
        ['master_sync_read_bytes', read],
        ['master_sync_left_bytes', Math.max(0, total - read)],
        ['master_sync_perc', (total > 0 ? (read * 100) / total : 0).toFixed(2)],
        ['master_sync_last_io_seconds_ago', seconds(now - link.lastIo)],
      );
    }
    if (!up) out.push(['master_link_down_since_seconds', link.downSince === 0 ? -1 : seconds(now - link.downSince)]);
    out.push(
      ['slave_priority', config.getNumber('replica-priority')],
      ['slave_read_only', config.getBoolean('replica-read-only') ? 1 : 0],
      ['replica_announced', config.getBoolean('replica-announced') ? 1 : 0],
    );
  }
  out.push(['connected_slaves', r.replicas.size]);
  if (link === null && config.getNumber('min-replicas-to-write') > 0 && config.getNumber('min-replicas-max-lag') > 0) {
    out.push(['min_slaves_good_slaves', r.goodReplicas()]);
  }
  replicaRows(server, now).forEach((row, i) => {
    out.push([`slave${i}`, `ip=${row.ip},port=${row.port},state=${row.state},offset=${row.offset},lag=${row.lag}`]);
  });
  const backlog = r.backlog;
  out.push(
    ['master_failover_state', 'no-failover'],
    ['master_replid', r.replid],
    ['master_replid2', r.replid2],
    ['master_repl_offset', r.offset],
    ['second_repl_offset', r.secondReplOffset],
    ['repl_backlog_active', backlog === null ? 0 : 1],
    ['repl_backlog_size', config.getNumber('repl-backlog-size')],
    ['repl_backlog_first_byte_offset', backlog === null ? 0 : backlog.firstByteOffset],
    ['repl_backlog_histlen', backlog === null ? 0 : backlog.histlen],
  );
  return out;
}

/** INFO stats: the resynchronizations served (as a master) and made (as a replica). */
export function syncStatsFields(server: ServerState): Field[] {
  const r = server.replication;
  return [
    ['sync_full', r.syncFull],
    ['sync_partial_ok', r.syncPartialOk],
    ['sync_partial_err', r.syncPartialErr],
  ];
}
