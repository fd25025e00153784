/**
 * One server of one pool at run time: its upstream (connection pool), requests in flight, and the two
 * health verdicts. The active verdict (`up`) changes only after rise/fall consecutive checks; the
 * passive one holds a server out until `passiveDownUntil` after too many consecutive connect failures
 * or 5xx answers. A server takes new requests only when both allow it; requests already sent finish.
 */
import type { PoolMember } from '../config/types.js';
import type { Upstream } from '../pipeline/upstream-pools.js';
import { hash32 } from './pool-hash.js';

export class PoolServer {
  /** "address:port" ("[v6]:port"), as the logs and the health log show it. */
  readonly label: string;
  /** Sticky-cookie value: a hash, so the cookie does not reveal internal addresses. */
  readonly cookieId: string;
  readonly weight: number;
  readonly backup: boolean;
  /** Requests sent to this server and not finished (least-connections). */
  active = 0;
  /** Active health verdict; true until checks say otherwise. */
  up = true;
  /** Epoch ms until which passive health keeps the server out (0 = not held out). */
  passiveDownUntil = 0;
  /** Consecutive passive failures (connect failures, 5xx). */
  passiveFailures = 0;
  /** Smooth weighted round-robin state (nginx's current_weight). */
  currentWeight = 0;

  constructor(readonly member: PoolMember, readonly upstream: Upstream, readonly index: number) {
    this.label = `${member.address.includes(':') ? `[${member.address}]` : member.address}:${member.port}`;
    this.cookieId = hash32(`${member.address}|${member.port}`).toString(36);
    this.weight = member.weight;
    this.backup = member.backup;
  }

  usable(now: number): boolean {
    return this.up && now >= this.passiveDownUntil;
  }
}
