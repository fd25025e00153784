/** A one-line progress bar on a terminal stream (redrawn at most 10 times a second). */
import type { Writable } from 'node:stream';

export interface ProgressBar {
  update(done: number, total: number): void;
  /** Erases the bar (before printing a normal line). */
  clear(): void;
  done(): void;
}

const WIDTH = 30;

export function progressBar(stream: Writable): ProgressBar {
  let last = 0;
  let shown = false;
  let lastLine = '';
  const mib = (n: number) => (n / 1048576).toFixed(1);
  return {
    update(done, total) {
      const now = Date.now();
      if (now - last < 100 && done < total) return;
      last = now;
      const frac = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(frac * WIDTH);
      lastLine = `[${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${mib(done)}/${mib(total)} MiB`;
      stream.write(`\r${lastLine}`);
      shown = true;
    },
    clear() {
      if (shown) stream.write(`\r${' '.repeat(lastLine.length)}\r`);
      shown = false;
    },
    done() {
      if (shown) stream.write('\n');
      shown = false;
    },
  };
}
