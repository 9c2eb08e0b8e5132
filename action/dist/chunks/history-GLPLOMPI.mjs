import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a,b,c}from"./chunk-S6U5KXUO.mjs";import"./chunk-YUH5TTTX.mjs";import"./chunk-EGIPDDZW.mjs";import"./chunk-4ITCDDMD.mjs";import"./chunk-BHPWLQE2.mjs";import"./chunk-Q4KT5GYC.mjs";import"./chunk-2PYAGR7Y.mjs";export{b as GATE,a as readHistory,c as stabilityGate};
