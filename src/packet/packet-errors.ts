/** Typed errors of the packet tooling, with stable codes. */
export type PacketErrorCode =
  | 'ERR_PCAP_BAD_MAGIC'
  | 'ERR_PCAP_TRUNCATED'
  | 'ERR_PCAP_BAD_RECORD'
  | 'ERR_PCAP_IO'
  | 'ERR_CAPTURE_UNAVAILABLE'
  | 'ERR_CAPTURE_OPEN'
  | 'ERR_RAW_SOCKET'
  | 'ERR_NFQUEUE_UNAVAILABLE'
  | 'ERR_NFQUEUE_OPEN';

export class PacketError extends Error {
  override readonly name = 'PacketError';
  constructor(readonly code: PacketErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
