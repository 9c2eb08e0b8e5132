export declare const CONTRACTS: string[];
export declare const VALIDATORS_FILE: string;
export declare function generateValidators(): Promise<string>;
