export declare function markDemoEnd(demo: string): void;
export declare function clearDemo(demo: string, now?: Date): { action: 'none' | 'deleted' } | { action: 'moved'; to: string };
