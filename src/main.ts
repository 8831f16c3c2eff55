// Wiring only: read the command line and config file, start the server, handle signals.

import { ConfigFileError, parseCommandLine } from './config/configFile';
import { startServer } from './server/server';
import { SPOOL_VERSION } from './version';
import { writeFile } from 'node:fs/promises';

export async function main(argv: string[]): Promise<void> {
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
  let server;
  try {
    server = await startServer(Object.fromEntries(parsed.options), {
      configFile: parsed.configFile ?? undefined,
      log: (level, message) => process.stdout.write(`${process.pid}:M ${new Date().toISOString()} ${level === 'warning' ? '#' : '*'} ${message}\n`),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'EADDRINUSE' ? `port already in use (${e.message})` : e.message;
    process.stderr.write(`Spool failed to start: ${reason}\n`);
    process.exit(1);
  }
  const config = server.state.config;
  const pidfile = config.get('pidfile');
  if (pidfile) await writeFile(pidfile, `${process.pid}\n`);
  process.stdout.write(
    `Spool ${SPOOL_VERSION} pid=${process.pid} port=${server.port} dir=${config.get('dir')} appendfsync=${config.get('appendfsync')}: ready to accept connections\n`,
  );
  let signals = 0;
  const onSignal = (signal: string) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`Received ${signal} again: exiting now.\n`);
      process.exit(1);
    }
    process.stdout.write(`Received ${signal}, shutting down.\n`);
    void server.close();
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  await server.stopped;
  process.stdout.write('Spool is now ready to exit, bye bye...\n');
  process.exit(0);
}
