/**
 * Wireshark decryption key files ("UAT" tables), written for `tsipsec up --keylog DIR` and read back
 * by `tsipsec decode --keys DIR`. Point Wireshark at them with `WIRESHARK_CONFIG_DIR=DIR` (plus
 * a `preferences` file enabling ESP decryption) or copy them into a Wireshark profile.
 *
 * `ikev2_decryption_table` (epan/dissectors/packet-isakmp.c, ikev2_uat_flds), one IKE SA per line:
 *
 *   Initiator's SPI, Responder's SPI, SK_ei, SK_er, "Encryption algorithm", SK_ai, SK_ar, "Integrity algorithm"
 *   0123456789abcdef,fedcba9876543210,<hex>,<hex>,"AES-GCM-256 with 16 octet ICV [RFC5282]",,,"NONE [RFC4306]"
 *
 *   Byte fields (SPIs and keys) are UNQUOTED hex without 0x; only the algorithm names are quoted
 *   (quoted hex makes Wireshark report "Length of Initiator's SPI must be 8 octets"). AEAD SAs leave
 *   SK_ai/SK_ar empty. SK_e is KEYMAT as derived: key ‖ salt for AES-GCM (RFC 5282 §7.1).
 *
 * `esp_sa` (epan/dissectors/packet-ipsec.c, esp_uat_flds), one ESP SA (one direction) per line:
 *
 *   "Protocol","Src IP","Dest IP","SPI","Encryption","Encryption Key","Authentication","Authentication Key"
 *   "IPv4","198.18.10.1","198.18.10.2","0x12345678","AES-GCM with 16 octet ICV [RFC4106]","0x<key ‖ salt>","NULL",""
 *
 *   Every field is a quoted string; keys are 0x-prefixed hex.
 *
 * Column order and algorithm strings were checked against Wireshark's packet-isakmp.c /
 * packet-ipsec.c value_string tables and strongSwan's save-keys plugin, which writes the same files.
 *
 * Wireshark has no IKEv2 name for ChaCha20-Poly1305. Such IKE SAs are written as a comment line
 * (`#tsipsec ` + the row with the name "ChaCha20-Poly1305 [RFC7634]"): Wireshark skips it (an
 * unknown name would make it reject the whole table) and `readKeylog` still finds the keys.
 *
 * Entries are KEPT after their SA is deleted or rekeyed: a capture of the whole session needs the
 * keys of every SA it saw. A second entry for the same SA (same SPIs) replaces the first. Files are
 * created with mode 0600 (they are secrets) in a directory created with mode 0700.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const IKEV2_TABLE_FILE = 'ikev2_decryption_table';
export const ESP_TABLE_FILE = 'esp_sa';

/** IANA Transform Type 1 ids used here (see src/crypto/algorithms.ts). */
const ENCR_AES_CBC = 12;
const ENCR_AES_GCM_16 = 20;
const ENCR_CHACHA20_POLY1305 = 28;
/** IANA Transform Type 3 ids. */
const INTEG_NONE = 0;
const INTEG_HMAC_SHA2_256_128 = 12;
const INTEG_HMAC_SHA2_384_192 = 13;
const INTEG_HMAC_SHA2_512_256 = 14;

/** An ENCR transform: IANA id and Key Length attribute in bits (undefined for ChaCha20-Poly1305). */
export interface EncrSpec {
  readonly id: number;
  readonly keyLength?: number | undefined;
}

export interface IkeSaKeys {
  /** 8 bytes, or 16 hex digits. */
  readonly spiI: Uint8Array | string;
  readonly spiR: Uint8Array | string;
  readonly skEi: Uint8Array;
  readonly skEr: Uint8Array;
  /** Empty for AEAD transforms. */
  readonly skAi: Uint8Array;
  readonly skAr: Uint8Array;
  readonly encr: EncrSpec;
  /** IANA integrity id; 0 (NONE) with an AEAD. */
  readonly integ: number;
}

export interface EspSaKeys {
  /** Outer source and destination of packets on this SA (printable IPv4/IPv6, or "*"). */
  readonly src: string;
  readonly dst: string;
  /** The SPI carried in the packets (the receiver's inbound SPI). */
  readonly spi: number;
  readonly encr: EncrSpec;
  /** KEYMAT for this direction: key ‖ salt for AEADs (RFC 4106 §8.1, RFC 7634 §2). */
  readonly encrKey: Uint8Array;
  readonly integ: number;
  /** Empty with an AEAD. */
  readonly integKey: Uint8Array;
}

/** One parsed `ikev2_decryption_table` row. */
export interface IkeKeylogEntry {
  /** 16 lowercase hex digits. */
  readonly spiI: string;
  readonly spiR: string;
  readonly skEi: Uint8Array;
  readonly skEr: Uint8Array;
  readonly skAi: Uint8Array;
  readonly skAr: Uint8Array;
  readonly encr: EncrSpec;
  readonly integ: number;
  readonly encrName: string;
  readonly integName: string;
}

/** One parsed `esp_sa` row. */
export interface EspKeylogEntry {
  readonly protocol: 'IPv4' | 'IPv6';
  readonly src: string;
  readonly dst: string;
  readonly spi: number;
  readonly encr: EncrSpec;
  readonly encrKey: Uint8Array;
  readonly integ: number;
  readonly integKey: Uint8Array;
  readonly encrName: string;
  readonly integName: string;
}

export interface ParsedKeylog {
  readonly ike: IkeKeylogEntry[];
  readonly esp: EspKeylogEntry[];
  /** Rows that could not be used, as "file:line: why". */
  readonly errors: string[];
}

// ---------------------------------------------------------------------------------------------
// Algorithm names

const TSIPSEC_COMMENT = '#tsipsec ';
const IKE_CHACHA_NAME = 'ChaCha20-Poly1305 [RFC7634]';

const IKE_ENCR_NAMES: ReadonlyArray<readonly [number, number | undefined, string]> = [
  [ENCR_AES_GCM_16, 128, 'AES-GCM-128 with 16 octet ICV [RFC5282]'],
  [ENCR_AES_GCM_16, 192, 'AES-GCM-192 with 16 octet ICV [RFC5282]'],
  [ENCR_AES_GCM_16, 256, 'AES-GCM-256 with 16 octet ICV [RFC5282]'],
  [ENCR_AES_CBC, 128, 'AES-CBC-128 [RFC3602]'],
  [ENCR_AES_CBC, 192, 'AES-CBC-192 [RFC3602]'],
  [ENCR_AES_CBC, 256, 'AES-CBC-256 [RFC3602]'],
  [ENCR_CHACHA20_POLY1305, undefined, IKE_CHACHA_NAME], // not a Wireshark name: written as a comment
];

const IKE_INTEG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [INTEG_NONE, 'NONE [RFC4306]'],
  [INTEG_HMAC_SHA2_256_128, 'HMAC_SHA2_256_128 [RFC4868]'],
  [INTEG_HMAC_SHA2_384_192, 'HMAC_SHA2_384_192 [RFC4868]'],
  [INTEG_HMAC_SHA2_512_256, 'HMAC_SHA2_512_256 [RFC4868]'],
];

const ESP_ENCR_NAMES: ReadonlyArray<readonly [number, string]> = [
  [ENCR_AES_GCM_16, 'AES-GCM with 16 octet ICV [RFC4106]'],
  [ENCR_AES_CBC, 'AES-CBC [RFC3602]'],
  [ENCR_CHACHA20_POLY1305, 'ChaCha20 with Poly1305 [RFC7634]'],
];

const ESP_INTEG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [INTEG_NONE, 'NULL'],
  [INTEG_HMAC_SHA2_256_128, 'HMAC-SHA-256-128 [RFC4868]'],
  [INTEG_HMAC_SHA2_384_192, 'HMAC-SHA-384-192 [RFC4868]'],
  [INTEG_HMAC_SHA2_512_256, 'HMAC-SHA-512-256 [RFC4868]'],
];

/** Wireshark's IKEv2 encryption name; throws for an unsupported transform (config error). */
export function ikeEncrName(encr: EncrSpec): string {
  const keyLength = encr.id === ENCR_CHACHA20_POLY1305 ? undefined : encr.keyLength;
  const hit = IKE_ENCR_NAMES.find(([id, len]) => id === encr.id && len === keyLength);
  if (!hit) throw new Error(`keylog: IKE encr id ${encr.id} with keyLength ${encr.keyLength} has no Wireshark name`);
  return hit[2];
}

export function ikeIntegName(integ: number): string {
  const hit = IKE_INTEG_NAMES.find(([id]) => id === integ);
  if (!hit) throw new Error(`keylog: IKE integ id ${integ} has no Wireshark name`);
  return hit[1];
}

export function espEncrName(encr: EncrSpec): string {
  const hit = ESP_ENCR_NAMES.find(([id]) => id === encr.id);
  if (!hit) throw new Error(`keylog: ESP encr id ${encr.id} has no Wireshark name`);
  return hit[1];
}

export function espIntegName(integ: number): string {
  const hit = ESP_INTEG_NAMES.find(([id]) => id === integ);
  if (!hit) throw new Error(`keylog: ESP integ id ${integ} has no Wireshark name`);
  return hit[1];
}

// ---------------------------------------------------------------------------------------------
// Formatting

function hexOf(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

function spiHex(spi: Uint8Array | string, field: string): string {
  const s = typeof spi === 'string' ? spi.toLowerCase() : hexOf(spi);
  if (!/^[0-9a-f]{16}$/.test(s)) throw new Error(`keylog: ${field} must be 8 bytes (16 hex digits), got ${typeof spi === 'string' ? JSON.stringify(spi) : `${spi.length} bytes`}`);
  return s;
}

/** One `ikev2_decryption_table` line (no newline). ChaCha20 rows come back as a `#tsipsec ` comment. */
export function formatIkeLine(k: IkeSaKeys): string {
  const row = [
    spiHex(k.spiI, 'spiI'),
    spiHex(k.spiR, 'spiR'),
    hexOf(k.skEi),
    hexOf(k.skEr),
    `"${ikeEncrName(k.encr)}"`,
    hexOf(k.skAi),
    hexOf(k.skAr),
    `"${ikeIntegName(k.integ)}"`,
  ].join(',');
  return k.encr.id === ENCR_CHACHA20_POLY1305 ? TSIPSEC_COMMENT + row : row;
}

/** One `esp_sa` line (no newline). */
export function formatEspLine(k: EspSaKeys): string {
  if (!Number.isInteger(k.spi) || k.spi < 0 || k.spi > 0xffffffff) throw new RangeError(`keylog: ESP spi ${k.spi} outside 0..2^32-1`);
  const family = k.src.includes(':') || k.dst.includes(':') ? 'IPv6' : 'IPv4';
  for (const [field, v] of [['src', k.src], ['dst', k.dst]] as const) {
    if (v.includes('"') || v.includes(',') || v === '') throw new Error(`keylog: ESP ${field} ${JSON.stringify(v)} is not an address`);
  }
  const fields = [
    family,
    k.src,
    k.dst,
    `0x${k.spi.toString(16).padStart(8, '0')}`,
    espEncrName(k.encr),
    `0x${hexOf(k.encrKey)}`,
    espIntegName(k.integ),
    k.integKey.length === 0 ? '' : `0x${hexOf(k.integKey)}`,
  ];
  return fields.map((f) => `"${f}"`).join(',');
}

// ---------------------------------------------------------------------------------------------
// Parsing (total: bad rows become `errors`, never throws)

/** Splits a UAT row into fields. Quoted fields may contain commas and `\xNN` / `\\` / `\"` escapes. */
function splitRow(line: string): { fields: string[]; quoted: boolean[] } | undefined {
  const fields: string[] = [];
  const quoted: boolean[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= line.length) return undefined;
        const c = line[i]!;
        if (c === '"') {
          i++;
          break;
        }
        if (c === '\\' && i + 1 < line.length) {
          const n = line[i + 1]!;
          if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))) {
            v += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
            i += 4;
            continue;
          }
          v += n;
          i += 2;
          continue;
        }
        v += c;
        i++;
      }
      fields.push(v);
      quoted.push(true);
    } else {
      const end = line.indexOf(',', i);
      const v = end < 0 ? line.slice(i) : line.slice(i, end);
      fields.push(v.trim());
      quoted.push(false);
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) return { fields, quoted };
    if (line[i] !== ',') return undefined;
    i++;
  }
}

function parseHex(s: string): Uint8Array | undefined {
  let t = s.trim();
  if (t.startsWith('0x') || t.startsWith('0X')) t = t.slice(2);
  if (t.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(t)) return undefined;
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Parses the text of an `ikev2_decryption_table`. */
export function parseIkeTable(text: string, file = IKEV2_TABLE_FILE): { entries: IkeKeylogEntry[]; errors: string[] } {
  const entries: IkeKeylogEntry[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, n) => {
    let line = raw.trim();
    if (line.startsWith(TSIPSEC_COMMENT)) line = line.slice(TSIPSEC_COMMENT.length).trim();
    else if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${n + 1}`;
    const row = splitRow(line);
    if (!row || row.fields.length < 8) {
      errors.push(`${where}: expected 8 comma-separated fields`);
      return;
    }
    const f = row.fields;
    const bytes = [0, 1, 2, 3, 5, 6].map((i) => parseHex(f[i]!));
    if (bytes.some((b) => b === undefined)) {
      errors.push(`${where}: SPI and key fields must be hex`);
      return;
    }
    const [spiI, spiR, skEi, skEr, skAi, skAr] = bytes as Uint8Array[];
    if (spiI!.length !== 8 || spiR!.length !== 8) {
      errors.push(`${where}: SPIs must be 8 bytes`);
      return;
    }
    const encr = IKE_ENCR_NAMES.find(([, , name]) => name === f[4]);
    const integ = IKE_INTEG_NAMES.find(([, name]) => name === f[7]);
    if (!encr) {
      errors.push(`${where}: unsupported encryption algorithm ${JSON.stringify(f[4])}`);
      return;
    }
    if (!integ) {
      errors.push(`${where}: unsupported integrity algorithm ${JSON.stringify(f[7])}`);
      return;
    }
    entries.push({
      spiI: hexOf(spiI!),
      spiR: hexOf(spiR!),
      skEi: skEi!,
      skEr: skEr!,
      skAi: skAi!,
      skAr: skAr!,
      encr: { id: encr[0], keyLength: encr[1] },
      integ: integ[0],
      encrName: encr[2],
      integName: integ[1],
    });
  });
  return { entries, errors };
}

/** Parses the text of an `esp_sa` table. */
export function parseEspTable(text: string, file = ESP_TABLE_FILE): { entries: EspKeylogEntry[]; errors: string[] } {
  const entries: EspKeylogEntry[] = [];
  const errors: string[] = [];
  text.split(/\r?\n/).forEach((raw, n) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const where = `${file}:${n + 1}`;
    const row = splitRow(line);
    if (!row || row.fields.length < 8) {
      errors.push(`${where}: expected 8 comma-separated fields`);
      return;
    }
    const f = row.fields;
    const protocol = f[0] === 'IPv4' || f[0] === 'IPv6' ? f[0] : undefined;
    if (!protocol) {
      errors.push(`${where}: protocol must be "IPv4" or "IPv6", got ${JSON.stringify(f[0])}`);
      return;
    }
    const spiText = f[3]!.trim();
    const spi = /^0[xX][0-9a-fA-F]{1,8}$/.test(spiText) ? parseInt(spiText.slice(2), 16) : /^[0-9]{1,10}$/.test(spiText) ? Number(spiText) : NaN;
    if (!Number.isInteger(spi) || spi > 0xffffffff) {
      errors.push(`${where}: SPI ${JSON.stringify(spiText)} is not a 32-bit number (wildcard SPIs are not supported)`);
      return;
    }
    const encr = ESP_ENCR_NAMES.find(([, name]) => name === f[4]);
    const integ = ESP_INTEG_NAMES.find(([, name]) => name === f[6]);
    if (!encr) {
      errors.push(`${where}: unsupported encryption algorithm ${JSON.stringify(f[4])}`);
      return;
    }
    if (!integ) {
      errors.push(`${where}: unsupported authentication algorithm ${JSON.stringify(f[6])}`);
      return;
    }
    const encrKey = parseHex(f[5]!);
    const integKey = f[7]!.trim() === '' ? new Uint8Array(0) : parseHex(f[7]!);
    if (!encrKey || !integKey) {
      errors.push(`${where}: keys must be 0x-prefixed hex`);
      return;
    }
    const saltLength = encr[0] === ENCR_AES_CBC ? 0 : 4;
    const keyBytes = encrKey.length - saltLength;
    entries.push({
      protocol,
      src: f[1]!,
      dst: f[2]!,
      spi,
      encr: { id: encr[0], keyLength: encr[0] === ENCR_CHACHA20_POLY1305 ? undefined : keyBytes * 8 },
      encrKey,
      integ: integ[0],
      integKey,
      encrName: encr[1],
      integName: integ[1],
    });
  });
  return { entries, errors };
}

/** Reads `ikev2_decryption_table` and `esp_sa` from `dir` (either may be missing). Never throws. */
export function readKeylog(dir: string): ParsedKeylog {
  const ike: IkeKeylogEntry[] = [];
  const esp: EspKeylogEntry[] = [];
  const errors: string[] = [];
  const read = (name: string): string | undefined => {
    const p = join(dir, name);
    try {
      return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message}`);
      return undefined;
    }
  };
  const ikeText = read(IKEV2_TABLE_FILE);
  if (ikeText !== undefined) {
    const r = parseIkeTable(ikeText);
    ike.push(...r.entries);
    errors.push(...r.errors);
  }
  const espText = read(ESP_TABLE_FILE);
  if (espText !== undefined) {
    const r = parseEspTable(espText);
    esp.push(...r.entries);
    errors.push(...r.errors);
  }
  if (ikeText === undefined && espText === undefined) errors.push(`${dir}: neither ${IKEV2_TABLE_FILE} nor ${ESP_TABLE_FILE} found`);
  return { ike, esp, errors };
}

// ---------------------------------------------------------------------------------------------
// Writer

const HEADER = (file: string): string =>
  `# ${file} written by tsipsec (Wireshark UAT format). Keys are secrets. Entries stay after their SA is gone: captures need old keys.`;

/**
 * Keeps `ikev2_decryption_table` and `esp_sa` in `dir` up to date. Each add rewrites the file
 * atomically (write to a temporary file, then rename) with mode 0600. Rows already in the files
 * when the writer starts are kept; a row for the same IKE SA (SPIi, SPIr) or ESP SA (dst, SPI) is
 * replaced rather than duplicated. Rows are never removed when SAs are deleted.
 */
export class KeylogWriter {
  readonly dir: string;
  private readonly ikeRows: Map<string, string>;
  private readonly espRows: Map<string, string>;

  constructor(dir: string) {
    if (typeof dir !== 'string' || dir === '') throw new Error('KeylogWriter: dir must be a non-empty path');
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.ikeRows = this.load(IKEV2_TABLE_FILE, (row) => {
      const f = splitRow(row.startsWith(TSIPSEC_COMMENT) ? row.slice(TSIPSEC_COMMENT.length) : row)?.fields;
      return f && f.length >= 2 ? `${f[0]!.toLowerCase()}/${f[1]!.toLowerCase()}` : row;
    });
    this.espRows = this.load(ESP_TABLE_FILE, (row) => {
      const f = splitRow(row)?.fields;
      return f && f.length >= 4 ? `${f[2]}/${f[3]!.toLowerCase()}` : row;
    });
  }

  /** Records an IKE SA's keys (RFC 7296 §2.14). Throws on an unsupported algorithm or bad SPI. */
  addIkeSa(keys: IkeSaKeys): void {
    const line = formatIkeLine(keys);
    this.ikeRows.set(`${spiHex(keys.spiI, 'spiI')}/${spiHex(keys.spiR, 'spiR')}`, line);
    this.flush(IKEV2_TABLE_FILE, this.ikeRows);
  }

  /** Records one direction of an ESP SA. Call it for both the inbound and the outbound SA. */
  addEspSa(sa: EspSaKeys): void {
    const line = formatEspLine(sa);
    this.espRows.set(`${sa.dst}/0x${sa.spi.toString(16).padStart(8, '0')}`, line);
    this.flush(ESP_TABLE_FILE, this.espRows);
  }

  private load(file: string, keyOf: (row: string) => string): Map<string, string> {
    const rows = new Map<string, string>();
    const p = join(this.dir, file);
    if (!existsSync(p)) return rows;
    for (const raw of readFileSync(p, 'utf8').split(/\r?\n/)) {
      const row = raw.trim();
      if (row === '' || (row.startsWith('#') && !row.startsWith(TSIPSEC_COMMENT))) continue;
      rows.set(keyOf(row), row);
    }
    return rows;
  }

  private flush(file: string, rows: Map<string, string>): void {
    const p = join(this.dir, file);
    const tmp = `${p}.tmp-${process.pid}`;
    writeFileSync(tmp, [HEADER(file), ...rows.values()].join('\n') + '\n', { mode: 0o600 });
    chmodSync(tmp, 0o600); // mode is only applied on creation; a stale tmp file could differ
    renameSync(tmp, p);
  }
}
