import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a,b}from"./chunk-AUH77OIB.mjs";import"./chunk-2PYAGR7Y.mjs";export{b as RateLimiter,a as realClock};
