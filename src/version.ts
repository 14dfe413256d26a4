// Replaced at bundle time by esbuild's define; falls back to the package version when run from source.
declare const __GPB_VERSION__: string | undefined;
export const TOOL_VERSION: string = typeof __GPB_VERSION__ === 'string' ? __GPB_VERSION__ : '0.1.0';
