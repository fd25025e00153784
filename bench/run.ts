/**
 * `npm run bench -- NAME [options]`: runs one benchmark by name. Each benchmark is also runnable on
 * its own: node --import tsx bench/NAME-bench.ts [options].
 */
const BENCHMARKS: Record<string, { file: string; about: string }> = {
  proxy: { file: './proxy-bench.js', about: 'req/s, p50/p99 and memory: direct, Portcullis, nginx, with and without the CRS' },
  engine: { file: './engine-bench.js', about: 'the policy engine alone, in process: transactions/s at PL1 and PL4' },
  bridge: { file: './bridge-bench.js', about: 'netns lab, root: bridge interception vs pure bridge, unprotected throughput, bridge vs alias' },
};

const [name, ...rest] = process.argv.slice(2);
const bench = name ? BENCHMARKS[name] : undefined;
if (!bench) {
  process.stderr.write(`usage: npm run bench -- NAME [options]   (NAME --help for its options)\n`);
  for (const [n, b] of Object.entries(BENCHMARKS)) process.stderr.write(`  ${n.padEnd(8)} ${b.about}\n`);
  process.exit(name ? 2 : 0);
}
const mod = (await import(bench.file)) as { main(argv: string[]): Promise<void> };
try {
  await mod.main(rest);
} catch (e) {
  process.stderr.write(`bench ${name}: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
}
