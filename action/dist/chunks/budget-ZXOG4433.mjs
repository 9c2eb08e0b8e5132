import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a,b}from"./chunk-6J6E6NQS.mjs";import"./chunk-ODJ3R2YL.mjs";import"./chunk-Q4KT5GYC.mjs";import"./chunk-2PYAGR7Y.mjs";export{b as Budget,a as costUsd};
