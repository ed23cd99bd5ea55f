/** The per-replay initramfs archive: a newc cpio the kernel (and the cpio tool) can read. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cpioArchive } from '../../src/replay/cpio.ts';
import { cpio, requires } from '../requires.ts';

describe('cpioArchive', () => {
  const archive = cpioArchive([{ name: 'program.txt', data: Buffer.from('daxcheck-program 1\n') }, { name: 'a/b', data: Buffer.from('xyz') }]);
  it('writes newc headers, 4-byte aligned, ending with the trailer', () => {
    expect(archive.subarray(0, 6).toString()).toBe('070701');
    expect(archive.length % 4).toBe(0);
    expect(archive.toString('latin1')).toContain('TRAILER!!!');
  });
  requires(cpio()).it('is read back by cpio with the same names and contents', () => {
    const list = spawnSync('cpio', ['-it', '--quiet'], { input: archive, encoding: 'utf8' });
    expect(list.stdout.trim().split('\n')).toEqual(['program.txt', 'a/b']);
    const one = spawnSync('cpio', ['-i', '--to-stdout', '--quiet', 'program.txt'], { input: archive, encoding: 'utf8' });
    expect(one.stdout).toBe('daxcheck-program 1\n');
  });
  it('refuses names that could escape the archive root', () => {
    expect(() => cpioArchive([{ name: '../etc/passwd', data: Buffer.alloc(0) }])).toThrow(/bad entry name/);
    expect(() => cpioArchive([{ name: 'a b', data: Buffer.alloc(0) }])).toThrow(/bad entry name/);
  });
});
