/**
 * Signals and last-resort error handlers of a daemon process.
 *
 * SIGHUP reloads; SIGTERM and SIGINT stop gracefully (a second one exits at once). An exception that
 * escapes request handling is a bug: it is logged with its stack and the daemon keeps serving, because
 * one bad request must not drop every other connection.
 */
import type { Logger } from 'pino';

export interface ProcessHandlers {
  readonly onReload: () => void;
  readonly onStop: (signal: NodeJS.Signals) => void;
}

export function installProcessHandlers(logger: Logger, handlers: ProcessHandlers): () => void {
  let stopping = false;
  const onHup = () => {
    logger.info({ signal: 'SIGHUP' }, 'reload requested');
    handlers.onReload();
  };
  const onStopSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second stop signal: exiting without waiting for in-flight requests');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'stop requested');
    handlers.onStop(signal);
  };
  const onUncaught = (err: Error) => {
    logger.error({ err }, 'uncaught exception (a bug): logged, the daemon keeps running');
  };
  const onRejection = (reason: unknown) => {
    logger.error({ err: reason }, 'unhandled promise rejection (a bug): logged, the daemon keeps running');
  };
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onStopSignal);
  process.on('SIGINT', onStopSignal);
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onStopSignal);
    process.off('SIGINT', onStopSignal);
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onRejection);
  };
}
