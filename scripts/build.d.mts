import type { BuildOptions } from 'esbuild';
export declare const actionBuildOptions: BuildOptions;
export declare const cliBuildOptions: BuildOptions;
