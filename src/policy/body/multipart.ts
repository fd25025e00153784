/**
 * multipart/form-data, ported from ModSecurity v2's apache2/msc_multipart.c (2.9.x) so that every
 * MULTIPART_* flag, REQBODY_ERROR and the part list come out as v2 computes them. The body is fed
 * through v2's line machine: a 4096-byte line buffer, boundary recognition only at the start of a
 * line, the CR/LF before a boundary held back ("reserve") and dropped when the boundary follows.
 */
import { logEscapeNq } from './log-escape.js';
import { type BodyLimits, type BodyParseResult, DEFAULT_MAX_ARGS, type MultipartFlags, emptyResult } from './result.js';

/** v2's MULTIPART_BUF_SIZE: the longest line handled at once. */
const BUF_SIZE = 4096;

const FORMDATA = 1;
const FILE = 2;

interface Part {
  type: number;
  name: string | null;
  filename: string | null;
  /** apr_table semantics: case-insensitive names, so keys are lower-cased. */
  headers: Map<string, string>;
  lastHeaderName: string | null;
  headerLines: string[];
  valueParts: string[];
  length: number;
  fileSize: number;
}

/** Thrown inside the parser to unwind to parseMultipart with v2's error text; never escapes. */
class MultipartError {
  constructor(readonly message: string) {}
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function isTokenChar(c: number): boolean {
  if (c <= 32 || c >= 127) return false;
  return '()<>@,;:\\"/[]?='.indexOf(String.fromCharCode(c)) === -1;
}

/** Counts "boundary" (case-insensitive) occurrences followed somewhere by '=' (v2 multipart_count_boundary_params). */
function countBoundaryParams(value: string): number {
  const lower = value.toLowerCase();
  let count = 0;
  let s = 0;
  for (;;) {
    const at = lower.indexOf('boundary', s);
    if (at === -1) return count;
    s = at + 8;
    if (lower.indexOf('=', s) !== -1) count++;
  }
}

function boundaryCharactersValid(boundary: string): boolean {
  for (let i = 0; i < boundary.length; i++) {
    const c = boundary.charCodeAt(i);
    if (c < 32 || c > 126) return false;
    if ('()<>@,;:\\"/[]?='.indexOf(boundary[i]!) !== -1) return false;
  }
  return true;
}

/** Removes one trailing "\n" or "\r\n" (v2 remove_lf_crlf_inplace). */
function removeLfCrlf(s: string): string {
  if (s.endsWith('\r\n')) return s.slice(0, -2);
  if (s.endsWith('\n')) return s.slice(0, -1);
  return s;
}

class MultipartParser {
  // Flags, named as in v2's multipart_data.
  flagError = 0;
  flagDataBefore = 0;
  flagDataAfter = 0;
  flagHeaderFolding = 0;
  flagBoundaryQuoted = 0;
  flagLfLine = 0;
  flagCrlfLine = 0;
  flagUnmatchedBoundary = 0;
  flagBoundaryWhitespace = 0;
  flagMissingSemicolon = 0;
  flagInvalidQuoting = 0;
  flagInvalidPart = 0;
  flagInvalidHeaderFolding = 0;

  boundary = '';
  readonly parts: Part[] = [];
  readonly names: string[] = [];
  readonly filenames: string[] = [];
  /** v2's msc_reqbody_no_files_length: part header bytes plus text-part data. */
  noFilesLength = 0;

  private readonly buf = new Uint8Array(BUF_SIZE + 1);
  private bufLen = 0;
  private bufContainsLine = true;
  private mpp: Part | null = null;
  private mppState = 0;
  /** Bytes held back from the previous data line: [count, byte1, byte2]. */
  private reserve: [number, number, number] = [0, 0, 0];
  private isComplete = false;
  private boundaryCount = 0;
  private seenData = false;

  /** v2 multipart_init(): validates the Content-Type and extracts the boundary. */
  init(contentType: string): void {
    if (contentType === '') throw this.fail('Multipart: Content-Type header not available.');
    if (contentType.length > 1024) throw this.fail('Multipart: Invalid boundary in C-T (length).');
    if (contentType.slice(0, 19).toLowerCase() !== 'multipart/form-data') throw this.fail('Multipart: Invalid MIME type.');
    if (countBoundaryParams(contentType) > 1) throw this.fail('Multipart: Multiple boundary parameters in C-T.');

    const at = contentType.indexOf('boundary');
    if (at === -1) {
      if (countBoundaryParams(contentType) > 0) throw this.fail('Multipart: Invalid boundary in C-T (case sensitivity).');
      throw this.fail('Multipart: Boundary not found in C-T.');
    }
    let seenSemicolon = false;
    for (let p = 19; p < at; p++) {
      const c = contentType.charCodeAt(p);
      if (isSpace(c)) continue;
      if (!seenSemicolon && c === 0x3b) seenSemicolon = true;
      else throw this.fail('Multipart: Invalid boundary in C-T (malformed).');
    }
    if (!seenSemicolon) this.flagMissingSemicolon = 1;

    const eq = contentType.indexOf('=', at + 8);
    if (eq === -1) throw this.fail('Multipart: Invalid boundary in C-T (malformed).');
    for (let p = at + 8; p < eq; p++) {
      if (isSpace(contentType.charCodeAt(p))) this.flagBoundaryWhitespace = 1;
      else throw this.fail('Multipart: Invalid boundary in C-T (parameter name).');
    }
    const b = contentType.slice(eq + 1);
    if (b.length > 0 && isSpace(b.charCodeAt(0))) this.flagBoundaryWhitespace = 1;
    if (b.length >= 2 && b[0] === '"' && b[b.length - 1] === '"') {
      this.boundary = b.slice(1, -1);
      this.flagBoundaryQuoted = 1;
    } else {
      if (b[0] === '"' || (b.length >= 2 && b[b.length - 1] === '"')) throw this.fail('Multipart: Invalid boundary in C-T (quote).');
      this.boundary = b;
    }
    if (countBoundaryParams(this.boundary) !== 0) throw this.fail('Multipart: Invalid boundary in C-T (content).');
    if (!boundaryCharactersValid(this.boundary)) throw this.fail('Multipart: Invalid boundary in C-T (characters).');
    if (this.boundary.length === 0) throw this.fail('Multipart: Invalid boundary in C-T (empty).');
  }

  /** v2 multipart_process_chunk() over the whole body at once. */
  processChunk(body: Uint8Array): void {
    if (body.length === 0) return;
    this.seenData = true;
    const buf = this.buf;
    let inptr = 0;
    while (inptr < body.length) {
      const c = body[inptr]!;
      let processBuffer = false;
      if (c === 0x0d && this.bufLen === BUF_SIZE - 1) {
        // v2 does not take \r as the last byte of the buffer.
        processBuffer = true;
      } else {
        inptr++;
        buf[this.bufLen++] = c;
      }
      if (c === 0x0a || this.bufLen === BUF_SIZE || processBuffer) {
        buf[this.bufLen] = 0;
        this.processLine(processBuffer);
        this.bufLen = 0;
        this.bufContainsLine = c === 0x0a;
      }
      if (this.isComplete && inptr < body.length) {
        this.flagDataAfter = 1;
        return;
      }
    }
  }

  private processLine(processBuffer: boolean): void {
    const buf = this.buf;
    const len = this.bufLen;
    const strlen = this.cStrlen();
    const blen = this.boundary.length;
    let processedAsBoundary = false;
    if (this.bufContainsLine && strlen > 3 && buf[0] === 0x2d && buf[1] === 0x2d) {
      if (strlen >= blen + 2 && this.bufferMatches(2, this.boundary)) {
        let end = 2 + blen;
        let isFinal = false;
        if (this.at(end) === 0x2d && this.at(end + 1) === 0x2d) {
          isFinal = true;
          end += 2;
          if (this.isComplete) throw this.fail('Multipart: Invalid boundary (final duplicate).');
        }
        const crlf = this.at(end) === 0x0d && this.at(end + 1) === 0x0a && this.at(end + 2) === 0;
        const lf = this.at(end) === 0x0a && this.at(end + 1) === 0;
        if (crlf || lf) {
          if (lf) this.flagLfLine = 1;
          else this.flagCrlfLine = 1;
          this.processBoundary(isFinal);
          if (isFinal) this.isComplete = true;
          processedAsBoundary = true;
          this.boundaryCount++;
        } else {
          throw this.fail(`Multipart: Invalid boundary: ${logEscapeNq(this.bufferString(strlen))}`);
        }
      } else {
        if (this.flagBoundaryQuoted && strlen >= blen + 3 && buf[2] === 0x22 && this.bufferMatches(3, this.boundary)) {
          throw this.fail('Multipart: Invalid boundary (quotes).');
        }
        let p = 2;
        while (isSpace(this.at(p))) p++;
        if (p !== 2 && this.bufferMatches(p, this.boundary)) throw this.fail('Multipart: Invalid boundary (whitespace).');
        this.flagUnmatchedBoundary = 1;
      }
    } else if (this.bufContainsLine) {
      // Anything resembling "--boundary" later in the line counts as an unmatched boundary.
      const needle = '--' + this.boundary;
      if (this.bufferString(len).indexOf(needle) !== -1) this.flagUnmatchedBoundary = 1;
    }

    if (!processedAsBoundary) {
      if (this.mpp === null) {
        this.flagDataBefore = 1;
      } else if (this.mppState === 0) {
        if (this.bufLen === BUF_SIZE || processBuffer) throw this.fail(`Multipart: Part header line over ${BUF_SIZE} bytes long`);
        this.processPartHeader();
      } else {
        this.processPartData();
      }
    }
  }

  /** Byte at `k` of the NUL-terminated line (0 past the end, as the C string would read). */
  private at(k: number): number {
    return k < this.bufLen ? this.buf[k]! : 0;
  }

  private cStrlen(): number {
    const i = this.buf.subarray(0, this.bufLen).indexOf(0);
    return i === -1 ? this.bufLen : i;
  }

  private bufferMatches(offset: number, text: string): boolean {
    if (offset + text.length > this.bufLen) return false;
    for (let i = 0; i < text.length; i++) if (this.buf[offset + i] !== text.charCodeAt(i)) return false;
    return true;
  }

  private bufferString(length: number): string {
    return Buffer.from(this.buf.buffer, this.buf.byteOffset, length).toString('latin1');
  }

  private processPartHeader(): void {
    const part = this.mpp!;
    const len = this.bufLen;
    for (let i = 0; i < len; i++) if (this.buf[i] === 0) throw this.fail('Multipart: Nul byte in part headers.');
    this.noFilesLength += len;
    if (len > 1 && this.buf[len - 2] === 0x0d) this.flagCrlfLine = 1;
    else this.flagLfLine = 1;

    const line = this.bufferString(len);
    if (line === '\r\n' || line === '\n') {
      const cd = part.headers.get('content-disposition');
      if (cd === undefined) throw this.fail('Multipart: Part missing Content-Disposition header.');
      const rc = this.parseContentDisposition(cd);
      if (rc < 0) throw this.fail(`Multipart: Invalid Content-Disposition header (${rc}): ${logEscapeNq(cd)}.`);
      if (part.name === null) throw this.fail('Multipart: Content-Disposition header missing name field.');
      if (part.filename !== null) {
        // Catch parsers that only understand a literal "filename=" where v2 understood more.
        if (cd.indexOf('filename=') === -1) throw this.fail('Multipart: Invalid Content-Disposition header (filename).');
        part.type = FILE;
      } else {
        part.type = FORMDATA;
      }
      this.mppState = 1;
      part.lastHeaderName = null;
      return;
    }

    if (isSpace(line.charCodeAt(0))) {
      this.flagHeaderFolding = 1;
      if (line[0] !== '\t' && line[0] !== ' ') this.flagInvalidHeaderFolding = 1;
      if (part.lastHeaderName === null) throw this.fail('Multipart: Invalid part header (folding error).');
      let d = 0;
      while (d < line.length && isSpace(line.charCodeAt(d))) {
        if (line[d] !== '\t' && line[d] !== ' ') this.flagInvalidHeaderFolding = 1;
        d++;
      }
      const continuation = removeLfCrlf(line.slice(d));
      const value = `${part.headers.get(part.lastHeaderName) ?? ''} ${continuation}`;
      part.headers.set(part.lastHeaderName, value);
      part.headerLines.push(removeLfCrlf(line));
      if (value.length > BUF_SIZE) throw this.fail('Multipart: Part header too long.');
      return;
    }

    const colon = line.indexOf(':');
    if (colon === -1) throw this.fail(`Multipart: Invalid part header (colon missing): ${logEscapeNq(line)}.`);
    if (colon === 0) throw this.fail('Multipart: Invalid part header (header name missing).');
    const name = line.slice(0, colon);
    let v = colon + 1;
    while (line[v] === '\t' || line[v] === ' ') v++;
    const value = removeLfCrlf(line.slice(v));
    const key = name.toLowerCase();
    if (part.headers.has(key)) throw this.fail(`Multipart: Duplicate part header: ${logEscapeNq(name)}.`);
    part.headers.set(key, value);
    part.lastHeaderName = key;
    part.headerLines.push(removeLfCrlf(line));
  }

  /** v2 multipart_parse_content_disposition(): returns 1, or v2's negative error code. */
  private parseContentDisposition(value: string): number {
    const part = this.mpp!;
    if (!value.startsWith('form-data')) return -1;
    let p = 9;
    const ch = (k: number): string => (k < value.length ? value[k]! : '\0');
    while (ch(p) === '\t' || ch(p) === ' ') p++;
    if (ch(p) === '\0') return 1;
    if (ch(p) !== ';') return -2;
    p++;
    while (ch(p) !== '\0') {
      while (ch(p) === '\t' || ch(p) === ' ') p++;
      if (ch(p) === '\0') return -3;
      let start = p;
      while (ch(p) !== '\0' && ch(p) !== '=' && ch(p) !== '\t' && ch(p) !== ' ') p++;
      if (ch(p) === '\0') return -4;
      const name = value.slice(start, p);
      while (ch(p) === '\t' || ch(p) === ' ') p++;
      if (ch(p) === '\0') return -5;
      if (ch(p) !== '=') return -13;
      p++;
      while (ch(p) === '\t' || ch(p) === ' ') p++;
      if (ch(p) === '\0') return -6;

      let quote = '\0';
      let paramValue: string;
      if (ch(p) === '"' || ch(p) === "'") {
        // v2 accepts single quotes (some back-ends do) but flags them.
        quote = ch(p);
        if (quote === "'") this.flagInvalidQuoting = 1;
        p++;
        if (ch(p) === '\0') return -7;
        paramValue = '';
        let closed = false;
        while (ch(p) !== '\0') {
          if (ch(p) === '\\') {
            if (ch(p + 1) === '\0') return -8;
            // Only the quote and the backslash can be escaped; v2 lets other escapes through (IE).
            if (ch(p + 1) === quote || ch(p + 1) === '\\') p++;
          } else if (ch(p) === quote) {
            closed = true;
            break;
          }
          paramValue += ch(p);
          p++;
        }
        if (!closed) return -10;
        p++;
      } else {
        start = p;
        while (ch(p) !== '\0' && isTokenChar(value.charCodeAt(p))) p++;
        paramValue = value.slice(start, p);
      }

      if (name === 'name') {
        this.validateQuotes(paramValue, quote);
        this.names.push(paramValue);
        if (part.name !== null) return -14;
        part.name = paramValue;
      } else if (name === 'filename') {
        this.validateQuotes(paramValue, quote);
        this.filenames.push(paramValue);
        if (part.filename !== null) return -15;
        part.filename = paramValue;
      } else {
        // v2 knows no other parameter, filename* (RFC 5987) included.
        return -11;
      }

      if (ch(p) !== '\0') {
        while (ch(p) === '\t' || ch(p) === ' ') p++;
        if (ch(p) === '\0') return 1;
        if (ch(p) !== ';') {
          if (ch(p - 1) === "'" || ch(p - 1) === '"') this.flagInvalidQuoting = 1;
          return -12;
        }
        p++;
      }
    }
    return 1;
  }

  /** A single quote inside a name/filename is suspicious unless the value was double-quoted (2.9.5+). */
  private validateQuotes(data: string, quote: string): void {
    if (quote === '"') return;
    if (data.indexOf("'") !== -1) this.flagInvalidQuoting = 1;
  }

  private processPartData(): void {
    const part = this.mpp!;
    let len = this.bufLen;
    let reserved = 0;
    let r1 = 0;
    let r2 = 0;
    // Hold back the line ending: if a boundary follows, it belongs to the boundary.
    if (len >= 1 && this.buf[len - 1] === 0x0a) {
      if (len >= 2 && this.buf[len - 2] === 0x0d) {
        reserved = 2;
        r1 = 0x0d;
        r2 = 0x0a;
        len -= 2;
      } else {
        reserved = 1;
        r1 = 0x0a;
        len -= 1;
      }
    }
    const prev = this.reserve[0];
    if (part.type === FILE) {
      // v2 does not keep file content unless SecUploadKeepFiles / @inspectFile asks for it; it counts it.
      part.fileSize += len + prev;
      part.length += len + prev;
    } else {
      const held = prev === 0 ? '' : prev === 1 ? String.fromCharCode(this.reserve[1]) : String.fromCharCode(this.reserve[1], this.reserve[2]);
      const data = held + this.bufferString(len);
      this.noFilesLength += data.length;
      part.valueParts.push(data);
      part.length += data.length;
    }
    this.reserve = reserved ? [reserved, r1, r2] : [0, 0, 0];
  }

  /** v2 multipart_process_boundary(): closes the current part and opens the next one. */
  private processBoundary(lastPart: boolean): void {
    const part = this.mpp;
    if (part !== null) {
      if (part.name !== null) this.parts.push(part);
      else this.flagInvalidPart = 1;
      this.mpp = null;
    }
    if (!lastPart) {
      this.mpp = {
        type: FORMDATA,
        name: null,
        filename: null,
        headers: new Map(),
        lastHeaderName: null,
        headerLines: [],
        valueParts: [],
        length: 0,
        fileSize: 0,
      };
      this.mppState = 0;
      this.reserve = [0, 0, 0];
    }
  }

  /** v2 multipart_complete(). */
  complete(): void {
    if (!this.seenData || this.isComplete) return;
    if (this.boundaryCount === 0) throw new MultipartError('Multipart: No boundaries found in payload.');
    const b = this.boundary;
    if (
      this.bufContainsLine &&
      this.bufLen === 4 + b.length &&
      this.buf[0] === 0x2d &&
      this.buf[1] === 0x2d &&
      this.bufferMatches(2, b) &&
      this.buf[2 + b.length] === 0x2d &&
      this.buf[3 + b.length] === 0x2d
    ) {
      this.processBoundary(true);
      this.isComplete = true;
    }
    if (!this.isComplete) throw new MultipartError('Multipart: Final boundary missing.');
  }

  /** Errors raised in init/process set v2's flag_error; complete()'s do not. */
  private fail(message: string): MultipartError {
    this.flagError = 1;
    return new MultipartError(message);
  }

  flags(): MultipartFlags {
    const strict =
      this.flagError |
      this.flagBoundaryQuoted |
      this.flagBoundaryWhitespace |
      this.flagDataBefore |
      this.flagDataAfter |
      this.flagHeaderFolding |
      this.flagLfLine |
      this.flagMissingSemicolon |
      this.flagInvalidQuoting |
      this.flagInvalidPart |
      this.flagInvalidHeaderFolding;
    const partHeaders: string[] = [];
    const partHeadersByName: Array<[string, string]> = [];
    for (const part of this.parts) {
      for (const line of part.headerLines) {
        partHeaders.push(line);
        partHeadersByName.push([part.name!, line]);
      }
    }
    return {
      MULTIPART_STRICT_ERROR: strict ? 1 : 0,
      MULTIPART_UNMATCHED_BOUNDARY: this.flagUnmatchedBoundary,
      MULTIPART_BOUNDARY_QUOTED: this.flagBoundaryQuoted,
      MULTIPART_BOUNDARY_WHITESPACE: this.flagBoundaryWhitespace,
      MULTIPART_DATA_BEFORE: this.flagDataBefore,
      MULTIPART_DATA_AFTER: this.flagDataAfter,
      MULTIPART_HEADER_FOLDING: this.flagHeaderFolding,
      MULTIPART_LF_LINE: this.flagLfLine,
      MULTIPART_MISSING_SEMICOLON: this.flagMissingSemicolon,
      MULTIPART_INVALID_QUOTING: this.flagInvalidQuoting,
      MULTIPART_INVALID_PART: this.flagInvalidPart,
      MULTIPART_INVALID_HEADER_FOLDING: this.flagInvalidHeaderFolding,
      // Only raised when v2 extracts files to disk (SecUploadKeepFiles / @inspectFile), which Portcullis never does.
      MULTIPART_FILE_LIMIT_EXCEEDED: 0,
      MULTIPART_CRLF_LF_LINES: this.flagLfLine && this.flagCrlfLine ? 1 : 0,
      partHeaders,
      partHeadersByName,
      noFilesLength: this.noFilesLength,
      filenames: this.filenames,
      names: this.names,
    };
  }
}

/**
 * Parses a multipart/form-data body as v2 does. Text parts become arguments, file parts become
 * `files` (their content is never an argument). On any error v2 adds no body arguments at all
 * (REQBODY_ERROR is set and multipart_get_arguments is skipped), but parts completed before the
 * error still show in FILES and MULTIPART_PART_HEADERS.
 */
export function parseMultipart(body: string, contentType: string, limits: BodyLimits): BodyParseResult {
  const result = emptyResult();
  const parser = new MultipartParser();
  let stage: 'init' | 'process' | 'complete' = 'init';
  try {
    parser.init(contentType);
    stage = 'process';
    parser.processChunk(Buffer.from(body, 'latin1'));
    stage = 'complete';
    parser.complete();
  } catch (err) {
    if (!(err instanceof MultipartError)) throw err;
    // v2 stores the bare message for init errors and the prefixed one afterwards.
    result.error = stage === 'init' ? err.message : `Multipart parsing error: ${err.message}`;
  }
  const maxArgs = limits.maxArgs ?? DEFAULT_MAX_ARGS;
  for (const part of parser.parts) {
    if (part.type === FILE) {
      result.files.push({
        field: part.name!,
        filename: part.filename ?? '',
        size: part.fileSize,
        contentType: part.headers.get('content-type') ?? '',
      });
    } else if (result.error === null && result.args.length < maxArgs) {
      result.args.push([part.name!, part.valueParts.join('')]);
    }
  }
  result.multipart = parser.flags();
  return result;
}
