import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a,b}from"./chunk-TBLCUB5G.mjs";import"./chunk-2PYAGR7Y.mjs";export{a as ForgeError,b as parseRepository};
