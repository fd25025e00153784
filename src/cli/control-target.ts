/**
 * Which control socket `portcullis reload` and `status` talk to: --socket, else the configuration's
 * gateway.control.socket. The file is read with the full loader when it is valid; when it is not (the
 * very case a reload must report), the one key is read from the raw YAML so the daemon can still be
 * asked, and tells what is wrong.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfigFile } from '../config/load.js';

export const DEFAULT_CONTROL_SOCKET = '/run/portcullis/control.sock';

export function controlSocketOf(socketFlag: string | undefined, configFile: string): string {
  if (socketFlag !== undefined) return socketFlag;
  const loaded = loadConfigFile(configFile);
  if (loaded.ok) return loaded.config.gateway.control.socket;
  try {
    const raw = parse(readFileSync(configFile, 'utf8')) as { gateway?: { control?: { socket?: unknown } } } | null;
    const socket = raw?.gateway?.control?.socket;
    if (typeof socket === 'string' && socket !== '') return resolve(dirname(configFile), socket);
  } catch {
    // Unreadable or not YAML: fall through to the defaults.
  }
  return process.env['PORTCULLIS_CONTROL'] ?? DEFAULT_CONTROL_SOCKET;
}
