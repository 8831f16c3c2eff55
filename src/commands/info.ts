// INFO: the sections Redis 7 has that make sense for Spool, with the field names tools (redis_exporter,
// client libraries checking redis_version) read.

import { rdbSavesOf } from '../server/rdbSaves';
import os from 'node:os';
import { REDIS_VERSION, SPOOL_VERSION } from '../version';
import type { ServerState } from '../server/serverState';
import { replicationFields, syncStatsFields } from '../server/replication/replicationInfo';
import { command, type CommandContext, type CommandSpec } from './types';

type Section = (server: ServerState, now: number) => [string, string | number][];

const SECTIONS: Record<string, Section> = {
  server: (s, now) => [
    ['redis_version', REDIS_VERSION],
    ['spool_version', SPOOL_VERSION],
    ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0],
    ['redis_build_id', '0'],
    ['redis_mode', 'standalone'],
    ['os', `${os.type()} ${os.release()} ${os.arch()}`],
    ['arch_bits', process.arch.includes('64') ? 64 : 32],
    ['monotonic_clock', 'POSIX clock_gettime'],
    ['multiplexing_api', 'epoll'],
    ['atomicvar_api', 'c11-builtin'],
    ['gcc_version', '0.0.0'],
    ['process_id', process.pid],
    ['process_supervised', 'no'],
    ['run_id', s.runId],
    ['tcp_port', s.boundPort],
    ['server_time_usec', now * 1000],
    ['uptime_in_seconds', Math.floor((now - s.startedAt) / 1000)],
    ['uptime_in_days', Math.floor((now - s.startedAt) / 86400000)],
    ['hz', 10],
    ['configured_hz', 10],
    ['lru_clock', Math.floor(now / 1000) & 0xffffff],
    ['executable', process.argv[1] ?? ''],
    ['config_file', s.configFile],
    ['io_threads_active', s.ioThreads.active > 0 ? 1 : 0],
  ],
  clients: (s) => [
    ['connected_clients', s.clients.size],
    ['cluster_connections', 0],
    ['maxclients', s.config.get('maxclients')],
    ['client_recent_max_input_buffer', 0],
    ['client_recent_max_output_buffer', 0],
    ['blocked_clients', s.blocking.blockedCount + s.clientPause.heldCount],
    ['tracking_clients', 0],
    ['clients_in_timeout_table', s.blocking.blockedCount],
  ],
  memory: () => {
    const m = process.memoryUsage();
    return [
      ['used_memory', m.heapUsed + m.external],
      ['used_memory_human', human(m.heapUsed + m.external)],
      ['used_memory_rss', m.rss],
      ['used_memory_rss_human', human(m.rss)],
      ['used_memory_peak', m.rss],
      ['used_memory_peak_human', human(m.rss)],
      ['used_memory_dataset', m.arrayBuffers],
      ['total_system_memory', os.totalmem()],
      ['total_system_memory_human', human(os.totalmem())],
      ['maxmemory', 0],
      ['maxmemory_human', '0B'],
      ['maxmemory_policy', 'noeviction'],
      ['mem_fragmentation_ratio', '1.00'],
      ['mem_allocator', 'v8'],
    ];
  },
  persistence: (s, now) => [
    ['loading', 0],
    ['async_loading', 0],
    ['current_cow_peak', 0],
    ['current_cow_size', 0],
    ['current_cow_size_age', 0],
    ['current_fork_perc', '0.00'],
    ['current_save_keys_processed', 0],
    ['current_save_keys_total', 0],
    ['rdb_changes_since_last_save', 0],
    ['rdb_bgsave_in_progress', rdbSavesOf(s).inProgress === null ? 0 : 1],
    ['rdb_last_save_time', rdbSavesOf(s).lastSave],
    ['rdb_last_bgsave_status', rdbSavesOf(s).lastStatus],
    ['rdb_last_bgsave_time_sec', rdbSavesOf(s).lastBgsaveSeconds],
    ['rdb_current_bgsave_time_sec', rdbSavesOf(s).currentSeconds],
    ['rdb_saves', rdbSavesOf(s).saves],
    ['aof_enabled', 1],
    ['aof_rewrite_in_progress', 0],
    ['aof_rewrite_scheduled', 0],
    // 'err' while a storage write or sync error is sticky and writes get MISCONF (Redis: a failed AOF write or fsync).
    ['aof_last_write_status', s.persistence !== null && !s.persistence.writable() ? 'err' : 'ok'],
    ['aof_last_bgrewrite_status', 'ok'],
    ['appendfsync', s.config.get('appendfsync')],
    ['uptime_in_seconds', Math.floor((now - s.startedAt) / 1000)],
  ],
  stats: (s) => {
    let expiredKeys = 0;
    return [
      ['total_connections_received', s.stats.totalConnections],
      ['total_commands_processed', s.stats.totalCommands],
      ['instantaneous_ops_per_sec', 0],
      ['total_net_input_bytes', s.stats.netInputBytes],
      ['total_net_output_bytes', s.stats.netOutputBytes],
      ['rejected_connections', s.stats.rejectedConnections],
      ...syncStatsFields(s),
      ['expired_keys', expiredKeys],
      ['evicted_keys', 0],
      ['keyspace_hits', s.stats.keyspaceHits],
      ['keyspace_misses', s.stats.keyspaceMisses],
      ['pubsub_channels', s.pubsub.size('channel')],
      ['pubsub_patterns', s.pubsub.size('pattern')],
      ['pubsubshard_channels', s.pubsub.size('shard')],
      ['total_error_replies', s.stats.totalErrorReplies],
      ['total_blocking_keys', s.blocking.blockedCount],
      ['io_threaded_reads_processed', 0],
      ['io_threaded_writes_processed', s.ioThreads.threadedWrites],
    ];
  },
  replication: replicationFields,
  cpu: () => {
    const u = process.cpuUsage();
    return [
      ['used_cpu_sys', (u.system / 1e6).toFixed(6)],
      ['used_cpu_user', (u.user / 1e6).toFixed(6)],
      ['used_cpu_sys_children', '0.000000'],
      ['used_cpu_user_children', '0.000000'],
    ];
  },
  commandstats: (s) =>
    [...s.stats.commands.entries()]
      .filter(([, c]) => c.calls + c.rejectedCalls + c.failedCalls > 0)
      .map(([name, c]) => [
        `cmdstat_${name}`,
        `calls=${c.calls},usec=${Math.round(c.usec)},usec_per_call=${(c.calls ? c.usec / c.calls : 0).toFixed(2)},rejected_calls=${c.rejectedCalls},failed_calls=${c.failedCalls}`,
      ]),
  errorstats: (s) => [...s.stats.errors.entries()].map(([code, n]) => [`errorstat_${code}`, `count=${n}`]),
  cluster: (s) => [['cluster_enabled', s.cluster !== null ? 1 : 0]],
  keyspace: (s) =>
    s.databases
      .filter((db) => db.size > 0)
      .map((db) => [`db${db.index}`, `keys=${db.size},expires=0,avg_ttl=0`]),
  streams: (s) => {
    let segments = 0;
    const persistence = s.persistence;
    const t = s.streamTotals((_db, _key, stream) => {
      if (persistence) segments += persistence.segmentsOf(stream);
    });
    const open = persistence?.openSegments;
    return [
      ['streams', t.streams],
      ['stream_entries', t.entries],
      ['stream_groups', t.groups],
      ['stream_pending_entries', t.pending],
      ['stream_bytes_on_disk', t.bytes],
      ['stream_segments', segments],
      ['stream_segments_open', open?.open ?? 0],
      ['stream_segments_open_limit', open?.limit ?? 0],
      ['stream_segments_evicted', open?.evictions ?? 0],
      ['stream_segments_deleted', persistence?.segmentsDeleted ?? 0],
      ['stream_checkpoints', persistence?.checkpointsWritten ?? 0],
      // The commit journal of appendfsync always (src/storage/commitJournal.ts); replayed: at this start-up
      ['commit_journal_frames', persistence?.batcher.journal?.frames ?? 0],
      ['commit_journal_bytes', persistence?.batcher.journal?.bytes ?? 0],
      ['commit_journal_rotations', persistence?.batcher.journal?.rotations ?? 0],
      ['commit_journal_replayed_frames', persistence?.journalReplay?.frames ?? 0],
      ['commit_journal_replayed_bytes', persistence?.journalReplay?.bytes ?? 0],
      // Spool's retention (XCFGSET maxage/maxbytes, stream-maxage/stream-maxbytes)
      ['stream_retention_tracked', s.retention.trackedStreams],
      ['stream_retention_trimmed_entries', s.retention.trimmedEntries],
    ];
  },
};

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'cluster', 'keyspace', 'streams'];
const ALL_SECTIONS = [...DEFAULT_SECTIONS.slice(0, 7), 'commandstats', 'errorstats', 'cluster', 'keyspace', 'streams'];

function title(name: string): string {
  return name === 'commandstats' ? 'Commandstats' : name === 'errorstats' ? 'Errorstats' : name[0].toUpperCase() + name.slice(1);
}

function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${bytes}B` : `${v.toFixed(2)}${units[i]}`;
}

export function renderInfo(server: ServerState, requested: string[], now: number): string {
  let names: string[];
  if (requested.length === 0 || requested.includes('default')) names = DEFAULT_SECTIONS;
  else if (requested.includes('all') || requested.includes('everything')) names = ALL_SECTIONS;
  else names = ALL_SECTIONS.filter((n) => requested.includes(n));
  const parts: string[] = [];
  for (const name of names) {
    const lines = SECTIONS[name](server, now).map(([k, v]) => `${k}:${v}`);
    parts.push([`# ${title(name)}`, ...lines].join('\r\n'));
  }
  return parts.length ? parts.join('\r\n\r\n') + '\r\n' : '';
}

function info(ctx: CommandContext): void {
  const requested = ctx.args.slice(1).map((a) => a.toString('latin1').toLowerCase());
  ctx.reply.verbatim(renderInfo(ctx.server, requested, ctx.now));
}

export const infoCommands: CommandSpec[] = [
  command({
    name: 'info',
    arity: -1,
    flags: ['loading', 'stale'],
    aclCategories: ['@slow', '@dangerous'],
    group: 'server',
    summary: 'Get information and statistics about the server',
    since: '1.0.0',
    complexity: 'O(1)',
    handler: info,
  }),
];
