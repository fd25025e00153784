/** Local types for cap 0.2.1 (libpcap binding; ships no types). Only what src/packet uses. */
declare module 'cap' {
  import { EventEmitter } from 'node:events';
  export class Cap extends EventEmitter {
    /** Returns the link type name: "ETHERNET", "LINKTYPE_LINUX_SLL", "RAW", "NULL", … */
    open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
    close(): void;
    send(buffer: Buffer, nBytes?: number): void;
    on(event: 'packet', listener: (nbytes: number, truncated: boolean) => void): this;
    static findDevice(ip?: string): string | undefined;
    static deviceList(): { name: string; description?: string; addresses: { addr: string }[]; flags?: string }[];
  }
  const _default: { Cap: typeof Cap };
  export default _default;
}
