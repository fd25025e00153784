/**
 * Certificates generated at test time with the openssl CLI (never committed): a CA, server certificates
 * with SANs signed by it, and client certificates for mutual TLS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pem {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestPki {
  readonly dir: string;
  readonly ca: Pem;
  /** Server certificate for the given DNS names / IPs, signed by the CA. */
  server(name: string, dnsNames: string[], ips?: string[]): Pem;
  /** Client certificate (extendedKeyUsage clientAuth) signed by the CA. */
  client(name: string): Pem;
  /** A self-signed certificate not issued by the CA. */
  selfSigned(name: string, dnsNames: string[]): Pem;
  cleanup(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function pem(dir: string, name: string): Pem {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

export function createTestPki(caName = 'Portcullis Test CA'): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pki-'));
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${caName}`, '-keyout', 'ca.key', '-out', 'ca.crt',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const ca = pem(dir, 'ca');
  let serial = 1;

  function issue(name: string, cn: string, ext: string): Pem {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`,
      '-keyout', `${name}.key`, '-out', `${name}.csr`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-set_serial', String(serial++),
      '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.crt`], dir);
    return pem(dir, name);
  }

  return {
    dir,
    ca,
    server(name, dnsNames, ips = []) {
      const san = [...dnsNames.map((d) => `DNS:${d}`), ...ips.map((i) => `IP:${i}`)].join(',');
      return issue(name, dnsNames[0] ?? ips[0] ?? name,
        `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
    },
    client(name) {
      return issue(name, name, 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n');
    },
    selfSigned(name, dnsNames) {
      const san = dnsNames.map((d) => `DNS:${d}`).join(',');
      openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
        '-subj', `/CN=${dnsNames[0] ?? name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`,
        '-addext', `subjectAltName=${san}`], dir);
      return pem(dir, name);
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
