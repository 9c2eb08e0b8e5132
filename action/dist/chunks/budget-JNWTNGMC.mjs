import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a,b,c}from"./chunk-HU56YUCC.mjs";import"./chunk-VPMB6O63.mjs";import"./chunk-Q4KT5GYC.mjs";import"./chunk-BPU3YCDX.mjs";import"./chunk-PQRHRS2M.mjs";import"./chunk-2PYAGR7Y.mjs";export{c as Budget,a as costUsd,b as nextUtcDay};
