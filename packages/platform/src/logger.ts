// JSON logs (pino) on stdout, one line per event.
import { type Logger, pino } from "pino";

export type { Logger };

export function createLogger(name: string, level: string): Logger {
  return pino({ name, level, base: { service: name } });
}
