import type { BuildOptions, BuildResult } from 'esbuild';
export declare const actionBuildOptions: BuildOptions;
export declare const cliBuildOptions: BuildOptions;
export declare function buildClean(options: BuildOptions): Promise<BuildResult<{ metafile: true }>>;
