/**
 * The routing table of one alias listener, compiled once from every reverse-proxy rule bound to that
 * address:port (several services may share it: virtual hosting by Host). Lookup walks the rules in
 * priority order and returns the first whose host and URL prefix match; matching compares precomputed
 * strings only.
 */
import type { OutboundRule, ReverseProxyRule, ServerGroup, Service } from '../../config/types.js';
import type { ForwardingPolicy } from '../../pipeline/forwarded.js';
import type { Route, RoutePool } from '../../pipeline/route.js';
import type { UpstreamPools } from '../../pipeline/upstream-pools.js';

/** One outbound rule with the context it was declared in. */
export interface OutboundEntry {
  readonly rule: OutboundRule;
  readonly reverseProxy: ReverseProxyRule;
  readonly service: Service;
  readonly serverGroup: ServerGroup;
}

const enum HostMatch {
  Any,
  Exact,
  /** `*.example.com`: any name ending in `.example.com` (one or more labels in front). */
  Subdomain,
}

interface CompiledRule {
  readonly kind: HostMatch;
  /** Exact: the name; Subdomain: the suffix including its leading dot. */
  readonly host: string;
  readonly urlPrefix: string;
  readonly route: Route;
}

export class OutboundRuleTable {
  private constructor(private readonly rules: readonly CompiledRule[]) {}

  /**
   * Entries are ordered by priority; equal priorities (possible across services sharing a listener) keep
   * their declaration order.
   */
  static compile(entries: readonly OutboundEntry[], pools: UpstreamPools,
    forwardingFor: (service: Service) => ForwardingPolicy,
    /** Builds the server pool of a rule that has one (docs/POOLS.md). */
    poolFor?: (entry: OutboundEntry) => RoutePool): OutboundRuleTable {
    const ordered = entries.map((e, index) => ({ e, index }))
      .sort((a, b) => a.e.rule.priority - b.e.rule.priority || a.index - b.index);
    const rules: CompiledRule[] = ordered.map(({ e }) => {
      const { rule, service, serverGroup } = e;
      const pool = rule.pool !== null && poolFor !== undefined ? poolFor(e) : undefined;
      const host = rule.host.toLowerCase();
      const kind = host === '*' ? HostMatch.Any : host.startsWith('*.') ? HostMatch.Subdomain : HostMatch.Exact;
      const upstream = pools.get({
        host: rule.serverIp ?? rule.serverHost ?? '',
        port: rule.serverPort,
        encrypt: rule.encrypt,
        validateServerCertificate: rule.validateServerCertificate,
        ca: rule.ca,
        serverName: rule.serverName,
      });
      return {
        kind,
        host: kind === HostMatch.Subdomain ? host.slice(1) : host,
        urlPrefix: rule.urlPrefix,
        route: {
          serverGroup: serverGroup.name,
          service: service.name,
          rule: rule.priority,
          upstream,
          forwarding: forwardingFor(service),
          // The client's Host is kept: the server behind an alias usually serves the public name.
          hostHeader: null,
          requireClientCertificate: e.reverseProxy.tls && service.clientAuth !== null && service.clientAuth.required,
          ...(pool !== undefined ? { pool } : {}),
        },
      };
    });
    return new OutboundRuleTable(rules);
  }

  /** host: lower-case, no port; path: without query. null = no rule matches (→ 404 no-matching-rule). */
  lookup(host: string, path: string): Route | null {
    const rules = this.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.kind === HostMatch.Exact) {
        if (host !== r.host) continue;
      } else if (r.kind === HostMatch.Subdomain) {
        if (host.length <= r.host.length || !host.endsWith(r.host)) continue;
      }
      if (!path.startsWith(r.urlPrefix)) continue;
      return r.route;
    }
    return null;
  }

  get size(): number {
    return this.rules.length;
  }
}
