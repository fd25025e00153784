/**
 * In-memory store for persistent collections (IP, GLOBAL, SESSION, USER, RESOURCE) opened by initcol.
 * ModSecurity keeps them in SDBM files; a gateway process keeps them in memory, bounded: at most
 * `maxRecords` records per collection name (least recently used evicted), records idle longer than the
 * collection timeout dropped, and variables with expirevar removed when they expire.
 */
import { MapCollection } from './collection.js';

export class PersistentRecord extends MapCollection {
  /** Variable (lower-case) → expiry time in ms. */
  readonly expiries = new Map<string, number>();
  lastUpdate: number;

  constructor(now: number) {
    super();
    this.lastUpdate = now;
  }

  /** Drops expired variables. */
  purge(now: number): void {
    if (this.expiries.size === 0) return;
    for (const [k, at] of this.expiries) {
      if (at <= now) {
        this.map.delete(k);
        this.expiries.delete(k);
      }
    }
  }
}

export class CollectionStore {
  private readonly collections = new Map<string, Map<string, PersistentRecord>>();

  constructor(
    private readonly maxRecords = 10000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Opens (or creates) a record; `timeoutSeconds` is SecCollectionTimeout. */
  open(collection: string, key: string, timeoutSeconds: number): PersistentRecord {
    let records = this.collections.get(collection);
    if (!records) {
      records = new Map();
      this.collections.set(collection, records);
    }
    const now = this.now();
    let rec = records.get(key);
    if (rec && now - rec.lastUpdate > timeoutSeconds * 1000) rec = undefined;
    if (rec) {
      records.delete(key); // re-insert: Map order is the LRU order
      rec.purge(now);
    } else {
      rec = new PersistentRecord(now);
      rec.set('key', key);
      rec.set('create_time', String(Math.floor(now / 1000)));
    }
    records.set(key, rec);
    if (records.size > this.maxRecords) {
      const oldest = records.keys().next().value as string;
      records.delete(oldest);
    }
    return rec;
  }

  size(collection: string): number {
    return this.collections.get(collection)?.size ?? 0;
  }

  clear(): void {
    this.collections.clear();
  }

  currentTime(): number {
    return this.now();
  }
}
