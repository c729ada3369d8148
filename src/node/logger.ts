/** pino logger: JSON lines by default, pretty in a terminal or when asked. */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export interface LoggerOptions {
  level?: LevelWithSilent;
  pretty?: boolean;
  /** Write to stderr (CLI commands whose stdout is data). */
  stderr?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? ((process.env.TRACECHAIN_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info');
  const fd = opts.stderr ? 2 : 1;
  if (opts.pretty) {
    return pino({ level }, pino.transport({ target: 'pino-pretty', options: { destination: fd, colorize: true, translateTime: 'SYS:HH:MM:ss.l' } }));
  }
  return pino({ level }, pino.destination({ dest: fd, sync: false }));
}
