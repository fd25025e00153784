import { parseFlags } from '../args.js';
import { EXIT, UsageError, type CliCommand } from '../command.js';

export const captureCommand: CliCommand = {
  name: 'capture',
  summary: 'record packets from an interface into a pcap file (libpcap)',
  help: `Usage: portcullis capture -i IFACE -w FILE.pcap [--filter BPF] [-c N] [--duration S]

Captures with libpcap on IFACE and writes a classic pcap file that \`portcullis replay\`, tcpdump and
Wireshark read. Stops after N packets, after S seconds, or on Ctrl-C (SIGINT/SIGTERM), whichever
comes first; the file is complete in every case. Progress (packets, bytes, kernel drops) is shown on
stderr. Needs CAP_NET_RAW (root, or setcap/AmbientCapabilities).

Options:
  -i, --interface IFACE  interface to capture on (e.g. eth1, any)
  -w, --write FILE       pcap file to write (overwritten)
      --filter BPF       capture filter, pcap-filter(7) syntax, e.g. "tcp port 80"
  -c, --count N          stop after N packets
      --duration S       stop after S seconds
  -h, --help             show this help

Exit codes: 0 captured, 1 capture could not start (interface, permission, filter), 2 usage error.`,
  async run(argv, io) {
    const { values } = parseFlags('capture', argv, {
      interface: { type: 'string', short: 'i' },
      write: { type: 'string', short: 'w' },
      filter: { type: 'string' },
      count: { type: 'string', short: 'c' },
      duration: { type: 'string' },
    });
    if (!values.interface) throw new UsageError('capture needs -i IFACE');
    if (!values.write) throw new UsageError('capture needs -w FILE.pcap');
    const count = values.count === undefined ? Infinity : positive('-c', values.count, true);
    const durationS = values.duration === undefined ? Infinity : positive('--duration', values.duration, false);
    const { openLiveCapture } = await import('../../packet/live-capture.js');
    const { PcapWriter } = await import('../../packet/pcap-file.js');
    const { PacketError } = await import('../../packet/packet-errors.js');
    const snapLength = 65535;
    let writer: InstanceType<typeof PcapWriter> | null = null;
    let packets = 0;
    let bytes = 0;
    let finish: () => void = () => {};
    const finished = new Promise<void>((resolve) => { finish = resolve; });
    let capture: Awaited<ReturnType<typeof openLiveCapture>>;
    try {
      capture = await openLiveCapture({
        interface: values.interface, filter: values.filter ?? '', bufferBytes: 16 * 1024 * 1024, snapLength,
        onFrame: (frame, timeMs) => {
          if (packets >= count) return;
          writer!.write(frame, timeMs);
          packets++;
          bytes += frame.length;
          if (packets >= count) finish();
        },
      });
    } catch (err) {
      if (err instanceof PacketError) {
        io.stderr.write(`portcullis: ${err.message}\n`);
        return EXIT.failure;
      }
      throw err;
    }
    try {
      writer = new PcapWriter(values.write, capture.linkType, snapLength);
    } catch (err) {
      capture.close();
      io.stderr.write(`portcullis: ${(err as Error).message}\n`);
      return EXIT.failure;
    }
    const tty = (io.stderr as { isTTY?: boolean }).isTTY === true;
    const status = () => {
      const c = capture.counters();
      return `captured ${packets} packets (${bytes} bytes), kernel drops ${capture.dropCounting ? c.dropped : 'unknown'}`;
    };
    const ticker = setInterval(() => {
      if (tty) io.stderr.write(`\r${status()}`);
      writer!.flush();
    }, tty ? 250 : 1000);
    const timer = durationS === Infinity ? null : setTimeout(finish, durationS * 1000);
    const onSignal = () => finish();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    io.stderr.write(`capturing on ${values.interface}${values.filter ? ` (filter: ${values.filter})` : ''} into ${values.write}\n`);
    await finished;
    clearInterval(ticker);
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const line = status();
    capture.close();
    writer.close();
    io.stderr.write(`${tty ? '\r' : ''}${line}\n`);
    return EXIT.ok;
  },
};

function positive(flag: string, text: string, integer: boolean): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`capture: ${flag} needs a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`);
  }
  return n;
}
