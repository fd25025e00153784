/**
 * Reading and checking the PEM files a configuration names: certificates with their keys (which must
 * match), chains and CA bundles. Done at load time so that a bad file is a configuration error with a
 * position, not a TLS failure on the first connection.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Node as YamlNode } from 'yaml';
import { INVALID, type DecodeContext, type Decoded } from './schema.js';

const PEM_CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

function ioReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file (ENOENT)';
    case 'EACCES': return 'permission denied (EACCES)';
    case 'EISDIR': return 'it is a directory (EISDIR)';
    default: return code ?? String((err as Error | null)?.message ?? err);
  }
}

/** Where a PEM problem is reported: the mapping node holding the key, its path, and the key. */
export interface PemSite {
  readonly node: YamlNode;
  readonly path: string;
  readonly key: string;
}

/** Reads a UTF-8 file the configuration names, reporting on the key that names it when that fails. */
export function readTextFile(file: string, what: string, at: PemSite, cx: DecodeContext): Decoded<string> {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    return cx.reportKey(at.node, at.path, at.key, 'FILE_NOT_READABLE', `cannot read ${what} ${file}: ${ioReason(err)}`);
  }
}

/** Every certificate in a PEM bundle, parsed; at least one. */
function parseCertificates(text: string, file: string, what: string, at: PemSite, cx: DecodeContext): Decoded<X509Certificate[]> {
  const blocks = text.match(PEM_CERT_BLOCK) ?? [];
  if (blocks.length === 0) {
    return cx.reportKey(at.node, at.path, at.key, 'BAD_PEM', `${what} ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  }
  const out: X509Certificate[] = [];
  for (const [i, block] of blocks.entries()) {
    try {
      out.push(new X509Certificate(block));
    } catch (err) {
      return cx.reportKey(at.node, at.path, at.key, 'BAD_PEM',
        `${what} ${file}: certificate #${i + 1} cannot be parsed (${(err as Error).message})`);
    }
  }
  return out;
}

/** Reads a file that must hold one or more PEM certificates (a chain or a CA bundle); returns its text. */
export function readCertificateBundle(file: string, what: string, at: PemSite, cx: DecodeContext): Decoded<string> {
  const text = readTextFile(file, what, at, cx);
  if (text === INVALID) return INVALID;
  return parseCertificates(text, file, what, at, cx) === INVALID ? INVALID : text;
}

export interface LoadedKeyPair {
  readonly cert: string;
  readonly key: string;
  readonly chain: string | null;
  readonly dnsNames: string[];
}

/**
 * Reads certificate, key and optional chain; checks that the key is the certificate's; extracts the
 * DNS names used for SNI selection. Reports each problem on the key (`cert`, `key`, `chain`) it concerns.
 */
export function loadKeyPair(
  files: { certFile: string; keyFile: string; chainFile: string | null },
  node: YamlNode,
  path: string,
  cx: DecodeContext,
): Decoded<LoadedKeyPair> {
  const certAt = { node, path, key: 'cert' };
  const keyAt = { node, path, key: 'key' };
  const certText = readTextFile(files.certFile, 'certificate file', certAt, cx);
  const keyText = readTextFile(files.keyFile, 'key file', keyAt, cx);
  let chainText: Decoded<string> | null = null;
  if (files.chainFile !== null) chainText = readCertificateBundle(files.chainFile, 'chain file', { node, path, key: 'chain' }, cx);

  const certs = certText === INVALID ? INVALID : parseCertificates(certText, files.certFile, 'certificate file', certAt, cx);
  let privateKey: KeyObject | typeof INVALID = INVALID;
  if (keyText !== INVALID) {
    if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyText)) {
      cx.reportKey(node, path, 'key', 'BAD_PEM', `key file ${files.keyFile} is encrypted; give an unencrypted key (e.g. openssl pkey -in KEY -out KEY.plain)`);
    } else if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyText)) {
      cx.reportKey(node, path, 'key', 'BAD_PEM', `key file ${files.keyFile} holds no PEM private key (-----BEGIN PRIVATE KEY-----)`);
    } else {
      try {
        privateKey = createPrivateKey(keyText);
      } catch (err) {
        cx.reportKey(node, path, 'key', 'BAD_PEM', `key file ${files.keyFile} cannot be parsed (${(err as Error).message})`);
      }
    }
  }
  if (certs === INVALID || privateKey === INVALID || chainText === INVALID) return INVALID;
  const leaf = certs[0]!;
  if (!leaf.checkPrivateKey(privateKey)) {
    return cx.reportKey(node, path, 'key', 'CERT_KEY_MISMATCH',
      `key file ${files.keyFile} does not match certificate ${files.certFile} (subject ${leaf.subject.replace(/\n/g, ', ')})`);
  }
  return { cert: certText as string, key: keyText as string, chain: chainText, dnsNames: dnsNamesOf(leaf) };
}

/** DNS names from subjectAltName, plus the subject CN when it looks like a host name; lower-case, unique. */
export function dnsNamesOf(cert: X509Certificate): string[] {
  const names = new Set<string>();
  for (const m of (cert.subjectAltName ?? '').matchAll(/(?:^|,\s*)DNS:("?)([^,"]+)\1/g)) names.add(m[2]!.trim().toLowerCase());
  for (const line of cert.subject.split('\n')) {
    if (!line.startsWith('CN=')) continue;
    const cn = line.slice(3).trim().toLowerCase();
    if (/^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(cn)) names.add(cn);
  }
  return [...names];
}
