/**
 * A spec's declared API surface, read from its sources with ts-morph (no code is run, so any git
 * revision can be read the same way): the system calls, flags, errnos and signals the spec's
 * machine and the builders it imports mention.
 *
 * A spec is a folder under specs/ with a machine.ts; its files are that folder's and the local
 * modules under specs/ they import (the shared application and machine builders), not models/,
 * which every spec shares. Tokens are taken from identifiers and string literals: a system call
 * only from code-like strings (`'fsync'`, `op: 'mmap'`), flags and errnos from any string
 * (`'MAP_SHARED_VALIDATE|MAP_SYNC'`, a property saying "fails with EOPNOTSUPP"). A string the spec
 * passes that names an entry of a table elsewhere (`'shared_validate_sync'` in models/ maps to
 * `'MAP_SHARED_VALIDATE|MAP_SYNC'`) contributes that entry's flags.
 */
import { Node, Project, SyntaxKind, type SourceFile } from 'ts-morph';

export interface Surface {
  syscalls: string[];
  flags: string[];
  errnos: string[];
  signals: string[];
}

export const SURFACE_KINDS: (keyof Surface)[] = ['syscalls', 'flags', 'errnos', 'signals'];

const SYSCALLS = new Set(
  (
    'open openat openat2 creat close read write pread pwrite pread64 pwrite64 readv writev preadv pwritev preadv2 pwritev2 lseek ' +
    'mmap munmap mremap msync madvise process_madvise mprotect mlock munlock fsync fdatasync syncfs sync_file_range ' +
    'ftruncate truncate fallocate ioctl fcntl statx stat fstat lstat link linkat unlink unlinkat rename renameat renameat2 ' +
    'copy_file_range sendfile splice chmod fchmod chown fchown setxattr fsetxattr getxattr fgetxattr removexattr fremovexattr ' +
    'mount umount umount2 memfd_create fadvise64 posix_fadvise userfaultfd'
  ).split(' '),
);

const ERRNOS = new Set(
  (
    'EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM EACCES EFAULT ENOTBLK EBUSY EEXIST EXDEV ' +
    'ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE EDEADLK ' +
    'ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP EWOULDBLOCK ENOMSG EIDRM ENODATA ETIME EOVERFLOW EBADFD EOPNOTSUPP ENOTSUP ' +
    'ETIMEDOUT ESTALE EDQUOT ECANCELED EOWNERDEAD EHWPOISON ENOTRECOVERABLE EUCLEAN EALREADY EINPROGRESS'
  ).split(' '),
);

const SIGNALS = new Set(['SIGBUS', 'SIGSEGV', 'SIGKILL', 'SIGTERM', 'SIGINT']);

const FLAG =
  /^(?:(?:O|MAP|PROT|MS|MSYNC|MADV|FALLOC_FL|FS_IOC|FS_XFLAG|FS|STATX_ATTR|STATX|S|RWF|SYNC_FILE_RANGE|MREMAP|MFD|FL|VM|FAULT_FLAG|IOMAP)_[A-Z0-9_]+|FICLONE|FICLONERANGE|FIDEDUPERANGE)$/;

interface Tokens {
  /** Identifiers: constant names such as EOPNOTSUPP count as errnos; nothing else is taken from them. */
  names: Set<string>;
  /** Strings without spaces and their word parts (`'fsync'`, `'T0.mmap'`, `'MAP_SHARED|MAP_SYNC'`). */
  code: Set<string>;
  /** Words of strings with spaces (titles, promises, property sentences). */
  prose: Set<string>;
}

function tokensOf(file: SourceFile): Tokens {
  const names = new Set<string>();
  const code = new Set<string>();
  const prose = new Set<string>();
  file.forEachDescendant((n) => {
    let text: string | null = null;
    if (Node.isStringLiteral(n) || Node.isNoSubstitutionTemplateLiteral(n)) text = n.getLiteralValue();
    else if (n.getKind() === SyntaxKind.TemplateHead || n.getKind() === SyntaxKind.TemplateMiddle || n.getKind() === SyntaxKind.TemplateTail) {
      text = (n as unknown as { getLiteralText(): string }).getLiteralText();
    } else if (Node.isIdentifier(n)) {
      names.add(n.getText());
      return;
    }
    if (text === null) return;
    if (/\s/.test(text.trim())) {
      for (const w of text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) prose.add(w);
    } else {
      code.add(text);
      for (const w of text.match(/[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
        // 'T0.fsync', 'MAP_SHARED|MAP_SYNC': the parts count as code too.
        code.add(w);
      }
    }
  });
  return { names, code, prose };
}

/** `key → value` of every string-valued property in object literals: tables such as MMAP_FLAG_TEXT. */
function stringTables(files: SourceFile[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of files) {
    for (const p of f.getDescendantsOfKind(SyntaxKind.PropertyAssignment)) {
      const init = p.getInitializer();
      if (!init || !(Node.isStringLiteral(init) || Node.isNoSubstitutionTemplateLiteral(init))) continue;
      const name = p.getNameNode();
      const key = Node.isIdentifier(name) ? name.getText() : Node.isStringLiteral(name) ? name.getLiteralValue() : null;
      if (key && !out.has(key)) out.set(key, init.getLiteralValue());
    }
  }
  return out;
}

function classify(tokens: Tokens, tables: Map<string, string>): Surface {
  const s = { syscalls: new Set<string>(), flags: new Set<string>(), errnos: new Set<string>(), signals: new Set<string>() };
  const caps = (w: string) => {
    if (FLAG.test(w)) s.flags.add(w);
    else if (ERRNOS.has(w)) s.errnos.add(w);
    else if (SIGNALS.has(w)) s.signals.add(w);
  };
  for (const w of tokens.names) {
    if (ERRNOS.has(w)) s.errnos.add(w);
    else if (SIGNALS.has(w)) s.signals.add(w);
  }
  for (const w of tokens.code) {
    if (SYSCALLS.has(w)) s.syscalls.add(w);
    caps(w);
    const mapped = tables.get(w);
    if (mapped) for (const x of mapped.match(/[A-Z][A-Z0-9_]+/g) ?? []) if (FLAG.test(x)) s.flags.add(x);
  }
  for (const w of tokens.prose) caps(w);
  const sorted = (x: Set<string>) => [...x].sort();
  return { syscalls: sorted(s.syscalls), flags: sorted(s.flags), errnos: sorted(s.errnos), signals: sorted(s.signals) };
}

function resolveImport(from: string, spec: string, files: Record<string, string>): string | null {
  if (!spec.startsWith('.')) return null;
  const parts = from.split('/').slice(0, -1);
  for (const seg of spec.split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.') parts.push(seg);
  }
  const p = parts.join('/');
  for (const c of [p, `${p}.ts`, p.replace(/\.js$/, '.ts'), `${p}/index.ts`]) if (c in files) return c;
  return null;
}

/**
 * The surface of every spec in a tree, given its files (path relative to the tree root → text):
 * at least specs/**, and models/** for the tables strings may name.
 */
export function surfaces(files: Record<string, string>): Map<string, Surface> {
  const project = new Project({ useInMemoryFileSystem: true, skipFileDependencyResolution: true, compilerOptions: { noLib: true, noResolve: true } });
  const parsed = new Map<string, SourceFile>();
  const paths = Object.keys(files).filter((p) => p.endsWith('.ts')).sort();
  const get = (p: string) => {
    let f = parsed.get(p);
    if (!f) parsed.set(p, (f = project.createSourceFile(`/${p}`, files[p], { overwrite: true })));
    return f;
  };
  const tables = stringTables(paths.filter((p) => p.startsWith('models/') || p.startsWith('specs/common/')).map(get));
  let specDirs = [...new Set(paths.map((p) => /^specs\/([^/]+)\/machine\.ts$/.exec(p)?.[1]).filter((d): d is string => !!d))].sort();
  // Only the specs the registry lists, when there is one (a folder being written is not a spec yet).
  if ('specs/index.ts' in files) {
    const registered = new Set(
      get('specs/index.ts')
        .getImportDeclarations()
        .map((d) => /^\.\/([^/]+)\//.exec(d.getModuleSpecifierValue())?.[1])
        .filter((d): d is string => !!d),
    );
    specDirs = specDirs.filter((d) => registered.has(d));
  }
  const out = new Map<string, Surface>();
  for (const dir of specDirs) {
    const own = paths.filter((p) => p.startsWith(`specs/${dir}/`));
    const seen = new Set<string>();
    const queue = [...own];
    while (queue.length) {
      const p = queue.shift()!;
      if (seen.has(p)) continue;
      seen.add(p);
      for (const d of get(p).getImportDeclarations()) {
        const target = resolveImport(p, d.getModuleSpecifierValue(), files);
        // Local builders under specs/ are part of what the spec accepts; models/ is shared by all.
        if (target && target.startsWith('specs/') && target !== 'specs/index.ts' && !seen.has(target)) queue.push(target);
      }
    }
    const tokens: Tokens = { names: new Set(), code: new Set(), prose: new Set() };
    for (const p of [...seen].sort()) {
      const t = tokensOf(get(p));
      t.names.forEach((x) => tokens.names.add(x));
      t.code.forEach((x) => tokens.code.add(x));
      t.prose.forEach((x) => tokens.prose.add(x));
    }
    out.set(dir, classify(tokens, tables));
  }
  return out;
}

/** What changed in one spec's surface. */
export interface SurfaceChange {
  spec: string;
  status: 'added' | 'removed' | 'changed';
  added: Partial<Surface>;
  removed: Partial<Surface>;
}

export function compareSurfaces(before: Map<string, Surface>, after: Map<string, Surface>): SurfaceChange[] {
  const out: SurfaceChange[] = [];
  const names = [...new Set([...before.keys(), ...after.keys()])].sort();
  for (const spec of names) {
    const b = before.get(spec);
    const a = after.get(spec);
    if (!b && a) out.push({ spec, status: 'added', added: a, removed: {} });
    else if (b && !a) out.push({ spec, status: 'removed', added: {}, removed: b });
    else if (a && b) {
      const added: Partial<Surface> = {};
      const removed: Partial<Surface> = {};
      for (const k of SURFACE_KINDS) {
        const plus = a[k].filter((x) => !b[k].includes(x));
        const minus = b[k].filter((x) => !a[k].includes(x));
        if (plus.length) added[k] = plus;
        if (minus.length) removed[k] = minus;
      }
      if (Object.keys(added).length || Object.keys(removed).length) out.push({ spec, status: 'changed', added, removed });
    }
  }
  return out;
}
