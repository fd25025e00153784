/**
 * Where alerts go: one JSON object per line in `gateway.alerts.file` (appended; its directory is
 * created), or, when no file is configured, into the main log as lines with `type: "alert"`.
 *
 * The policy engine builds the alert object (time, transaction id, rule ids, …); the sink only writes it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/types.js';

export interface AlertSink {
  /** Writes one alert as one line. Never throws: a write failure is logged, the request goes on. */
  write(alert: object): void;
  /** Flushes and closes the file (no-op for the log sink). */
  close(): Promise<void>;
}

export function createAlertSink(config: GatewayConfig, logger: Logger): AlertSink {
  const file = config.gateway.alerts.file;
  if (file === null) {
    const alertLogger = logger.child({ type: 'alert' });
    return {
      write(alert) {
        alertLogger.warn({ alert }, 'alert');
      },
      async close() {},
    };
  }
  mkdirSync(dirname(file), { recursive: true });
  const stream = pino.destination({ dest: file, sync: false, append: true, mkdir: true });
  let failed = false;
  stream.on('error', (err: Error) => {
    if (!failed) logger.error({ err, file }, 'cannot write the alerts file; alerts are lost until reload');
    failed = true;
  });
  let closed = false;
  return {
    write(alert) {
      if (closed) return;
      let line: string;
      try {
        line = JSON.stringify(alert) + '\n';
      } catch (err) {
        logger.error({ err }, 'alert is not serialisable');
        return;
      }
      stream.write(line);
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => {
        stream.once('close', () => resolve());
        stream.once('error', () => resolve());
        stream.end();
      });
    },
  };
}
