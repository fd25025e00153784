/**
 * Errors found in a configuration file. They are values, collected in full and returned: a bad file
 * is an expected input, not a bug, so nothing here throws.
 */

/** Stable codes; scripts and tests match on these, never on the message text. */
export type ConfigErrorCode =
  | 'FILE_UNREADABLE'       // the configuration file itself cannot be read
  | 'YAML_SYNTAX'           // the YAML parser rejected the text (the parser's own code is in the message)
  | 'DUPLICATE_KEY'         // the same key twice in one mapping
  | 'EMPTY_DOCUMENT'
  | 'UNKNOWN_KEY'
  | 'MISSING_KEY'
  | 'WRONG_TYPE'
  | 'BAD_ENUM'
  | 'OUT_OF_RANGE'
  | 'BAD_FORMAT'            // a string that does not have the required shape (host, header name, MAC …)
  | 'BAD_IP'
  | 'BAD_CIDR'
  | 'DUPLICATE'             // two items that must be distinct (names, priorities, ids, servers, listeners)
  | 'UNKNOWN_REFERENCE'     // a name that refers to nothing (alias, certificate)
  | 'CONFLICT'              // two settings that cannot both hold (listener TLS, serverIp and serverHost …)
  | 'FILE_NOT_READABLE'     // a file named by the configuration (certificate, key, CA, block page)
  | 'BAD_PEM'
  | 'CERT_KEY_MISMATCH'
  | 'BAD_REGEX'
  | 'MODE_REQUIREMENT';     // something the chosen gateway.mode needs is absent

export interface ConfigError {
  /** The configuration file as it was named by the caller (not made absolute, so messages stay short). */
  readonly file: string;
  /** 1-based line and column of the offending key or value. */
  readonly line: number;
  readonly col: number;
  /** Key path, e.g. `sites[0].serverGroups[1].services[0].reverseProxy[0].rules[2].priority`; '' = the document. */
  readonly path: string;
  readonly message: string;
  readonly code: ConfigErrorCode;
}

/** `<file>:<line>:<col>: <path>: <message>` on one line (the path part is left out for the document itself). */
export function formatConfigError(e: ConfigError): string {
  const message = e.message.replace(/\s*\n\s*/g, ' ');
  return e.path === ''
    ? `${e.file}:${e.line}:${e.col}: ${message}`
    : `${e.file}:${e.line}:${e.col}: ${e.path}: ${message}`;
}
