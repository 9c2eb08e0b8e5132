import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a,b,c}from"./chunk-AU4JGT37.mjs";import"./chunk-54SXO4VJ.mjs";import"./chunk-Q4KT5GYC.mjs";import"./chunk-2PYAGR7Y.mjs";export{c as Budget,a as costUsd,b as nextUtcDay};
