// Structured logs: one pino logger per process (main.ts makes it), JSON lines on standard output or in
// `logfile`; human-readable lines (src/server/logFormat.ts) when standard output is a terminal. pino because it
// writes newline-delimited JSON that log shippers (Loki, Fluent Bit, CloudWatch, journald + jq) read without
// parsing rules, it is among the fastest Node loggers (a disabled level costs one function call that returns at
// once), and it is well maintained.
//
// Levels follow Redis's `loglevel` names: debug, verbose (-> debug), notice (-> info), warning (-> warn),
// nothing (-> silent). The level follows CONFIG SET loglevel once follow() is given the server's config.

import pino from 'pino';
import type { ConfigStore } from '../config/configStore';
import type { Logger } from './persistence';
import type { ErrorReplyClient, ServerStats } from './serverState';
import { humanReadable } from './logFormat';

const LEVELS: Record<string, pino.LevelWithSilent> = {
  debug: 'debug',
  verbose: 'debug',
  notice: 'info',
  warning: 'warn',
  nothing: 'silent',
};

/** The pino level for a Redis `loglevel` value (unknown values: info, as notice, Redis's default). */
export function pinoLevel(redisLevel: string): pino.LevelWithSilent {
  return LEVELS[redisLevel.toLowerCase()] ?? 'info';
}

export interface SpoolLogger {
  readonly pino: pino.Logger;
  /** The (level, message) callback Persistence and startServer take. */
  readonly log: Logger;
  /** True when debug lines are written: callers test it before building a debug message (costs nothing when off). */
  readonly debugEnabled: boolean;
  setLevel(redisLevel: string): void;
  /**
   * Follows CONFIG SET loglevel on this server's configuration; with `stats`, error replies sent to clients are
   * logged at debug level (the hook is installed only while debug is on: otherwise an error reply pays one
   * null check).
   */
  follow(config: ConfigStore, stats?: ServerStats): void;
  /** Writes out what is buffered (before process.exit). */
  flush(): void;
}

export interface LoggerOptions {
  /** Redis loglevel name. */
  level?: string;
  /** Log file path; '' or undefined: standard output. */
  file?: string;
  /** For tests: where the lines go instead of stdout/file. */
  stream?: NodeJS.WritableStream;
  /**
   * Human-readable lines instead of JSON. Default: when the lines go to standard output and it is a terminal
   * (a person is reading); JSON otherwise (log shippers, files, pipes).
   */
  human?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): SpoolLogger {
  // Asynchronous destination (SonicBoom): the event loop never waits for the log file; flush() before exit.
  // Standard output is written synchronously so that start-up lines are never lost on an early exit.
  const destination =
    opts.stream ??
    (opts.file
      ? pino.destination({ dest: opts.file, sync: false, mkdir: true })
      : pino.destination({ dest: 1, sync: true }));
  const human = opts.human ?? (opts.stream === undefined && !opts.file && process.stdout.isTTY === true);
  const logger = pino(
    {
      level: pinoLevel(opts.level ?? 'notice'),
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names ("info") instead of numbers (30): readable without a lookup table.
      formatters: { level: (label) => ({ level: label }) },
    },
    human ? humanReadable(destination as { write(chunk: string): boolean }) : destination,
  );
  let errorStats: ServerStats | null = null;
  // Installed only while debug is on (setLevel), so the fields are gathered only for lines that are written.
  const debugErrors = (code: string, text: string, command: string | null, client: ErrorReplyClient | null) =>
    logger.debug(
      { event: 'error_reply', code, command: command ?? undefined, client_id: client?.id, addr: client?.remoteAddress },
      `error reply to client${client ? ` id=${client.id} addr=${client.remoteAddress}` : ''}${command ? ` (${command})` : ''}: ${text || code}`,
    );
  const api: SpoolLogger = {
    pino: logger,
    log: (level, message) => {
      if (level === 'warning') logger.warn(message);
      else logger.info(message);
    },
    get debugEnabled() {
      return logger.isLevelEnabled('debug');
    },
    setLevel: (redisLevel) => {
      logger.level = pinoLevel(redisLevel);
      if (errorStats) errorStats.onErrorReply = logger.isLevelEnabled('debug') ? debugErrors : null;
    },
    follow: (config, stats) => {
      errorStats = stats ?? null;
      api.setLevel(config.get('loglevel'));
      config.onChange((name, value) => {
        if (name === 'loglevel') api.setLevel(value);
      });
    },
    flush: () => {
      const d = destination as { flushSync?: () => void };
      try {
        d.flushSync?.();
      } catch {
        /* nothing buffered, or the file is gone: nothing more can be done before exit */
      }
    },
  };
  return api;
}
