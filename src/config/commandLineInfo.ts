// `spool-server -v/--version` and `-h/--help`, shaped as redis-server's: only the first argument is looked at
// (so `--version` is never read as a config file name), the answer is printed and the process ends before
// anything is opened. The option list is the option table itself, so it cannot drift from what is accepted.

import { OPTIONS } from './options';
import { REDIS_VERSION, SPOOL_VERSION } from '../version';

export type InfoRequest = 'version' | 'help';

/** What the first command-line argument asks for, if it is one of the informational flags. */
export function infoRequest(argv: readonly string[]): InfoRequest | null {
  const first = argv[0];
  if (first === '-v' || first === '--version') return 'version';
  if (first === '-h' || first === '--help') return 'help';
  return null;
}

/** One line as `redis-server --version`: `Spool server v=0.1.0 redis=7.0.15 node=v20.20.2 bits=64`. */
export function versionLine(): string {
  const bits = /64/.test(process.arch) ? 64 : 32;
  return `Spool server v=${SPOOL_VERSION} redis=${REDIS_VERSION} node=${process.version} bits=${bits}\n`;
}

/** Usage in redis-server's shape, followed by every option with its default and description. */
export function usageText(name = 'spool-server'): string {
  const width = Math.max(...OPTIONS.map((o) => o.name.length));
  const options = OPTIONS.map((o) => `       --${o.name.padEnd(width)}  ${o.doc}${o.default !== '' ? ` (default: ${o.default})` : ''}`);
  return [
    `Usage: ${name} [/path/to/spool.conf] [options]`,
    `       ${name} -v or --version`,
    `       ${name} -h or --help`,
    '',
    'Examples:',
    `       ${name} (run the server with the defaults: port 6379, data in ./data)`,
    `       ${name} /etc/spool/spool.conf`,
    `       ${name} --port 7777`,
    `       ${name} --port 7777 --dir /var/lib/spool --appendfsync always`,
    `       ${name} /etc/spool/spool.conf --loglevel verbose`,
    `       ${name} --cluster-local 3 --port 7000 (a cluster of 3 nodes on ports 7000-7002, see README "Cluster")`,
    `       ${name} --cluster-local 3 --cluster-replicas 1 --port 7000 (3 masters on 7000-7002, a replica of each on 7003-7005)`,
    '',
    'Options (as config file directives, redis.conf syntax, or as --name value on the command line):',
    ...options,
    '',
  ].join('\n');
}
