// Types of bin/dist-status.mjs, for the TypeScript that imports it (tests, the bench).
export declare const ROOT: string;
export declare const DIST: string;
export declare const STAMP: string;
export declare const SOURCE_DIRS: string[];
export declare const SOURCE_FILES: string[];
export declare const SCHEMA_DIR: string;
export declare function sourceFiles(root?: string): string[];
export declare function sha256(path: string): string;
export declare function distStatus(root?: string): { fresh: true; reason?: undefined } | { fresh: false; reason: string };
export declare function makeStamp(root?: string): { note: string; files: Record<string, { size: number; mtimeMs: number; sha256: string }> };
