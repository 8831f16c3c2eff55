// Wiring only: read the command line and config file, start the server, handle signals.

import { ConfigFileError, parseCommandLine } from './config/configFile';
import { infoRequest, usageText, versionLine } from './config/commandLineInfo';
import { startServer } from './server/server';
import { SPOOL_VERSION } from './version';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runLocalCluster, takeClusterLocal } from './cluster/localCluster';
// Operations: structured logs (pino) and start-up checks with clear messages.
import { createLogger } from './server/logger';
import { checkDataDir, describeStartupError } from './server/startup';

export async function main(argv: string[]): Promise<void> {
  const info = infoRequest(argv);
  if (info) {
    // As redis-server: answer and exit before reading any config or opening anything. Like redis-server's
    // usage(), the usage goes to standard error with exit status 1; the version line to standard output, 0.
    if (info === 'version') {
      process.stdout.write(versionLine());
      process.exit(0);
    }
    process.stderr.write(usageText());
    process.exit(1);
  }
  // Cluster mode on one host: this process only starts and stops the nodes (src/cluster/localCluster.ts).
  let local;
  try {
    local = takeClusterLocal(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  if (local !== null) argv = local.rest;
  let parsed;
  try {
    parsed = parseCommandLine(argv);
  } catch (err) {
    if (err instanceof ConfigFileError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  if (local !== null) {
    const options = parsed.options;
    const host = options.get('cluster-announce-ip') || (options.get('bind') ?? '127.0.0.1').split(/\s+/).filter(Boolean)[0].replace(/^-/, '');
    const code = await runLocalCluster({
      count: local.count,
      replicas: local.replicas,
      port: Number(options.get('port') ?? '6379'),
      dir: path.resolve(options.get('dir') ?? './data'),
      host: host === '0.0.0.0' || host === '*' || host === '::' ? '127.0.0.1' : host,
      args: argv,
      script: process.argv[1],
      log: (line) => process.stdout.write(`${line}\n`),
    }).catch((err: Error) => {
      process.stderr.write(`Spool failed to start: ${err.message}\n`);
      return 1;
    });
    process.exit(code);
  }
  const logger = createLogger({ level: parsed.options.get('loglevel'), file: parsed.options.get('logfile') });
  const fail = (reason: string): never => {
    logger.pino.fatal({ event: 'start_failed' }, reason);
    logger.flush();
    // Also on stderr, plain: the line a person starting it by hand (or systemd's journal) sees first.
    process.stderr.write(`Spool failed to start: ${reason}\n`);
    process.exit(1);
  };
  const dirProblem = checkDataDir(parsed.options.get('dir') ?? './data');
  if (dirProblem) fail(dirProblem);
  let server;
  try {
    server = await startServer(Object.fromEntries(parsed.options), {
      configFile: parsed.configFile ?? undefined,
      log: logger.log,
    });
  } catch (err) {
    return fail(describeStartupError(err));
  }
  const config = server.state.config;
  logger.follow(config, server.state.stats);
  const pidfile = config.get('pidfile');
  if (pidfile) await writeFile(pidfile, `${process.pid}\n`);
  const recovery = server.state.recovery;
  logger.pino.info(
    {
      event: 'ready',
      version: SPOOL_VERSION,
      port: server.port,
      tlsPort: config.getNumber('tls-port') || undefined,
      metricsPort: config.getNumber('metrics-port') || undefined,
      dir: config.get('dir'),
      appendfsync: config.get('appendfsync'),
      recovery: recovery && { streams: recovery.streams, entries: recovery.entries, bytes: recovery.bytes, seconds: recovery.seconds, repairs: recovery.repairs.length },
    },
    `Spool ${SPOOL_VERSION} pid=${process.pid} port=${server.port} dir=${config.get('dir')} appendfsync=${config.get('appendfsync')}: ready to accept connections`,
  );
  let signals = 0;
  const onSignal = (signal: string) => {
    signals++;
    if (signals > 1) {
      logger.pino.warn({ event: 'forced_exit', signal }, `Received ${signal} again: exiting now.`);
      logger.flush();
      process.exit(1);
    }
    logger.pino.info({ event: 'shutdown', signal }, `Received ${signal}, shutting down.`);
    void server.close();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  // A node of --cluster-local has an IPC channel to its launcher: when the launcher is gone (even killed with
  // SIGKILL) the channel closes, and the node stops as on SIGTERM instead of running on, orphaned.
  if (process.channel) process.once('disconnect', () => onSignal('launcher exit'));
  await server.stopped;
  logger.pino.info({ event: 'exit' }, 'Spool is now ready to exit, bye bye...');
  logger.flush();
  process.exit(0);
}
