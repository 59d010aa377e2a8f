// Writing an uncompressed zip archive the way PyTorch's writer lays one out: every member's data
// starts on a 64-byte boundary (the local header's extra field is padded with an "FB" record), no
// timestamps, so the same members always give the same bytes.
import { crc32 } from '../util/crc32.js';

export interface ZipMember {
  readonly name: string;
  readonly bytes: Uint8Array;
}

const ALIGN = 64;
const DOS_DATE_1980_01_01 = 0x21;

export function writeZip(members: readonly ZipMember[]): Uint8Array {
  const enc = new TextEncoder();
  const names = members.map((m) => enc.encode(m.name));
  const local: { offset: number; pad: number; crc: number }[] = [];
  let offset = 0;
  members.forEach((m, i) => {
    const fixed = offset + 30 + names[i]!.length + 4;
    const pad = (ALIGN - (fixed % ALIGN)) % ALIGN;
    local.push({ offset, pad, crc: crc32(m.bytes) });
    offset = fixed + pad + m.bytes.length;
  });
  const cdStart = offset;
  const cdSize = names.reduce((a, n) => a + 46 + n.length, 0);
  const total = cdStart + cdSize + 22;
  if (total >= 0xffffffff || members.length >= 0xffff) throw new Error(`a zip of ${members.length} members and ${total} bytes needs zip64, which this writer does not produce`);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  let at = 0;
  const u16 = (v: number) => { dv.setUint16(at, v, true); at += 2; };
  const u32 = (v: number) => { dv.setUint32(at, v, true); at += 4; };
  const put = (b: Uint8Array) => { out.set(b, at); at += b.length; };
  members.forEach((m, i) => {
    const { pad, crc } = local[i]!;
    u32(0x04034b50); u16(20); u16(0x0800); u16(0); u16(0); u16(DOS_DATE_1980_01_01);
    u32(crc); u32(m.bytes.length); u32(m.bytes.length); u16(names[i]!.length); u16(4 + pad);
    put(names[i]!);
    u16(0x4246); u16(pad); // "FB": padding so the data is aligned
    out.fill(0x5a, at, at + pad); at += pad;
    put(m.bytes);
  });
  members.forEach((m, i) => {
    const { offset: off, crc } = local[i]!;
    u32(0x02014b50); u16(20); u16(20); u16(0x0800); u16(0); u16(0); u16(DOS_DATE_1980_01_01);
    u32(crc); u32(m.bytes.length); u32(m.bytes.length); u16(names[i]!.length); u16(0); u16(0);
    u16(0); u16(0); u32(0); u32(off);
    put(names[i]!);
  });
  u32(0x06054b50); u16(0); u16(0); u16(members.length); u16(members.length); u32(cdSize); u32(cdStart); u16(0);
  return out;
}
