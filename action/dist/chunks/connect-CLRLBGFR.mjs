import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a,b,c}from"./chunk-SYDUBL2X.mjs";import"./chunk-TBLCUB5G.mjs";import"./chunk-2PYAGR7Y.mjs";export{a as connectForge,b as forgeSettingsFromEnv,c as repositoryOfRemote};
