/**
 * A minimal writer of "newc" cpio archives, the format the kernel unpacks as an initramfs. Each
 * replay appends one small archive holding its program to the rig's base archive: the kernel
 * unpacks concatenated archives one after the other.
 */

export interface CpioEntry {
  name: string;
  data: Buffer;
  /** File mode, e.g. 0o100644 (regular file, rw-r--r--). */
  mode?: number;
}

function header(fields: number[], nameSize: number): string {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  // ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check
  return '070701' + [...fields, nameSize, 0].map(hex).join('');
}

const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);

/** A newc archive of regular files, ending with the TRAILER!!! entry. */
export function cpioArchive(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  const push = (b: Buffer) => {
    parts.push(b);
    offset += b.length;
  };
  const entry = (ino: number, name: string, mode: number, data: Buffer) => {
    const nameBuf = Buffer.from(name + '\0', 'utf8');
    push(Buffer.from(header([ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0], nameBuf.length), 'ascii'));
    push(nameBuf);
    push(pad4(offset));
    push(data);
    push(pad4(offset));
  };
  entries.forEach((e, i) => {
    if (!/^[A-Za-z0-9._/-]+$/.test(e.name) || e.name.includes('..')) throw new Error(`cpio: bad entry name '${e.name}'`);
    entry(i + 1, e.name, e.mode ?? 0o100644, e.data);
  });
  entry(0, 'TRAILER!!!', 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}
