import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a,b,c}from"./chunk-U55MC5HB.mjs";import"./chunk-ERIOVSV3.mjs";import"./chunk-2PYAGR7Y.mjs";export{a as connectForge,b as forgeSettingsFromEnv,c as repositoryOfRemote};
