import type { BuildOptions, BuildResult } from 'esbuild';
export declare const actionBuildOptions: BuildOptions;
/** Files copied from node_modules into action/dist: absolute source and destination paths. */
export declare const actionAssets: { from: string; to: string }[];
export declare const cliBuildOptions: BuildOptions;
export declare function buildClean(options: BuildOptions, assets?: { from: string; to: string }[]): Promise<BuildResult<{ metafile: true }>>;
