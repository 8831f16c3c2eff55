// Human-readable log lines for a terminal: pino writes one JSON object per line; when standard output is a
// terminal, each line is rewritten as `time LEVEL message key=value ...` before it is written. pino itself has
// no built-in pretty printer (pino-pretty is a separate package); this small formatter avoids the dependency.
// Anything that is not a JSON object line (should not happen) is passed through unchanged.

/** Keys printed in the line's fixed part (time, level, message), or left out (pid: the same on every line). */
const FIXED_KEYS = new Set(['time', 'level', 'msg', 'pid']);

/** A value as it appears after `key=`: bare when it is one plain word, JSON (quoted, escaped) otherwise. */
function formatValue(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=\\]+$/.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

/** One JSON log line (with or without its newline) as `time LEVEL message key=value ...\n`. */
export function formatLogLine(line: string): string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return line.endsWith('\n') ? line : `${line}\n`;
  const fields = record as Record<string, unknown>;
  const parts: string[] = [
    String(fields.time ?? ''),
    String(fields.level ?? '').toUpperCase().padEnd(5),
    String(fields.msg ?? ''),
  ];
  for (const [key, value] of Object.entries(fields)) {
    if (FIXED_KEYS.has(key) || value === undefined) continue;
    parts.push(`${key}=${formatValue(value)}`);
  }
  return `${parts.join(' ')}\n`;
}

/** What pino needs of a destination. */
export interface LineSink {
  write(chunk: string): boolean | void;
}

/** A pino destination that writes each line to `sink` in the human format. */
export function humanReadable(sink: LineSink): LineSink {
  return {
    write(chunk: string) {
      // pino writes one line per call; split anyway so a chunk of several lines stays correct.
      let out = '';
      for (const line of chunk.split('\n')) if (line !== '') out += formatLogLine(line);
      return sink.write(out);
    },
  };
}
