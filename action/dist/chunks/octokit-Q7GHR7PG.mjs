import { createRequire as __g7CreateRequire } from 'node:module'; const require = __g7CreateRequire(import.meta.url);
import{a}from"./chunk-FG24GDTY.mjs";import"./chunk-TVJVP6MT.mjs";import"./chunk-2PYAGR7Y.mjs";export{a as OctokitForge};
