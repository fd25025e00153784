/**
 * `portcullis`: the one entry point. Dispatches to the sub-commands registered in commands/index.ts.
 *
 * Exit codes: 0 ok, 1 failure, 2 usage error (unknown command or flag), 3 no daemon running
 * (reload/status). `--help` works on every command; `--version` prints the package version.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { COMMANDS } from './commands/index.js';
import { EXIT, UsageError, type CliIo } from './command.js';

function version(): string {
  // src/cli/main.ts and dist/src/cli/main.js sit at different depths below package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'portcullis') return pkg.version ?? 'unknown';
    } catch {
      // not here; go up
    }
    dir = dirname(dir);
  }
  return 'unknown';
}

function overview(): string {
  const visible = COMMANDS.filter((c) => !c.hidden);
  const width = Math.max(...visible.map((c) => c.name.length));
  return [
    'Usage: portcullis COMMAND [options]',
    '',
    'Portcullis, a web application firewall gateway.',
    '',
    'Commands:',
    ...visible.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Options:',
    '  -h, --help     show this help (also: portcullis COMMAND --help)',
    '  -V, --version  print the version',
    '',
    'Exit codes: 0 ok, 1 failure, 2 usage error, 3 no daemon running (reload, status).',
  ].join('\n');
}

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout).write(overview() + '\n');
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`portcullis ${version()}\n`);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    const what = name.startsWith('-') ? `unknown option ${name}` : `unknown command "${name}"`;
    io.stderr.write(`portcullis: ${what}; see portcullis --help\n`);
    return EXIT.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.help + '\n');
    return EXIT.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`portcullis: ${err.message}; see portcullis ${command.name} --help\n`);
      return EXIT.usage;
    }
    throw err;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
    (code) => {
      process.exitCode = code;
      // A command is finished when it returns; a forgotten handle must not keep the process alive.
      setTimeout(() => process.exit(code), 2000).unref();
    },
    (err: unknown) => {
      process.stderr.write(`portcullis: unexpected error (a bug): ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = EXIT.failure;
    },
  );
}
