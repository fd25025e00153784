/**
 * A table of bad configuration files and the exact messages they produce (file:line:col: path: message).
 * Each case is a whole file, so the positions can be checked by eye against the text.
 * `F` stands for the case's file name and `<pki>` for the directory of the certificates generated for
 * the run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatConfigError, parseConfigText } from '../../src/config/load.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';

interface Case {
  readonly name: string;
  readonly yaml: string;
  readonly errors: readonly string[];
  /** Stable codes, in the same order as `errors`. */
  readonly codes?: readonly string[];
}

let pki: TestPki;
let dir: string;

before(() => {
  pki = createTestPki();
  pki.server('shop', ['shop.example.com']);
  pki.server('other', ['other.example.com']);
  writeFileSync(join(pki.dir, 'not-a-cert.pem'), 'hello, I am not a certificate\n');
  execFileSync('openssl', ['pkey', '-in', 'shop.key', '-aes256', '-passout', 'pass:secret', '-out', 'encrypted.key'], { cwd: pki.dir });
  dir = mkdtempSync(join(tmpdir(), 'portcullis-badcfg-'));
});

after(() => {
  pki.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const cases: Case[] = [
  {
    name: 'YAML syntax error: unterminated flow mapping',
    yaml: `gateway:
  mode: alias
  log: { level: info
sites: []
`,
    errors: ['F:4:1: YAML BAD_INDENT: Flow map in block collection must be sufficiently indented and end with a }'],
    codes: ['YAML_SYNTAX'],
  },
  {
    name: 'YAML syntax error: bad indentation',
    yaml: `gateway:
  mode: alias
   workers: 2
`,
    // The parser reads "alias\n   workers: 2" as one multi-line scalar key; it reports that where it starts.
    errors: [
      'F:2:9: YAML BLOCK_AS_IMPLICIT_KEY: Nested mappings are not allowed in compact mappings',
      'F:2:9: YAML MULTILINE_IMPLICIT_KEY: Implicit keys need to be on a single line',
    ],
    codes: ['YAML_SYNTAX', 'YAML_SYNTAX'],
  },
  {
    name: 'the same key twice in one mapping',
    yaml: `gateway:
  mode: alias
  mode: bridge
`,
    errors: ['F:3:3: the same key appears twice in one mapping'],
    codes: ['DUPLICATE_KEY'],
  },
  {
    name: 'empty file',
    yaml: `# nothing but a comment
`,
    errors: ['F:1:1: the file holds no configuration (expected keys gateway and sites)'],
    codes: ['EMPTY_DOCUMENT'],
  },
  {
    name: 'document is a list, not a mapping',
    yaml: `- gateway
- sites
`,
    errors: ['F:1:1: the document must be a mapping (got a list)'],
  },
  {
    name: 'unknown key at the top level (typo) and the required key it was meant to be',
    yaml: `gateway:
  mode: sniff
site:
  - name: x
`,
    errors: [
      'F:1:1: sites: required key "sites" is missing',
      'F:3:1: site: unknown key "site"; allowed: gateway, sites',
    ],
    codes: ['MISSING_KEY', 'UNKNOWN_KEY'],
  },
  {
    name: 'unknown key in gateway',
    yaml: `gateway:
  mode: sniff
  worker: 2
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [80]
`,
    errors: ['F:3:3: gateway.worker: unknown key "worker"; allowed: mode, workers, log, alerts, control, aliases, bridge, sniff, nfqueue, limits, timeouts, blockPage, crs, skipAddressCheck'],
  },
  {
    name: 'unknown key in a service',
    yaml: `gateway: { mode: sniff }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            prot: [80]
`,
    errors: ['F:8:13: sites[0].serverGroups[0].services[0].prot: unknown key "prot"; allowed: name, ports, sslPorts, certificates, forwardedConnections, forwardedClientIp, encrypt, validateServerCertificate, caFile, clientAuth, pool, reverseProxy'],
  },
  {
    name: 'unknown key in an outbound rule',
    yaml: `gateway:
  mode: alias
  aliases: [{ name: vip, device: lo, address: 127.0.0.1/8 }]
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [80]
            reverseProxy:
              - alias: vip
                port: 80
                rules:
                  - { priority: 10, serverIp: 127.0.0.1, serverPort: 81, urlprefix: /api }
`,
    errors: ['F:15:74: sites[0].serverGroups[0].services[0].reverseProxy[0].rules[0].urlprefix: unknown key "urlprefix"; allowed: priority, host, urlPrefix, serverIp, serverHost, serverPort, encrypt, validateServerCertificate, caFile, serverName, pool'],
  },
  {
    name: 'unknown key in native policies',
    yaml: `gateway: { mode: sniff }
sites:
  - name: s
    serverGroups:
      - name: g
        policies:
          native:
            ipBlock: [10.0.0.0/8]
        services: [{ name: web, ports: [80] }]
`,
    errors: ['F:8:13: sites[0].serverGroups[0].policies.native.ipBlock: unknown key "ipBlock"; allowed: ipAllow, ipDeny, allowedMethods, maxUrlBytes, maxHeaderBytes, maxBodyBytes, rateLimit, rules'],
  },
  {
    name: 'wrong types: workers, accessLog, sites',
    yaml: `gateway:
  mode: sniff
  workers: two
  log: { accessLog: "yes" }
sites:
  name: s
`,
    errors: [
      'F:3:12: gateway.workers: workers must be "auto" or an integer from 1 to 1024 (got string "two")',
      'F:4:21: gateway.log.accessLog: accessLog must be true or false (got string "yes")',
      'F:6:3: sites: sites must be a list (got a mapping)',
    ],
    codes: ['WRONG_TYPE', 'WRONG_TYPE', 'WRONG_TYPE'],
  },
  {
    name: 'bad enums: mode, operationMode, log level',
    yaml: `gateway:
  mode: proxy
  log: { level: verbose }
sites:
  - name: s
    serverGroups:
      - name: g
        operationMode: block
        services: [{ name: web, ports: [80] }]
`,
    errors: [
      'F:2:9: gateway.mode: mode must be one of alias, bridge, sniff (got string "proxy")',
      'F:3:17: gateway.log.level: level must be one of fatal, error, warn, info, debug, trace, silent (got string "verbose")',
      'F:8:24: sites[0].serverGroups[0].operationMode: operationMode must be one of active, simulation, disabled (got string "block")',
    ],
    codes: ['BAD_ENUM', 'BAD_ENUM', 'BAD_ENUM'],
  },
  {
    name: 'bad IP addresses: server and serverIp (with a hint)',
    yaml: `gateway:
  mode: alias
  aliases: [{ name: vip, device: lo, address: 127.0.0.1 }]
sites:
  - name: s
    serverGroups:
      - name: g
        servers: [10.20.0.300, "fd00::1"]
        services:
          - name: web
            ports: [80]
            reverseProxy:
              - alias: vip
                port: 80
                rules: [{ priority: 10, serverIp: origin.local, serverPort: 80 }]
`,
    errors: [
      'F:8:19: sites[0].serverGroups[0].servers[0]: servers[0] must be an IPv4 or IPv6 address (got "10.20.0.300")',
      'F:15:51: sites[0].serverGroups[0].services[0].reverseProxy[0].rules[0].serverIp: serverIp must be an IPv4 or IPv6 address (got "origin.local"); use serverHost for a host name',
    ],
    codes: ['BAD_IP', 'BAD_IP'],
  },
  {
    name: 'bad CIDRs: prefix too long, prefix not a number, no address',
    yaml: `gateway:
  mode: sniff
  aliases:
    - { name: a, device: eth0, address: 10.30.0.100/33 }
sites:
  - name: s
    serverGroups:
      - name: g
        policies:
          native: { ipDeny: [10.0.0.0/abc, example.com/24] }
        services: [{ name: web, ports: [80] }]
`,
    errors: [
      'F:4:41: gateway.aliases[0].address: address has a bad prefix length "33": IPv4 prefixes are 0 to 32 (got "10.30.0.100/33")',
      'F:10:30: sites[0].serverGroups[0].policies.native.ipDeny[0]: ipDeny[0] has a bad prefix length "abc": IPv4 prefixes are 0 to 32 (got "10.0.0.0/abc")',
      'F:10:44: sites[0].serverGroups[0].policies.native.ipDeny[1]: ipDeny[1] has no valid IPv4 or IPv6 address before the prefix (got "example.com/24")',
    ],
    codes: ['BAD_CIDR', 'BAD_CIDR', 'BAD_CIDR'],
  },
  {
    name: 'ports: 0, 70000, "80" (a string), 8.5',
    yaml: `gateway: { mode: sniff }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [0, 70000, "80", 8.5]
`,
    errors: [
      'F:8:21: sites[0].serverGroups[0].services[0].ports[0]: ports[0] must be an integer from 1 to 65535 (got 0)',
      'F:8:24: sites[0].serverGroups[0].services[0].ports[1]: ports[1] must be an integer from 1 to 65535 (got 70000)',
      'F:8:31: sites[0].serverGroups[0].services[0].ports[2]: ports[2] must be an integer from 1 to 65535 (got string "80")',
      'F:8:37: sites[0].serverGroups[0].services[0].ports[3]: ports[3] must be an integer from 1 to 65535 (got 8.5)',
    ],
    codes: ['OUT_OF_RANGE', 'OUT_OF_RANGE', 'WRONG_TYPE', 'WRONG_TYPE'],
  },
  {
    name: 'duplicate priority in one rule list',
    yaml: `gateway:
  mode: alias
  aliases: [{ name: vip, device: lo, address: 127.0.0.1/8 }]
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [80]
            reverseProxy:
              - alias: vip
                port: 80
                rules:
                  - { priority: 10, urlPrefix: /api, serverIp: 127.0.0.1, serverPort: 81 }
                  - { priority: 20, urlPrefix: /, serverIp: 127.0.0.1, serverPort: 82 }
                  - { priority: 10, urlPrefix: /img, serverIp: 127.0.0.1, serverPort: 83 }
`,
    errors: ['F:17:33: sites[0].serverGroups[0].services[0].reverseProxy[0].rules[2].priority: priority 10 is already used by sites[0].serverGroups[0].services[0].reverseProxy[0].rules[0] (line 15)'],
    codes: ['DUPLICATE'],
  },
  {
    name: 'unknown alias reference',
    yaml: `gateway:
  mode: alias
  aliases: [{ name: vip1, device: lo, address: 127.0.0.1/8 }]
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [80]
            reverseProxy:
              - alias: vip2
                port: 80
                rules: [{ priority: 10, serverIp: 127.0.0.1, serverPort: 81 }]
`,
    errors: ['F:12:24: sites[0].serverGroups[0].services[0].reverseProxy[0].alias: unknown alias "vip2"; defined in gateway.aliases: vip1'],
    codes: ['UNKNOWN_REFERENCE'],
  },
  {
    name: 'unknown certificate reference',
    yaml: `gateway:
  mode: alias
  aliases: [{ name: vip, device: lo, address: 127.0.0.1/8 }]
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            sslPorts: [443]
            certificates:
              - { name: shop-cert, cert: <pki>/shop.crt, key: <pki>/shop.key }
            reverseProxy:
              - alias: vip
                port: 443
                serverCertificate: shop-crt
                rules: [{ priority: 10, serverIp: 127.0.0.1, serverPort: 81 }]
`,
    errors: ['F:16:36: sites[0].serverGroups[0].services[0].reverseProxy[0].serverCertificate: unknown certificate "shop-crt"; this service\'s certificates: shop-cert'],
    codes: ['UNKNOWN_REFERENCE'],
  },
  {
    name: 'TLS reverse-proxy port without serverCertificate; plain port with one',
    yaml: `gateway:
  mode: alias
  aliases: [{ name: vip, device: lo, address: 127.0.0.1/8 }]
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [80]
            sslPorts: [443]
            certificates:
              - { name: shop-cert, cert: <pki>/shop.crt, key: <pki>/shop.key }
            reverseProxy:
              - alias: vip
                port: 443
                rules: [{ priority: 10, serverIp: 127.0.0.1, serverPort: 81 }]
              - alias: vip
                port: 80
                serverCertificate: shop-cert
                rules: [{ priority: 10, serverIp: 127.0.0.1, serverPort: 81 }]
`,
    errors: [
      'F:15:17: sites[0].serverGroups[0].services[0].reverseProxy[0].serverCertificate: port 443 is a TLS port (in sslPorts); serverCertificate is required',
      'F:20:36: sites[0].serverGroups[0].services[0].reverseProxy[1].serverCertificate: serverCertificate is set but port 80 is not a TLS port (add it to the service\'s sslPorts or set tls: true)',
    ],
    codes: ['MISSING_KEY', 'CONFLICT'],
  },
  {
    name: 'missing certificate and key files',
    yaml: `gateway: { mode: sniff }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            sslPorts: [443]
            certificates:
              - name: gone
                cert: <pki>/missing.crt
                key: <pki>/missing.key
`,
    errors: [
      'F:11:23: sites[0].serverGroups[0].services[0].certificates[0].cert: cannot read certificate file <pki>/missing.crt: no such file (ENOENT)',
      'F:12:22: sites[0].serverGroups[0].services[0].certificates[0].key: cannot read key file <pki>/missing.key: no such file (ENOENT)',
    ],
    codes: ['FILE_NOT_READABLE', 'FILE_NOT_READABLE'],
  },
  {
    name: 'relative certificate paths resolve against the configuration file (and are reported absolute)',
    yaml: `gateway: { mode: sniff }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            certificates:
              - { name: c, cert: certs/shop.crt, key: certs/shop.key }
`,
    errors: [
      'F:9:34: sites[0].serverGroups[0].services[0].certificates[0].cert: cannot read certificate file <dir>/certs/shop.crt: no such file (ENOENT)',
      'F:9:55: sites[0].serverGroups[0].services[0].certificates[0].key: cannot read key file <dir>/certs/shop.key: no such file (ENOENT)',
    ],
  },
  {
    name: 'certificate and key that do not match',
    yaml: `gateway: { mode: sniff }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            certificates:
              - name: mixed
                cert: <pki>/shop.crt
                key: <pki>/other.key
`,
    errors: ['F:11:22: sites[0].serverGroups[0].services[0].certificates[0].key: key file <pki>/other.key does not match certificate <pki>/shop.crt (subject CN=shop.example.com)'],
    codes: ['CERT_KEY_MISMATCH'],
  },
  {
    name: 'files that hold no PEM certificate or key',
    yaml: `gateway: { mode: sniff }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            certificates:
              - name: junk
                cert: <pki>/not-a-cert.pem
                key: <pki>/not-a-cert.pem
                chain: <pki>/shop.key
`,
    errors: [
      'F:10:23: sites[0].serverGroups[0].services[0].certificates[0].cert: certificate file <pki>/not-a-cert.pem holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
      'F:11:22: sites[0].serverGroups[0].services[0].certificates[0].key: key file <pki>/not-a-cert.pem holds no PEM private key (-----BEGIN PRIVATE KEY-----)',
      'F:12:24: sites[0].serverGroups[0].services[0].certificates[0].chain: chain file <pki>/shop.key holds no PEM certificate (-----BEGIN CERTIFICATE-----)',
    ],
    codes: ['BAD_PEM', 'BAD_PEM', 'BAD_PEM'],
  },
  {
    name: 'an encrypted private key',
    yaml: `gateway: { mode: sniff }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            certificates:
              - name: c
                cert: <pki>/shop.crt
                key: <pki>/encrypted.key
`,
    errors: ['F:11:22: sites[0].serverGroups[0].services[0].certificates[0].key: key file <pki>/encrypted.key is encrypted; give an unencrypted key (e.g. openssl pkey -in KEY -out KEY.plain)'],
    codes: ['BAD_PEM'],
  },
  {
    name: 'ports and TLS that contradict each other; a block page that is missing',
    yaml: `gateway:
  mode: alias
  aliases: [{ name: vip, device: lo, address: 127.0.0.1/8 }]
  blockPage: { file: pages/blocked.html }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [80, 443]
            sslPorts: [443]
          - name: api
            sslPorts: [8443]
            certificates: [{ name: c, cert: <pki>/shop.crt, key: <pki>/shop.key }]
            reverseProxy:
              - { alias: vip, port: 8443, tls: false, rules: [{ priority: 10, serverIp: 127.0.0.1, serverPort: 81 }] }
`,
    errors: [
      'F:4:22: gateway.blockPage.file: cannot read block page <dir>/pages/blocked.html: no such file (ENOENT)',
      'F:12:23: sites[0].serverGroups[0].services[0].sslPorts: port 443 is in both ports and sslPorts',
      'F:17:48: sites[0].serverGroups[0].services[1].reverseProxy[0].tls: tls is false but port 8443 is in the service\'s sslPorts',
    ],
    codes: ['FILE_NOT_READABLE', 'CONFLICT', 'CONFLICT'],
  },
  {
    name: 'two aliases on one address; wrong shapes for forwardedClientIp, setVars and bridge settings',
    yaml: `gateway:
  mode: sniff
  aliases:
    - { name: a, device: eth0, address: 10.30.0.100/24 }
    - { name: b, device: eth0:1, address: 10.30.0.100/16 }
  bridge: { ports: [ext0], mac: 02:00:00:00:00, routeTable: 254 }
sites:
  - name: s
    serverGroups:
      - name: g
        policies:
          crs: { setVars: { "bad name": 1 } }
        services:
          - name: web
            forwardedClientIp: 3
`,
    errors: [
      'F:5:43: gateway.aliases[1].address: alias address "10.30.0.100" is already used by gateway.aliases[0] (line 4)',
      'F:6:20: gateway.bridge.ports: ports must have at least 2 items',
      'F:6:33: gateway.bridge.mac: mac must be a MAC address such as 02:00:00:00:00:01 (got "02:00:00:00:00")',
      'F:6:61: gateway.bridge.routeTable: routeTable must be an integer from 1 to 252 (got 254)',
      'F:12:29: sites[0].serverGroups[0].policies.crs.setVars.bad name: key "bad name" must be a TX variable name (letters, digits, _ and .)',
      'F:15:32: sites[0].serverGroups[0].services[0].forwardedClientIp: forwardedClientIp must be true, false or a mapping (got 3)',
    ],
  },
  {
    name: 'client-auth CA file missing',
    yaml: `gateway: { mode: sniff }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            clientAuth: { caFile: /nonexistent/clients-ca.crt }
`,
    errors: ['F:8:35: sites[0].serverGroups[0].services[0].clientAuth.caFile: cannot read CA file /nonexistent/clients-ca.crt: no such file (ENOENT)'],
    codes: ['FILE_NOT_READABLE'],
  },
  {
    name: 'missing required keys: site name, server groups, rule serverPort, alias device',
    yaml: `gateway:
  mode: alias
  aliases:
    - { name: vip, address: 127.0.0.1/8 }
sites:
  - name: ok
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [80]
            reverseProxy:
              - alias: vip
                port: 80
                rules: [{ priority: 10, serverIp: 127.0.0.1 }]
  - serverGroups:
`,
    errors: [
      'F:4:7: gateway.aliases[0].device: required key "device" is missing',
      'F:15:25: sites[0].serverGroups[0].services[0].reverseProxy[0].rules[0].serverPort: required key "serverPort" is missing',
      'F:16:5: sites[1].name: required key "name" is missing',
      'F:16:5: sites[1].serverGroups: required key "serverGroups" has no value',
    ],
    codes: ['MISSING_KEY', 'MISSING_KEY', 'MISSING_KEY', 'MISSING_KEY'],
  },
  {
    name: 'neither serverIp nor serverHost; both',
    yaml: `gateway:
  mode: alias
  aliases: [{ name: vip, device: lo, address: 127.0.0.1/8 }]
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [80]
            reverseProxy:
              - alias: vip
                port: 80
                rules:
                  - { priority: 10, serverPort: 81 }
                  - { priority: 20, serverIp: 127.0.0.1, serverHost: origin.example.com, serverPort: 81 }
`,
    errors: [
      'F:15:21: sites[0].serverGroups[0].services[0].reverseProxy[0].rules[0].serverIp: one of serverIp or serverHost is required',
      'F:16:70: sites[0].serverGroups[0].services[0].reverseProxy[0].rules[1].serverHost: give serverIp or serverHost, not both',
    ],
    codes: ['MISSING_KEY', 'CONFLICT'],
  },
  {
    name: 'duplicate names: alias, site, server group across sites, service, certificate',
    yaml: `gateway:
  mode: sniff
  aliases:
    - { name: vip, device: eth0, address: 10.30.0.100/24 }
    - { name: vip, device: eth0, address: 10.30.0.101/24 }
sites:
  - name: one
    serverGroups:
      - name: g
        services:
          - name: web
            certificates:
              - { name: c, cert: <pki>/shop.crt, key: <pki>/shop.key }
              - { name: c, cert: <pki>/other.crt, key: <pki>/other.key }
          - name: web
  - name: one
    serverGroups:
      - name: g
        services: [{ name: web }]
`,
    errors: [
      'F:5:15: gateway.aliases[1].name: alias name "vip" is already used by gateway.aliases[0] (line 4)',
      'F:14:25: sites[0].serverGroups[0].services[0].certificates[1].name: certificate name "c" is already used by sites[0].serverGroups[0].services[0].certificates[0] (line 13)',
      'F:15:19: sites[0].serverGroups[0].services[1].name: service name "web" is already used by sites[0].serverGroups[0].services[0] (line 11)',
      'F:16:11: sites[1].name: site name "one" is already used by sites[0] (line 7)',
      'F:18:15: sites[1].serverGroups[0].name: server group name "g" is already used by sites[0].serverGroups[0] (line 9)',
    ],
    codes: ['DUPLICATE', 'DUPLICATE', 'DUPLICATE', 'DUPLICATE', 'DUPLICATE'],
  },
  {
    name: 'one listener address:port used with TLS and without',
    yaml: `gateway:
  mode: alias
  aliases:
    - { name: a, device: lo, address: 127.0.0.1/8 }
    - { name: b, device: lo, address: 127.0.0.2/8 }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: plain
            ports: [8443]
            reverseProxy:
              - { alias: a, port: 8443, rules: [{ priority: 10, serverIp: 127.0.0.1, serverPort: 81 }] }
          - name: secure
            sslPorts: [8443]
            certificates: [{ name: c, cert: <pki>/shop.crt, key: <pki>/shop.key }]
            reverseProxy:
              - { alias: a, port: 8443, serverCertificate: c, rules: [{ priority: 10, serverIp: 127.0.0.1, serverPort: 82 }] }
              - { alias: b, port: 8443, serverCertificate: c, rules: [{ priority: 10, serverIp: 127.0.0.1, serverPort: 82 }] }
`,
    errors: ['F:19:35: sites[0].serverGroups[0].services[1].reverseProxy[0].port: listener 127.0.0.1:8443 is TLS here but plain HTTP in sites[0].serverGroups[0].services[0].reverseProxy[0] (line 14)'],
    codes: ['CONFLICT'],
  },
  {
    name: 'custom rules: a regex that does not compile, duplicate ids, an empty match',
    yaml: `gateway: { mode: sniff }
sites:
  - name: s
    serverGroups:
      - name: g
        policies:
          native:
            rules:
              - id: 1001
                match: { path: { kind: regex, value: "^/(admin" } }
              - id: 1001
                match: { host: { kind: exact, value: evil.example } }
              - id: 1002
                match: {}
        services: [{ name: web, ports: [80] }]
`,
    errors: [
      'F:10:54: sites[0].serverGroups[0].policies.native.rules[0].match.path.value: regex "^/(admin" does not compile: Invalid regular expression: /^/(admin/: Unterminated group',
      'F:11:21: sites[0].serverGroups[0].policies.native.rules[1].id: custom rule id 1001 is already used by sites[0].serverGroups[0].policies.native.rules[0] (line 9)',
      'F:14:24: sites[0].serverGroups[0].policies.native.rules[2].match: match needs at least one of method, host, path, header, argument',
    ],
    codes: ['BAD_REGEX', 'DUPLICATE', 'MISSING_KEY'],
  },
  {
    name: 'CRS settings out of range and of the wrong type',
    yaml: `gateway: { mode: sniff }
sites:
  - name: s
    serverGroups:
      - name: a
        policies:
          crs: { paranoiaLevel: 5, removeRuleIds: ["942100-942000"] }
        services: [{ name: web, ports: [80] }]
      - name: b
        policies:
          crs: "yes"
        services: [{ name: web, ports: [80] }]
      - name: c
        policies:
          crs: { paranoiaLevel: 3, executingParanoiaLevel: 2 }
        services: [{ name: web, ports: [80] }]
`,
    errors: [
      'F:7:33: sites[0].serverGroups[0].policies.crs.paranoiaLevel: paranoiaLevel must be an integer from 1 to 4 (got 5)',
      'F:7:52: sites[0].serverGroups[0].policies.crs.removeRuleIds[0]: removeRuleIds[0] must be a rule id or a range such as 942100-942199 (got "942100-942000")',
      'F:11:16: sites[0].serverGroups[1].policies.crs: crs must be a mapping, true or false (got string "yes")',
      'F:15:60: sites[0].serverGroups[2].policies.crs.executingParanoiaLevel: executingParanoiaLevel (2) must not be below paranoiaLevel (3)',
    ],
  },
  {
    name: 'header names and host patterns with bad characters',
    yaml: `gateway:
  mode: alias
  aliases: [{ name: vip, device: lo, address: 127.0.0.1/8 }]
  alerts: { ruleIdsHeader: "X Rule Ids" }
sites:
  - name: s
    serverGroups:
      - name: g
        services:
          - name: web
            ports: [80]
            forwardedConnections: { header: "X-Real-IP:", trustedProxies: [10.0.0.1] }
            reverseProxy:
              - alias: vip
                port: 80
                rules: [{ priority: 10, host: "shop.*.com", serverIp: 127.0.0.1, serverPort: 81 }]
`,
    errors: [
      'F:4:28: gateway.alerts.ruleIdsHeader: ruleIdsHeader must be an HTTP header name (got "X Rule Ids")',
      'F:12:45: sites[0].serverGroups[0].services[0].forwardedConnections.header: header must be an HTTP header name (got "X-Real-IP:")',
      'F:16:47: sites[0].serverGroups[0].services[0].reverseProxy[0].rules[0].host: host must be "*", "*.example.com" or an exact host name (got "shop.*.com")',
    ],
    codes: ['BAD_FORMAT', 'BAD_FORMAT', 'BAD_FORMAT'],
  },
  {
    name: 'alias mode with no reverse-proxy entry at all',
    yaml: `gateway:
  mode: alias
sites:
  - name: s
    serverGroups:
      - name: g
        services: [{ name: web, ports: [80] }]
`,
    errors: ['F:2:9: gateway.mode: mode alias needs at least one reverseProxy entry (sites[].serverGroups[].services[].reverseProxy); none is configured'],
    codes: ['MODE_REQUIREMENT'],
  },
  {
    name: 'bridge mode: one server in two server groups',
    yaml: `gateway: { mode: bridge }
sites:
  - name: s
    serverGroups:
      - name: a
        servers: [10.20.0.10]
        services: [{ name: web, ports: [80] }]
      - name: b
        servers: [10.20.0.11, 10.20.0.10]
        services: [{ name: web, ports: [8080] }]
`,
    errors: ['F:9:31: sites[0].serverGroups[1].servers[1]: server 10.20.0.10 already belongs to server group "a" (sites[0].serverGroups[0]); in bridge mode each server belongs to one group'],
    codes: ['DUPLICATE'],
  },
  {
    name: 'several errors at every level of one file are all reported, in file order',
    yaml: `gateway:
  mode: alias
  workers: 0
  aliases:
    - { name: vip, device: lo, address: 127.0.0.1/8 }
  bridge: { failure: maybe }
sites:
  - name: s
    colour: blue
    serverGroups:
      - name: g
        servers: [not-an-ip]
        services:
          - name: web
            ports: [80, 80]
            reverseProxy:
              - alias: vpi
                port: 80
                rules:
                  - { priority: 10, serverIp: 127.0.0.1, serverPort: 0 }
                  - { priority: 10, serverIp: 127.0.0.1, serverPort: 82 }
`,
    errors: [
      'F:3:12: gateway.workers: workers must be "auto" or an integer from 1 to 1024 (got 0)',
      'F:6:22: gateway.bridge.failure: failure must be one of open, closed (got string "maybe")',
      'F:9:5: sites[0].colour: unknown key "colour"; allowed: name, serverGroups',
      'F:12:19: sites[0].serverGroups[0].servers[0]: servers[0] must be an IPv4 or IPv6 address (got "not-an-ip")',
      'F:15:25: sites[0].serverGroups[0].services[0].ports[1]: ports[1] repeats 80 (already ports[0])',
      'F:17:24: sites[0].serverGroups[0].services[0].reverseProxy[0].alias: unknown alias "vpi"; defined in gateway.aliases: vip',
      'F:20:70: sites[0].serverGroups[0].services[0].reverseProxy[0].rules[0].serverPort: serverPort must be an integer from 1 to 65535 (got 0)',
      'F:21:33: sites[0].serverGroups[0].services[0].reverseProxy[0].rules[1].priority: priority 10 is already used by sites[0].serverGroups[0].services[0].reverseProxy[0].rules[0] (line 20)',
    ],
  },
];

for (const c of cases) {
  test(`bad config: ${c.name}`, () => {
    const file = join(dir, 'case.yaml');
    const text = c.yaml.replaceAll('<pki>', pki.dir);
    const result = parseConfigText(text, file);
    assert.equal(result.ok, false, 'the configuration must be rejected');
    if (result.ok) return;
    const expected = c.errors.map((e) => e.replace(/^F:/, `${file}:`).replaceAll('<pki>', pki.dir).replaceAll('<dir>', dir));
    assert.deepEqual(result.errors.map(formatConfigError), expected);
    if (c.codes) assert.deepEqual(result.errors.map((e) => e.code), c.codes);
  });
}

test('the table has at least 25 cases', () => {
  assert.ok(cases.length >= 25, `only ${cases.length} cases`);
});
