export declare const SCHEMA_NAMES: string[];
export declare const TYPES_FILE: string;
export declare function generateTypes(): Promise<string>;
