import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a,b,c}from"./chunk-GOH3OWVK.mjs";import"./chunk-KKFTLPTB.mjs";import"./chunk-Q4KT5GYC.mjs";import"./chunk-2PYAGR7Y.mjs";export{c as Budget,a as costUsd,b as nextUtcDay};
