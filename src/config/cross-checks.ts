/**
 * Checks that involve more than one object: names unique where they must be, references resolved
 * (reverse-proxy alias → gateway.aliases, serverCertificate → the service's certificates), rule
 * priorities unique per list, listeners not used with conflicting TLS, and what the chosen mode
 * needs. Also fills the fields derived from those relations (aliasRef, tls, serverCertificateRef,
 * sorted rules, CRS locations inherited from gateway.crs).
 *
 * Runs even when the schema pass reported errors, so that one run lists everything; objects the
 * schema pass marked incomplete are skipped where their missing parts would matter, which keeps a
 * bad value from also producing a second, confusing error further down.
 */
import type { DecodeContext } from './schema.js';
import type { Alias, Certificate, CustomRule, GatewaySection, OutboundRule, ReverseProxyRule, ServerGroup, Service, Site } from './types.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type DecodedRoot = { gateway?: GatewaySection; sites?: Site[] };

/** Reports the second and later objects whose `key` value repeats an earlier one. */
function unique<T extends object>(items: readonly T[], key: keyof T & string, what: string, cx: DecodeContext): Map<unknown, T> {
  const seen = new Map<unknown, T>();
  for (const item of items) {
    const value = item[key];
    if (value === undefined || value === null) continue;
    const first = seen.get(value);
    if (first) {
      cx.reportAt(item, key, 'DUPLICATE',
        `${what} ${JSON.stringify(value)} is already used by ${cx.pathOf(first)} (line ${cx.lineOf(first, key)})`);
    } else {
      seen.set(value, item);
    }
  }
  return seen;
}

function list<T>(v: readonly T[] | undefined): readonly T[] {
  return Array.isArray(v) ? v : [];
}

export function crossCheck(root: DecodedRoot, cx: DecodeContext): void {
  const gateway = root.gateway;
  const sites = list(root.sites);
  const aliases = list(gateway?.aliases);
  const aliasByName = unique(aliases, 'name', 'alias name', cx) as Map<string, Alias>;
  unique(aliases.filter((a) => !cx.incomplete.has(a)), 'address', 'alias address', cx);
  unique(sites, 'name', 'site name', cx);
  const groups = sites.flatMap((s) => list(s.serverGroups));
  // Inspectors, alerts and logs name a server group by its name alone, so names are unique across sites.
  unique(groups, 'name', 'server group name', cx);

  const listeners = new Map<string, { tls: boolean; rp: ReverseProxyRule }>();
  let reverseProxyCount = 0;
  for (const group of groups) {
    checkGroupPolicies(group, gateway, cx);
    const services = list(group.services);
    unique(services, 'name', 'service name', cx);
    for (const service of services) {
      const certificates = list(service.certificates);
      const certByName = unique(certificates, 'name', 'certificate name', cx) as Map<string, Certificate>;
      for (const rp of list(service.reverseProxy)) {
        reverseProxyCount++;
        checkReverseProxy(rp as Mutable<ReverseProxyRule>, service, aliasByName, certByName, listeners, cx);
      }
    }
  }

  if (gateway?.mode === 'bridge') {
    // Bridge mode intercepts by destination address: one server in two groups would be ambiguous.
    const owners = new Map<string, ServerGroup>();
    for (const group of groups) {
      list(group.servers).forEach((server, i) => {
        const owner = owners.get(server);
        if (owner && owner !== group) {
          cx.reportAt(group, `servers[${i}]`, 'DUPLICATE',
            `server ${server} already belongs to server group ${JSON.stringify(owner.name)} (${cx.pathOf(owner)}); in bridge mode each server belongs to one group`);
        } else {
          owners.set(server, group);
        }
      });
    }
  }

  if (gateway?.mode === 'alias' && reverseProxyCount === 0 && sites.length > 0 && !sites.some((s) => cx.incomplete.has(s))) {
    cx.reportAt(gateway, 'mode', 'MODE_REQUIREMENT',
      'mode alias needs at least one reverseProxy entry (sites[].serverGroups[].services[].reverseProxy); none is configured');
  }
}

function checkGroupPolicies(group: ServerGroup, gateway: GatewaySection | undefined, cx: DecodeContext): void {
  const policies = group.policies;
  if (!policies) return;
  const crs = policies.crs as Mutable<NonNullable<typeof policies.crs>> | null;
  if (crs) {
    crs.rulesDir ??= gateway?.crs?.rulesDir ?? '/usr/share/modsecurity-crs/rules';
    crs.setupFile ??= gateway?.crs?.setupFile ?? '/etc/modsecurity/crs/crs-setup.conf';
  }
  unique(list(policies.native?.rules) as CustomRule[], 'id', 'custom rule id', cx);
}

function checkReverseProxy(
  rp: Mutable<ReverseProxyRule>,
  service: Service,
  aliasByName: Map<string, Alias>,
  certByName: Map<string, Certificate>,
  listeners: Map<string, { tls: boolean; rp: ReverseProxyRule }>,
  cx: DecodeContext,
): void {
  if (typeof rp.alias === 'string') {
    const alias = aliasByName.get(rp.alias);
    if (alias) {
      // An alias with its own errors has no derived address yet; it still counts as defined.
      if (!cx.incomplete.has(alias)) rp.aliasRef = alias;
    } else {
      const known = [...aliasByName.keys()];
      cx.reportAt(rp, 'alias', 'UNKNOWN_REFERENCE', known.length > 0
        ? `unknown alias ${JSON.stringify(rp.alias)}; defined in gateway.aliases: ${known.join(', ')}`
        : `unknown alias ${JSON.stringify(rp.alias)}; gateway.aliases defines none`);
    }
  }

  const sslPorts = list(service.sslPorts);
  const explicitTls = rp.tls as boolean | null | undefined;
  if (typeof rp.port === 'number') {
    const inSslPorts = sslPorts.includes(rp.port);
    if (explicitTls === false && inSslPorts) {
      cx.reportAt(rp, 'tls', 'CONFLICT', `tls is false but port ${rp.port} is in the service's sslPorts`);
    }
    rp.tls = explicitTls ?? inSslPorts;

    const serverCertificate = rp.serverCertificate ?? null;
    if (rp.tls && serverCertificate === null) {
      cx.reportAt(rp, 'serverCertificate', 'MISSING_KEY',
        `port ${rp.port} is a TLS port (${explicitTls ? 'tls: true' : 'in sslPorts'}); serverCertificate is required`);
    } else if (!rp.tls && serverCertificate !== null) {
      cx.reportAt(rp, 'serverCertificate', 'CONFLICT',
        `serverCertificate is set but port ${rp.port} is not a TLS port (add it to the service's sslPorts or set tls: true)`);
    }

    if (rp.aliasRef) {
      const key = `${rp.aliasRef.address}:${rp.port}`;
      const other = listeners.get(key);
      if (!other) {
        listeners.set(key, { tls: rp.tls, rp });
      } else if (other.tls !== rp.tls) {
        cx.reportAt(rp, 'port', 'CONFLICT',
          `listener ${formatHostPort(rp.aliasRef.address, rp.port)} is ${rp.tls ? 'TLS' : 'plain HTTP'} here but ${other.tls ? 'TLS' : 'plain HTTP'} in ${cx.pathOf(other.rp)} (line ${cx.lineOf(other.rp)})`);
      }
    }
  }

  rp.serverCertificateRef = null;
  if (typeof rp.serverCertificate === 'string') {
    const cert = certByName.get(rp.serverCertificate);
    if (cert) {
      rp.serverCertificateRef = cert;
    } else {
      const known = [...certByName.keys()];
      cx.reportAt(rp, 'serverCertificate', 'UNKNOWN_REFERENCE', known.length > 0
        ? `unknown certificate ${JSON.stringify(rp.serverCertificate)}; this service's certificates: ${known.join(', ')}`
        : `unknown certificate ${JSON.stringify(rp.serverCertificate)}; this service has no certificates`);
    }
  }

  const rules = list(rp.rules) as OutboundRule[];
  unique(rules, 'priority', 'priority', cx);
  // First match by priority wins, so consumers walk the list in order.
  rp.rules = [...rules].sort((a, b) => a.priority - b.priority);
}

function formatHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
