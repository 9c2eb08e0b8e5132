import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a,b,c,d,e,f}from"./chunk-SV3M47DI.mjs";import"./chunk-BPU3YCDX.mjs";import"./chunk-PQRHRS2M.mjs";import"./chunk-2PYAGR7Y.mjs";export{b as PRIOR_RATES,f as TokenCalibration,d as addProfile,c as profileOf,a as tokensFile,e as tokensFor};
