/** Local types for nfqueue 0.3.2 (libnetfilter_queue binding; ships no types). */
declare module 'nfqueue' {
  export interface NfqPacketInfo {
    readonly len: number;
    readonly id: number;
    readonly nfmark: number;
    readonly indev: number;
    readonly outdev: number;
    readonly physindev?: number;
    readonly physoutdev?: number;
  }
  export interface NfqPacket {
    /** The L3 packet (IPv4 or IPv6 header first). */
    readonly payload: Buffer;
    readonly info: NfqPacketInfo;
    setVerdict(verdict: number, mark?: number, payload?: Buffer): void;
  }
  export const NF_DROP: number;
  export const NF_ACCEPT: number;
  export const NF_STOLEN: number;
  export const NF_QUEUE: number;
  export const NF_REPEAT: number;
  export const NF_STOP: number;
  export function createQueueHandler(queue: number, bufferSize: number, callback: (packet: NfqPacket) => void): unknown;
}
